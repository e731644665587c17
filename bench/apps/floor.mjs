// The runtime's floor for the 1 KiB and 404 cases (run.mjs): bare node:http answering one file's
// bytes, read once at start, from memory, for every request, and a short 404 for /nope-404. No
// file system, no routing.
//   node floor.mjs FILE PORT
import { readFileSync } from 'node:fs';
import http from 'node:http';

const body = readFileSync(process.argv[2]);
const port = Number(process.argv[3] ?? 0);
const NOT_FOUND = Buffer.from('Not found\n');
http
  .createServer((req, res) => {
    if (req.url === '/nope-404') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': NOT_FOUND.length });
      res.end(NOT_FOUND);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'content-length': body.length });
    res.end(body);
  })
  .listen(port, '127.0.0.1');
