// The physical floor for the gateway benchmark: a bare node:http server answering with a fixed JSON body.
import { createServer } from 'node:http';

const body = Buffer.from(process.env.BODY ?? '{}');
createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
