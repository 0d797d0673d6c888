// Azurite helpers for the storage tests, written against the documented
// SharedKey and account-SAS formats (an implementation independent of ours).
//
//   node azure_setup.js container ENDPOINT ACCOUNT KEY NAME   create a container
//   node azure_setup.js sas ACCOUNT KEY                       print an account SAS
'use strict';
const crypto = require('crypto');
const http = require('http');

const [cmd, ...args] = process.argv.slice(2);

function hmac(key, s) {
	return crypto.createHmac('sha256', Buffer.from(key, 'base64')).update(s, 'utf8').digest('base64');
}

if (cmd === 'sas') {
	const [account, key] = args;
	const sv = '2019-12-12';
	const se = new Date(Date.now() + 3600e3).toISOString().replace(/\.\d+Z$/, 'Z');
	const fields = { sp: 'rwdlacup', ss: 'b', srt: 'sco', se, spr: 'https,http', sv };
	const toSign = [account, fields.sp, fields.ss, fields.srt, '', fields.se, '', fields.spr, fields.sv, ''].join('\n');
	fields.sig = hmac(key, toSign);
	console.log(Object.entries(fields).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'));
} else if (cmd === 'container') {
	const [endpoint, account, key, name] = args;
	const url = new URL(`${endpoint}/${name}?restype=container`);
	const date = new Date().toUTCString();
	const version = '2021-08-06';
	const toSign = ['PUT', '', '', '', '', '', '', '', '', '', '', '',
		`x-ms-date:${date}`, `x-ms-version:${version}`,
		`/${account}${url.pathname}\nrestype:container`].join('\n');
	const req = http.request(url, { method: 'PUT', headers: {
		'x-ms-date': date, 'x-ms-version': version, 'Content-Length': 0,
		Authorization: `SharedKey ${account}:${hmac(key, toSign)}` } }, (res) => {
		res.resume();
		res.on('end', () => process.exit(res.statusCode === 201 || res.statusCode === 409 ? 0 : 1));
	});
	req.on('error', (e) => { console.error(e.message); process.exit(1); });
	req.end();
} else {
	console.error('usage: azure_setup.js container|sas ...');
	process.exit(2);
}
