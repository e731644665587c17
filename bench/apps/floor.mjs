// The runtime's floor for the 1 KiB case (run.mjs): bare node:http answering one file's bytes,
// read once at start, from memory, for every request. No file system, no routing.
//   node floor.mjs FILE PORT
import { readFileSync } from 'node:fs';
import http from 'node:http';

const body = readFileSync(process.argv[2]);
const port = Number(process.argv[3] ?? 0);
http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'content-length': body.length });
    res.end(body);
  })
  .listen(port, '127.0.0.1');
