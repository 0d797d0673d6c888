// The LanceDB side of the scan benchmark (run.sh drives it).
//
//   node lancedb_scan.mjs write DB_DIR [ROWS]    write DB_DIR/bench.lance
//   node lancedb_scan.mjs time DB_DIR REPEATS    time the scans, one JSON line each
//
// The dataset is written by the real @lancedb/lancedb in its default file
// format (2.2 for 0.39): ten columns, deterministic values, so every run
// and every reader sees the same rows.  The LanceDB install is found in the
// folder named by $LANCEDB_REF (default: the repository's
// test/interop/.lancedb, where scripts/test.sh installs it).
//
// Each scan runs once untimed, then REPEATS timed times, on one open table
// (warm caches, as the foreign table's best-of-N is); the best time and the
// average CPU time are printed.  The sums
// add the returned Arrow column in JavaScript, inside the timed region:
// that is what a Node user of LanceDB does to get the figure.

import { createRequire } from 'node:module';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const refDir = path.resolve(process.env.LANCEDB_REF || path.join(here, '../../test/interop/.lancedb'));

async function load(name) {
  const require = createRequire(path.join(refDir, 'package.json'));
  let resolved;
  try {
    resolved = require.resolve(name);
  } catch {
    console.error(`lancedb_scan: ${name} is not installed under ${refDir} ` +
      '(set LANCEDB_REF to the folder whose node_modules hold @lancedb/lancedb)');
    process.exit(2);
  }
  return import(pathToFileURL(resolved).href);
}

const lancedb = await load('@lancedb/lancedb');
const arrow = await load('apache-arrow');

const TABLE = 'bench';
const VEC_DIM = 16;
const CATEGORIES = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel',
  'india', 'juliet', 'kilo', 'lima'];

// A small deterministic generator (mulberry32): same rows on every run.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function field(name, type, nullable) {
  return new arrow.Field(name, type, nullable);
}

function schema() {
  return new arrow.Schema([
    field('id', new arrow.Int64(), false),
    field('i', new arrow.Int32(), false),				// small ints: sum(i)
    field('w', new arrow.Int64(), true),				// wide ints, 1% null
    field('r', new arrow.Float32(), false),
    field('f', new arrow.Float64(), false),			// sum(f)
    field('b', new arrow.Bool(), false),
    field('cat', new arrow.Utf8(), false),				// 12 values: dictionary
    field('s', new arrow.Utf8(), false),				// unique text
    field('ts', new arrow.TimestampMicrosecond(), false),
    field('v', new arrow.FixedSizeList(VEC_DIM, field('item', new arrow.Float32(), true)), true),
  ]);
}

// One column's arrow.Data: n values (a bitmap for bool) and a validity bitmap.
function primitive(type, n, values, validity) {
  let nulls = 0;
  if (validity) {
    for (let k = 0; k < n; k++) nulls += ((validity[k >> 3] >> (k & 7)) & 1) ^ 1;
  }
  return arrow.makeData({ type, length: n, nullCount: nulls,
    nullBitmap: nulls ? validity : null, data: values });
}

function columns(n) {
  const r = prng(20240611);
  const id = new BigInt64Array(n);
  const i = new Int32Array(n);
  const w = new BigInt64Array(n);
  const wValid = new Uint8Array((n + 7) >> 3);
  const rr = new Float32Array(n);
  const f = new Float64Array(n);
  const b = new Uint8Array((n + 7) >> 3);
  const cat = new Array(n);
  const s = new Array(n);
  const ts = new BigInt64Array(n);
  const vec = new Float32Array(n * VEC_DIM);
  const t0 = 1700000000000000n;	// 2023-11-14 in microseconds

  for (let k = 0; k < n; k++) {
    id[k] = BigInt(k);
    i[k] = Math.floor(r() * 1000);
    if (k % 100 !== 0) {
      w[k] = BigInt(Math.floor(r() * 2 ** 40)) - 2n ** 39n;
      wValid[k >> 3] |= 1 << (k & 7);
    }
    rr[k] = Math.fround(r() * 200 - 100);
    f[k] = Math.round(r() * 1e8) / 100;
    if (r() < 0.4) b[k >> 3] |= 1 << (k & 7);
    cat[k] = CATEGORIES[Math.floor(r() * CATEGORIES.length)];
    s[k] = `item-${k.toString(36)}-${Math.floor(r() * 1e9).toString(16)}`;
    ts[k] = t0 + BigInt(k) * 1000003n;
    for (let d = 0; d < VEC_DIM; d++) vec[k * VEC_DIM + d] = Math.fround(r() * 2 - 1);
  }

  const sc = schema();
  const t = (name) => sc.fields.find((x) => x.name === name).type;
  const vecType = t('v');
  return [
    primitive(t('id'), n, id),
    primitive(t('i'), n, i),
    primitive(t('w'), n, w, wValid),
    primitive(t('r'), n, rr),
    primitive(t('f'), n, f),
    primitive(t('b'), n, b),
    arrow.vectorFromArray(cat, new arrow.Utf8()).data[0],
    arrow.vectorFromArray(s, new arrow.Utf8()).data[0],
    primitive(t('ts'), n, ts),
    arrow.makeData({ type: vecType, length: n, nullCount: 0,
      child: primitive(vecType.children[0].type, n * VEC_DIM, vec) }),
  ];
}

async function write(dbDir, n) {
  mkdirSync(dbDir, { recursive: true });
  const sc = schema();
  const children = columns(n);
  const data = arrow.makeData({ type: new arrow.Struct(sc.fields), length: n, nullCount: 0, children });
  const table = new arrow.Table(sc, new arrow.RecordBatch(sc, data));
  const db = await lancedb.connect(dbDir);
  await db.createTable(TABLE, table, { mode: 'overwrite' });
  console.error(`wrote ${n} rows to ${path.join(dbDir, TABLE + '.lance')}`);
}

// --- timing ---------------------------------------------------------------

function sumColumn(tbl, name) {
  let sum = 0;
  const col = tbl.getChild(name);
  for (const d of col.data) {
    const v = d.values;
    const end = d.offset + d.length;
    if (typeof v[0] === 'bigint') {
      let s = 0n;
      for (let k = d.offset; k < end; k++) s += v[k];
      sum += Number(s);
    } else {
      for (let k = d.offset; k < end; k++) sum += v[k];
    }
  }
  return sum;
}

// Best time of `repeats` runs, after one untimed run that warms the caches,
// and the CPU time (user + system, every thread of the process) the runs
// took on average.
async function best(repeats, fn) {
  let bestMs = Infinity;
  let result = await fn();
  const cpu0 = process.cpuUsage();
  for (let k = 0; k < repeats; k++) {
    const t0 = process.hrtime.bigint();
    result = await fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    bestMs = Math.min(bestMs, ms);
  }
  const cpu = process.cpuUsage(cpu0);
  return { ms: bestMs, cpuMs: (cpu.user + cpu.system) / 1000 / repeats, result };
}

async function time(dbDir, repeats) {
  const db = await lancedb.connect(dbDir);
  const tbl = await db.openTable(TABLE);
  const report = (scan, { ms, cpuMs, result }, rows) =>
    console.log(JSON.stringify({ scan, ms, cpu_ms: cpuMs, rows, result }));

  const count = await best(repeats, () => tbl.countRows());
  report('count', count, count.result);
  const rows = count.result;

  report('sum_i', await best(repeats, async () =>
    sumColumn(await tbl.query().select(['i']).toArrow(), 'i')), rows);
  report('sum_f', await best(repeats, async () =>
    sumColumn(await tbl.query().select(['f']).toArrow(), 'f')), rows);
  const all = await best(repeats, async () => (await tbl.query().toArrow()).numRows);
  if (all.result !== rows) throw new Error(`full scan returned ${all.result} rows, not ${rows}`);
  report('all', all, rows);
}

const [cmd, dir, arg] = process.argv.slice(2);
if (cmd === 'write' && dir) await write(path.resolve(dir), arg ? parseInt(arg, 10) : 1000000);
else if (cmd === 'time' && dir) await time(path.resolve(dir), arg ? parseInt(arg, 10) : 5);
else {
  console.error('usage: node lancedb_scan.mjs write DB_DIR [ROWS] | time DB_DIR [REPEATS]');
  process.exit(2);
}
