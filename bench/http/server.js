// The Node.js peer of bench/http.sh: node's own `http` module answering GET /health with the
// same bytes as eddy's /health body (headers: Content-Type, Content-Length, CORS), keep-alive on.
const http = require('http');
const body = Buffer.from(process.env.BODY || '{"status":"ok","uptime_ms":0,"checks":{}}');
const server = http.createServer((req, res) => {
  if (req.url === '/health' && req.method === 'GET') {
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': body.length,
      'Access-Control-Allow-Origin': '*',
    });
    res.end(body);
  } else {
    res.writeHead(404, {'Content-Type': 'application/json'});
    res.end('{"error_code":404,"message":"not found"}');
  }
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log('listening on 127.0.0.1:' + server.address().port);
});
