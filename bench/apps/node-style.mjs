// hello world as a node (req, res) app.
export default function (req, res) {
  res.setHeader('content-type', 'text/plain;charset=UTF-8');
  res.end('hello world');
}
