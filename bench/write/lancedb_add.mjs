// LanceDB's own append of the benchmark's rows (gen_rows.awk's values),
// built as Arrow in memory first; only table.add() is timed.
//   node lancedb_add.mjs LANCEDB_REF_DIR DB_DIR ROWS
import { lancedbModules, timeAdd } from './lancedb_timed_add.mjs';

const [refDir, dbDir, rowsArg] = process.argv.slice(2);
const n = Number(rowsArg);
const { lancedb, arrow } = lancedbModules(refDir);

const dim = 128;
const id = new BigInt64Array(n);
const a = new Int32Array(n);
const b = new BigInt64Array(n);
const c = new Float64Array(n);
const d = new Float32Array(n);
const e = [];
const f = [];
const g = [];
const ts = new BigInt64Array(n);
const vec = new Float32Array(n * dim);
const base = BigInt(Date.UTC(2024, 0, 1)) * 1000n;
for (let i = 0; i < n; i++) {
  id[i] = BigInt(i);
  a[i] = i % 1000;
  b[i] = BigInt(i * 7);
  c[i] = Math.round((i / 8) * 1000) / 1000;
  d[i] = (i % 100) / 4;
  e.push(i % 2 === 1);
  f.push(`name-${i}`);
  g.push(`cat-${i % 50}`);
  ts[i] = base + BigInt(i % 60) * 1000000n;
  for (let j = 0; j < dim; j++) vec[i * dim + j] = ((i * 131 + j * 17) % 1000) / 1000;
}
const vecType = new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true));
const table = new arrow.Table({
  id: arrow.makeVector(id),
  a: arrow.makeVector(a),
  b: arrow.makeVector(b),
  c: arrow.makeVector(c),
  d: arrow.makeVector(d),
  e: arrow.vectorFromArray(e, new arrow.Bool()),
  f: arrow.vectorFromArray(f, new arrow.Utf8()),
  g: arrow.vectorFromArray(g, new arrow.Utf8()),
  ts: arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMicrosecond(), length: n, data: ts })),
  vec: arrow.makeVector(arrow.makeData({
    type: vecType, length: n, nullCount: 0,
    child: arrow.makeData({ type: new arrow.Float32(), length: n * dim, data: vec }),
  })),
});

await timeAdd(lancedb, dbDir, table);
