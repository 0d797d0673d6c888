#!/usr/bin/env node
// make_edge_fixtures.mjs -- tiny LanceDB-written tables whose pages take
// the constant layout: one distinct value per page, with repetition and
// definition levels beside it, which the standard fixtures never produce.
//
//   node test/interop/make_edge_fixtures.mjs LANCEDB_REF_DIR OUTDIR
//
// compare_core.sh makes these itself and compares them like any fixture.
// Each table has list<utf8> and fixed_size_binary(4) columns:
//   edge_one_vX      one row, ['z'] and a null (list constant with rep levels)
//   edge_same_vX     four rows of ['z'], the binary alternating value / null
//                    (a scalar with def levels)
//   edge_nulls_vX    a null list, an empty list and a list of two
//   edge_gaps_vX     ['z'] lists beside a null and an empty list (a scalar
//                    with both rep and def levels)
//   edge_nullitems_vX  lists of null items only (levels and no scalar)
// written as file versions 2.1 and 2.2.
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as path from "node:path";

const [refdir, out] = process.argv.slice(2);
if (!refdir || !out) {
  process.stderr.write("usage: make_edge_fixtures.mjs LANCEDB_REF_DIR OUTDIR\n");
  process.exit(2);
}
const require = createRequire(path.resolve(refdir) + "/");
const lancedb = require("@lancedb/lancedb");
const arrow = require("apache-arrow");
const F = (n, t, nullable = true) => new arrow.Field(n, t, nullable);
const schema = new arrow.Schema([
  F("id", new arrow.Int32(), false),
  F("ls", new arrow.List(F("item", new arrow.Utf8()))),
  F("fsb", new arrow.FixedSizeBinary(4)),
]);
const b4 = Uint8Array.from([1, 2, 3, 4]);
const tables = {
  one: { id: [1], ls: [["z"]], fsb: [null] },
  same: { id: [1, 2, 3, 4], ls: [["z"], ["z"], ["z"], ["z"]], fsb: [b4, null, b4, null] },
  nulls: { id: [1, 2, 3], ls: [null, ["a", "b"], []], fsb: [null, null, null] },
  gaps: { id: [1, 2, 3, 4], ls: [["z"], null, [], ["z", "z"]], fsb: [b4, b4, null, b4] },
  nullitems: { id: [1, 2], ls: [[null], [null, null]], fsb: [null, b4] },
};
function ipcBytes(c) {
  const vectors = schema.fields.map((f) => arrow.vectorFromArray(c[f.name], f.type));
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: vectors[0].length, nullCount: 0,
    children: vectors.map((v) => v.data[0]) });
  return Buffer.from(arrow.tableToIPC(new arrow.Table(schema, new arrow.RecordBatch(schema, data)), "file"));
}
fs.mkdirSync(out, { recursive: true });
const db = await lancedb.connect(out);
const made = [];
for (const ver of ["2.1", "2.2"]) {
  for (const [what, cols] of Object.entries(tables)) {
    const name = `edge_${what}_v${ver.replace(".", "_")}`;
    await db.inner.createTable(name, ipcBytes(cols), "overwrite", [], { new_table_data_storage_version: ver });
    made.push({ table: `${name}.lance`, what: `constant-layout edge case ${what}, file version ${ver}` });
  }
}
fs.writeFileSync(path.join(out, "fixtures.json"), JSON.stringify(made, null, 2) + "\n");
