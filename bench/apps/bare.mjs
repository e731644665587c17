// The baseline: the same hello-world answer on bare node:http.
import http from 'node:http';
const port = Number(process.argv[2] ?? 0);
http
  .createServer((req, res) => {
    res.setHeader('content-type', 'text/plain;charset=UTF-8');
    res.end('hello world');
  })
  .listen(port, '127.0.0.1', () => console.log(`bare listening on http://127.0.0.1:${port}/`));
