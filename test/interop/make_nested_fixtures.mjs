#!/usr/bin/env node
// make_nested_fixtures.mjs -- extra LanceDB-written tables for the reader's
// interop test: nested and wide types in pages big enough for several
// mini-block chunks and pages per column, which the standard fixtures
// (lancedb_ref.mjs make-fixtures) do not reach.
//
//   node test/interop/make_nested_fixtures.mjs LANCEDB_REF_DIR OUTDIR
//   test/interop/compare_core.sh OUTDIR LANCEDB_REF_DIR
//
// LANCEDB_REF_DIR is the folder where @lancedb/lancedb and apache-arrow are
// installed (the one holding lancedb_ref.mjs).  Writes nested_v2_0/1/2:
// list<int32>, list<utf8>, list<list<int64>>, list<struct>, struct with a
// nested struct and a list member, fixed_size_list<float,8> and <float,200>
// with null items, binary up to 40 KB, uint8/int16/uint64, decimal,
// fixed_size_binary and doubles with NaN and -0; 45 000 rows in two
// fragments, then a delete (Roaring and Arrow deletion files).
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as path from "node:path";

const [refdir, out] = process.argv.slice(2);
if (!refdir || !out) {
  process.stderr.write("usage: make_nested_fixtures.mjs LANCEDB_REF_DIR OUTDIR\n");
  process.exit(2);
}
const require = createRequire(path.resolve(refdir) + "/");
const lancedb = require("@lancedb/lancedb");
const arrow = require("apache-arrow");
const F = (n, t, nullable = true) => new arrow.Field(n, t, nullable);
function prng(seed) { let s = seed >>> 0; return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; }; }
function schema(ver) {
  const f = [
    F("id", new arrow.Int32(), false),
    F("li", new arrow.List(F("item", new arrow.Int32()))),
    F("lstr", new arrow.List(F("item", new arrow.Utf8()))),
    F("ll", new arrow.List(F("item", new arrow.List(F("item", new arrow.Int64()))))),
    F("lst", new arrow.List(F("item", new arrow.Struct([F("a", new arrow.Int32()), F("b", new arrow.Utf8())])))),
    F("st", new arrow.Struct([F("x", new arrow.Float64()), F("inner", new arrow.Struct([F("z", new arrow.Int16())])), F("tags", new arrow.List(F("item", new arrow.Utf8())))])),
    F("v8", new arrow.FixedSizeList(8, F("item", new arrow.Float32(), true))),
    F("v200", new arrow.FixedSizeList(200, F("item", new arrow.Float32(), true))),
    F("blob", new arrow.Binary()),
    F("u8", new arrow.Uint8()), F("i16", new arrow.Int16()), F("u64", new arrow.Uint64()),
    F("dec", new arrow.Decimal(4, 12, 128)),
    F("fsb", new arrow.FixedSizeBinary(3)),
    F("hf", new arrow.Float64()),
  ];
  return new arrow.Schema(f);
}
function cols(a, b, ver) {
  const r = prng(99 + a);
  const c = {};
  for (const f of schema(ver).fields) c[f.name] = [];
  const nullStruct = ver !== "2.0";
  for (let k = a; k < b; k++) {
    c.id.push(k);
    c.li.push(k % 11 === 0 ? null : Array.from({ length: k % 7 }, (_, j) => (j === 3 ? null : k * 10 + j)));
    c.lstr.push(k % 13 === 0 ? null : Array.from({ length: k % 5 }, (_, j) => (j === 2 && k % 3 ? null : `w${(k * 31 + j) % 1000}_${"z".repeat(j)}`)));
    c.ll.push(k % 17 === 0 ? null : Array.from({ length: k % 4 }, (_, j) => (j === 1 && k % 2 ? null : Array.from({ length: (k + j) % 3 }, (_, m) => BigInt(k * 100 + j * 10 + m)))));
    c.lst.push(k % 19 === 0 ? null : Array.from({ length: k % 3 }, (_, j) => (j === 1 && k % 5 === 0 && nullStruct ? null : { a: k + j, b: (k + j) % 4 === 0 ? null : `b${k}` })));
    c.st.push(k % 23 === 0 && nullStruct ? null : { x: k % 29 === 0 ? null : k / 3, inner: (k % 31 === 0 && nullStruct) ? null : { z: k % 37 === 0 ? null : (k % 30000) }, tags: k % 41 === 0 ? null : [`t${k % 9}`] });
    c.v8.push(k % 43 === 0 ? null : Array.from({ length: 8 }, (_, j) => (j === 5 && k % 47 === 0 ? null : Math.fround(r() - 0.5))));
    c.v200.push(k % 53 === 0 ? null : Array.from({ length: 200 }, () => Math.fround(r())));
    c.blob.push(k % 59 === 0 ? null : Uint8Array.from({ length: k % 997 === 5 ? 40000 : k % 50 }, (_, j) => (j * 7 + k) & 255));
    c.u8.push(k % 61 === 0 ? null : k & 255);
    c.i16.push(k % 67 === 0 ? null : ((k * 37) % 65536) - 32768);
    c.u64.push(k % 71 === 0 ? null : BigInt(k) * 123456789123n);
    c.dec.push(null);
    c.fsb.push(k % 73 === 0 ? null : Uint8Array.from([k & 255, (k >> 8) & 255, 7]));
    c.hf.push(k % 79 === 0 ? null : (k % 5 === 0 ? NaN : k % 7 === 0 ? -0 : k * 1e-9));
  }
  return c;
}
function ipcBytes(schema, c) {
  const vectors = schema.fields.map((f) => arrow.vectorFromArray(c[f.name], f.type));
  const n = vectors[0].length;
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children: vectors.map((v) => v.data[0]) });
  return Buffer.from(arrow.tableToIPC(new arrow.Table(schema, new arrow.RecordBatch(schema, data)), "file"));
}
fs.mkdirSync(out, { recursive: true });
const db = await lancedb.connect(out);
const made = [];
for (const ver of ["2.0", "2.1", "2.2"]) {
  const name = `nested_v${ver.replace(".", "_")}`;
  const sc = schema(ver);
  await db.inner.createTable(name, ipcBytes(sc, cols(0, 30000, ver)), "overwrite", [], { new_table_data_storage_version: ver });
  const t = await db.openTable(name);
  await t.inner.add(ipcBytes(sc, cols(30000, 45000, ver)), "append");
  await t.delete("id % 97 = 3 OR (id >= 1000 AND id < 8000)");
  made.push({ table: `${name}.lance`, what: `nested and wide types, file version ${ver}` });
  process.stderr.write(`made ${name}\n`);
}
fs.writeFileSync(path.join(out, "fixtures.json"), JSON.stringify(made, null, 2) + "\n");
