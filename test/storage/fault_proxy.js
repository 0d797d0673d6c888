// A fault-injecting HTTP proxy for the storage tests, on 127.0.0.1 only.
//
//   node fault_proxy.js LISTEN_PORT TARGET_PORT
//
// Forwards every request to 127.0.0.1:TARGET_PORT unchanged (the Host
// header too, so signatures still verify), printing "METHOD URL" for each
// (so a test can count requests), except:
//   .../flaky503/...     the first two requests for each path get 503
//   .../dropped/...      the connection is closed without an answer
//   .../wrongregion/...  301 PermanentRedirect naming region eu-west-1
//   .../stalled/...      the request is read and never answered
//   .../stalled-data/.../data/...  data-file requests are read and never
//                        answered, the rest forwarded (a store that hangs
//                        mid-scan, for statement_timeout and a stopped server)
'use strict';
const http = require('http');

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
const seen = new Map();

const server = http.createServer((req, res) => {
	console.log(`${req.method} ${req.url}`);
	if (req.url.includes('/dropped/')) {
		req.socket.destroy();
		return;
	}
	if (req.url.includes('/stalled/') ||
		(req.url.includes('/stalled-data/') && req.url.includes('/data/'))) {
		req.resume();
		return;
	}
	if (req.url.includes('/wrongregion/')) {
		res.writeHead(301, { 'x-amz-bucket-region': 'eu-west-1', 'content-type': 'application/xml' });
		res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code>' +
			'<Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>');
		return;
	}
	if (req.url.includes('/flaky503/')) {
		const path = req.url.split('?')[0];
		const n = (seen.get(path) || 0) + 1;
		seen.set(path, n);
		if (n <= 2) {
			req.resume();
			res.writeHead(503, { 'content-type': 'application/xml' });
			res.end('<Error><Code>SlowDown</Code></Error>');
			return;
		}
	}
	const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url,
		headers: req.headers }, (ur) => {
		res.writeHead(ur.statusCode, ur.headers);
		ur.pipe(res);
	});
	up.on('error', () => req.socket.destroy());
	req.pipe(up);
});
server.listen(listenPort, '127.0.0.1', () => console.log(`fault proxy on ${listenPort}`));
