// A small mock of the GCS XML API for the storage tests, on 127.0.0.1 only.
//
//   node gcs_mock.js PORT PUBLIC_KEY_PEM CLIENT_EMAIL HMAC_ID HMAC_SECRET [PAGE_SIZE
//                    [TEMP_ID TEMP_SECRET SESSION_TOKEN]]
//
// No GCS emulator can be installed here, so this mock stands in for one.
// It checks credentials the way GCS does and refuses anything else:
//   - "Authorization: Bearer <JWT>": a self-signed service-account JWT,
//     RS256 over header.claims under the account's public key, with
//     iss = sub = CLIENT_EMAIL, a devstorage or cloud-platform scope, iat not in the future
//     and exp in the future (at most an hour after iat);
//   - "AWS4-HMAC-SHA256" (S3-interoperable HMAC keys): the SigV4 signature
//     recomputed from the request as received, and the payload hash checked
//     against the body.  The optional temporary credentials stand for AWS
//     STS ones, which no local S3 server checks: requests signed with
//     TEMP_ID must carry x-amz-security-token = SESSION_TOKEN, signed.
// Objects live in memory in one bucket, "lance-it".  Supported: GET (with
// Range) and HEAD of objects, PUT (x-goog-if-generation-match: 0 -> 412
// when the object exists), DELETE, list-type=2 listings with prefix,
// delimiter and continuation tokens (PAGE_SIZE keys a page), and XML
// multipart uploads.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');

const [port, pubPath, clientEmail, hmacId, hmacSecret, pageSizeArg, tempId, tempSecret,
	sessionToken] = process.argv.slice(2);
const publicKey = crypto.createPublicKey(fs.readFileSync(pubPath));
const pageSize = Number(pageSizeArg || 1000);
const BUCKET = 'lance-it';
const objects = new Map();		// key -> Buffer
const meta = new Map();			// key -> { etag, generation, modified }
const uploads = new Map();		// uploadId -> Map(partNumber -> Buffer)
let generation = 1;

// Store an object with the metadata GCS keeps (object_store needs the ETag
// and the modification time on every answer).
function store(key, data) {
	objects.set(key, data);
	meta.set(key, { etag: `"${crypto.createHash('md5').update(data).digest('hex')}"`,
		generation: String(generation++), modified: new Date() });
}

function metaHeaders(key) {
	const m = meta.get(key);
	return { etag: m.etag, 'last-modified': m.modified.toUTCString(), 'x-goog-generation': m.generation };
}

function xmlEscape(s) {
	return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function sendError(res, status, code) {
	res.writeHead(status, { 'content-type': 'application/xml' });
	res.end(`<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code></Error>`);
}

function b64urlDecode(s) {
	return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function checkJwt(token) {
	const parts = token.split('.');
	if (parts.length !== 3) return 'malformed JWT';
	const header = JSON.parse(b64urlDecode(parts[0]).toString());
	const claims = JSON.parse(b64urlDecode(parts[1]).toString());
	if (header.alg !== 'RS256') return 'alg is not RS256';
	const ok = crypto.verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey,
		b64urlDecode(parts[2]));
	if (!ok) return 'bad signature';
	const now = Math.floor(Date.now() / 1000);
	if (claims.iss !== clientEmail || claims.sub !== clientEmail) return 'wrong issuer';
	// GCS takes a storage scope or the all-of-cloud one (object_store's)
	if (typeof claims.scope !== 'string' || !claims.scope.split(' ').some((s) =>
		s.startsWith('https://www.googleapis.com/auth/devstorage.') ||
		s === 'https://www.googleapis.com/auth/cloud-platform')) return 'no storage scope';
	if (!(claims.exp > now) || claims.iat > now + 60 || claims.exp - claims.iat > 3600) return 'expired';
	return null;
}

function rfc3986(s) {
	return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function checkSigV4(req, auth, body) {
	const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
	if (!m) return 'malformed authorization';
	const [, id, date, region, service, signed, signature] = m;
	let secret = hmacSecret;
	if (tempId && id === tempId) {
		secret = tempSecret;
		if (req.headers['x-amz-security-token'] !== sessionToken) return 'bad or missing session token';
		if (!signed.split(';').includes('x-amz-security-token')) return 'session token not signed';
	} else if (id !== hmacId) return 'unknown access id';
	const payload = req.headers['x-amz-content-sha256'];
	if (!payload) return 'no payload hash';
	if (payload !== 'UNSIGNED-PAYLOAD' && payload !== crypto.createHash('sha256').update(body).digest('hex'))
		return 'payload hash mismatch';
	const [path, query = ''] = req.url.split('?');
	const canonQuery = query === '' ? '' : query.split('&').map((kv) => {
		const i = kv.indexOf('=');
		const k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
		const v = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1));
		return [rfc3986(k), rfc3986(v)];
	}).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
		.map(([k, v]) => `${k}=${v}`).join('&');
	const names = signed.split(';');
	if (!names.includes('host') || !names.includes('x-amz-date')) return 'host and date must be signed';
	const canonHeaders = names.map((n) => `${n}:${String(req.headers[n] || '').trim()}\n`).join('');
	const canonical = [req.method, path, canonQuery, canonHeaders, signed, payload].join('\n');
	const toSign = ['AWS4-HMAC-SHA256', req.headers['x-amz-date'], `${date}/${region}/${service}/aws4_request`,
		crypto.createHash('sha256').update(canonical).digest('hex')].join('\n');
	const h = (k, s) => crypto.createHmac('sha256', k).update(s).digest();
	const key = h(h(h(h('AWS4' + secret, date), region), service), 'aws4_request');
	if (h(key, toSign).toString('hex') !== signature) return 'signature mismatch';
	return null;
}

function authorize(req, body) {
	const auth = req.headers.authorization || '';
	if (auth.startsWith('Bearer ')) return checkJwt(auth.slice(7));
	if (auth.startsWith('AWS4-HMAC-SHA256 ')) return checkSigV4(req, auth, body);
	return 'anonymous';
}

function list(res, params) {
	const prefix = params.get('prefix') || '';
	const delimiter = params.get('delimiter');
	const after = params.get('continuation-token') || '';
	const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
	const entries = [];	// [sortKey, xml]
	const seen = new Set();
	for (const k of keys) {
		const rest = k.slice(prefix.length);
		const cut = delimiter ? rest.indexOf(delimiter) : -1;
		if (cut >= 0) {
			const p = prefix + rest.slice(0, cut + 1);
			if (!seen.has(p)) {
				seen.add(p);
				entries.push([p, `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`]);
			}
		} else {
			const m = meta.get(k);
			entries.push([k, `<Contents><Key>${xmlEscape(k)}</Key><Generation>${m.generation}</Generation>` +
				`<LastModified>${m.modified.toISOString()}</LastModified><ETag>${xmlEscape(m.etag)}</ETag>` +
				`<Size>${objects.get(k).length}</Size></Contents>`]);
		}
	}
	const todo = entries.filter(([k]) => k > after);
	const page = todo.slice(0, Math.min(pageSize, Number(params.get('max-keys') || pageSize)));
	const truncated = todo.length > page.length;
	res.writeHead(200, { 'content-type': 'application/xml' });
	res.end(`<?xml version='1.0' encoding='UTF-8'?><ListBucketResult><Name>${BUCKET}</Name>` +
		`<Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount>` +
		`<IsTruncated>${truncated}</IsTruncated>` +
		(truncated ? `<NextContinuationToken>${xmlEscape(page[page.length - 1][0])}</NextContinuationToken>` : '') +
		page.map(([, x]) => x).join('') + '</ListBucketResult>');
}

const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const body = Buffer.concat(chunks);
		const why = authorize(req, body);
		if (why) {
			console.log(`403 ${req.method} ${req.url.split('?')[0]}: ${why}`);
			return sendError(res, 403, 'AccessDenied');
		}
		const url = new URL(req.url, 'http://127.0.0.1');
		const params = url.searchParams;
		const segs = url.pathname.split('/');
		const bucket = decodeURIComponent(segs[1] || '');
		const key = segs.slice(2).map(decodeURIComponent).join('/');
		if (bucket !== BUCKET) return sendError(res, 404, 'NoSuchBucket');
		if (key === '') {
			if (req.method === 'GET' && params.get('list-type') === '2') return list(res, params);
			return sendError(res, 400, 'InvalidArgument');
		}
		if (req.method === 'POST' && params.has('uploads')) {
			const id = crypto.randomBytes(8).toString('hex');
			uploads.set(id, new Map());
			res.writeHead(200, { 'content-type': 'application/xml' });
			return res.end(`<InitiateMultipartUploadResult><Bucket>${BUCKET}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
		}
		if (req.method === 'PUT' && params.has('partNumber')) {
			const parts = uploads.get(params.get('uploadId'));
			if (!parts) return sendError(res, 404, 'NoSuchUpload');
			parts.set(Number(params.get('partNumber')), body);
			res.writeHead(200, { etag: `"${crypto.createHash('md5').update(body).digest('hex')}"` });
			return res.end();
		}
		if (req.method === 'POST' && params.has('uploadId')) {
			const parts = uploads.get(params.get('uploadId'));
			if (!parts) return sendError(res, 404, 'NoSuchUpload');
			const numbers = [...body.toString().matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
			store(key, Buffer.concat(numbers.map((n) => parts.get(n))));
			uploads.delete(params.get('uploadId'));
			res.writeHead(200, { 'content-type': 'application/xml', ...metaHeaders(key) });
			return res.end(`<CompleteMultipartUploadResult><Key>${xmlEscape(key)}</Key></CompleteMultipartUploadResult>`);
		}
		if (req.method === 'DELETE' && params.has('uploadId')) {
			uploads.delete(params.get('uploadId'));
			res.writeHead(204);
			return res.end();
		}
		if (req.method === 'PUT') {
			// GCS's precondition, and S3's for clients signing as S3
			if ((req.headers['x-goog-if-generation-match'] === '0' || req.headers['if-none-match'] === '*') &&
				objects.has(key))
				return sendError(res, 412, 'PreconditionFailed');
			store(key, body);
			res.writeHead(200, metaHeaders(key));
			return res.end();
		}
		if (req.method === 'DELETE') {
			if (!objects.has(key)) return sendError(res, 404, 'NoSuchKey');
			objects.delete(key);
			meta.delete(key);
			res.writeHead(204);
			return res.end();
		}
		if (req.method === 'GET' || req.method === 'HEAD') {
			const data = objects.get(key);
			if (!data) return sendError(res, 404, 'NoSuchKey');
			const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range || '');
			if (!m) {
				res.writeHead(200, { 'content-length': data.length, ...metaHeaders(key) });
				return res.end(req.method === 'HEAD' ? undefined : data);
			}
			const start = Number(m[1]);
			const end = Math.min(Number(m[2]), data.length - 1);
			if (start >= data.length) return sendError(res, 416, 'InvalidRange');
			res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${data.length}`,
				'content-length': end - start + 1, ...metaHeaders(key) });
			return res.end(data.subarray(start, end + 1));
		}
		return sendError(res, 405, 'MethodNotAllowed');
	});
});
server.listen(Number(port), '127.0.0.1', () => console.log(`gcs mock on ${port}`));
