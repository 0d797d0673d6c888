// LanceDB against the loopback object stores, for the storage interop check.
//
//   node lancedb_store.mjs write DB_URI TABLE OPTIONS_JSON   create TABLE (2 versions, a delete)
//   node lancedb_store.mjs sum DB_URI TABLE OPTIONS_JSON     print {"rows": N, "sum": S}
//   node lancedb_store.mjs dump DB_URI TABLE OPTIONS_JSON    print "id|name|score" lines by id
//   node lancedb_store.mjs append DB_URI TABLE OPTIONS_JSON  add rows 20000..20009 (a new version)
//   node lancedb_store.mjs bench DB_URI TABLE ROWS           a benchmark table, 100k rows a fragment
//
// DB_URI is s3://bucket/prefix or az://container/prefix; OPTIONS_JSON is
// LanceDB's storageOptions (endpoint, credentials, allow_http, ...).  Run
// with NODE_PATH-free resolution: the script is copied next to the
// node_modules that holds @lancedb/lancedb before it runs.
import * as lancedb from "@lancedb/lancedb";

const [cmd, uri, table, optsJson] = process.argv.slice(2);
const storageOptions = cmd === "bench" ? {} : JSON.parse(optsJson);
const rows = (from, n) => Array.from({ length: n }, (_, i) => ({
	id: BigInt(from + i), name: `row ${from + i}`, score: (from + i) / 4,
}));

async function main() {
	const db = await lancedb.connect(uri, { storageOptions });
	if (cmd === "write") {
		const t = await db.createTable(table, rows(0, 3000), { mode: "overwrite" });
		await t.add(rows(3000, 2000));
		await t.delete("id % 100 = 7");
		console.log(JSON.stringify({ rows: await t.countRows() }));
	} else if (cmd === "bench") {
		const total = Number(optsJson);
		const rows = (from, n) => Array.from({ length: n }, (_, i) => ({
			id: BigInt(from + i), name: `row number ${from + i}`, score: (from + i) * 0.5,
			vec: Array.from({ length: 16 }, (_, d) => Math.sin(from + i + d)),
		}));
		const t = await db.createTable(table, rows(0, Math.min(100000, total)), { mode: "overwrite" });
		for (let from = 100000; from < total; from += 100000)
			await t.add(rows(from, Math.min(100000, total - from)));
		console.log(JSON.stringify({ rows: await t.countRows() }));
	} else if (cmd === "append") {
		const t = await db.openTable(table);
		await t.add(rows(20000, 10));
		console.log(JSON.stringify({ rows: await t.countRows() }));
	} else if (cmd === "dump") {
		const t = await db.openTable(table);
		const out = [];
		for await (const batch of t.query().select(["id", "name", "score"])) {
			const [id, name, score] = ["id", "name", "score"].map((c) => batch.getChild(c));
			for (let i = 0; i < batch.numRows; i++)
				out.push([BigInt(id.get(i)), `${id.get(i)}|${name.get(i)}|${score.get(i)}`]);
		}
		out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
		console.log(out.map((r) => r[1]).join("\n"));
	} else if (cmd === "sum") {
		const t = await db.openTable(table);
		let sum = 0n;
		let n = 0;
		for await (const batch of t.query().select(["id"])) {
			const col = batch.getChild("id");
			for (let i = 0; i < col.length; i++) {
				sum += BigInt(col.get(i));
				n++;
			}
		}
		console.log(JSON.stringify({ rows: n, sum: sum.toString() }));
	} else {
		throw new Error(`unknown command ${cmd}`);
	}
}
main().catch((e) => { console.error(e.message || e); process.exit(2); });
