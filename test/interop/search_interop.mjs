// Flat nearest-neighbour search through Lance foreign tables against
// LanceDB's own exact search (bypassVectorIndex), for many random queries,
// every metric both sides have, with filters, deleted rows and several
// fragments.  One test per (dataset, metric, filter, query, k); prints
// "N passed, N failed".
//
//   node search_interop.mjs LANCEDB_REF FIXTURES_DIR
//
// LANCEDB_REF is the folder of lancedb_ref.mjs and its node_modules; the
// connection comes from PGHOST/PGPORT/PGUSER/PGDATABASE.
//
// Metric conventions differ: LanceDB's l2 is the squared distance, its dot
// is 1 - q.x, while `<->` is the root and `<#>` is -q.x; ours are mapped to
// LanceDB's before comparing.  Both sides sum float32 products in their own
// order, so distances agree to a few float32 ulps, not bit for bit, and two
// rows whose distances are that close may swap places: ids are compared
// exactly except at such ties.
//
// Then the indexed search: search_index_interop.mjs.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { runIndexTests } from './search_index_interop.mjs';

const [refScript, fixturesDir] = process.argv.slice(2);
if (!refScript || !fixturesDir) {
  console.error('usage: node search_interop.mjs LANCEDB_REF FIXTURES_DIR');
  process.exit(2);
}
const refDir = path.dirname(path.resolve(refScript));
const require = createRequire(path.join(refDir, 'package.json'));
const lancedb = require('@lancedb/lancedb');
const arrow = require('apache-arrow');

const METRICS = {
  l2: { op: '<->', toLance: (d) => d * d },
  cosine: { op: '<=>', toLance: (d) => d },
  dot: { op: '<#>', toLance: (d) => 1 + d },
};

let passed = 0;
let failed = 0;
function report(name, problem) {
  if (problem === null) {
    passed++;
  } else {
    failed++;
    console.log(`FAIL ${name}: ${problem}`);
  }
}

// A small deterministic generator, so a failure can be replayed.
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
function randomVector(r, dim) {
  return Array.from({ length: dim }, () => Math.fround(r() * 2 - 1));
}

// Our ranking against LanceDB's: same length, distances within tolerance
// rank by rank, and the same ids except among rows tied within tolerance
// with the last one kept.
function compare(ours, theirs, k) {
  if (ours.length !== theirs.length) return `${ours.length} rows, LanceDB ${theirs.length}`;
  const tol = (a, b) => 2e-5 * Math.max(1, Math.abs(a), Math.abs(b));
  for (let i = 0; i < ours.length; i++) {
    if (Math.abs(ours[i].d - theirs[i].d) > tol(ours[i].d, theirs[i].d))
      return `rank ${i}: distance ${ours[i].d} (id ${ours[i].id}), LanceDB ${theirs[i].d} (id ${theirs[i].id})`;
  }
  if (ours.length < k) return ours.map((o) => o.id).sort().join() === theirs.map((t) => t.id).sort().join()
    ? null : 'different ids though every row was returned';
  const last = theirs[theirs.length - 1].d;
  const theirIds = new Set(theirs.map((t) => t.id));
  for (const o of ours) {
    if (!theirIds.has(o.id) && Math.abs(o.d - last) > tol(o.d, last))
      return `id ${o.id} at distance ${o.d} is not in LanceDB's top ${k} (last ${last})`;
  }
  return null;
}

async function ourSearch(client, table, metric, q, k, where) {
  const sql = `SELECT id, vec ${METRICS[metric].op} $1::vector AS d FROM ${table}` +
    (where ? ` WHERE ${where}` : '') + ` ORDER BY d LIMIT ${k}`;
  const res = await client.query(sql, [`[${q.join(',')}]`]);
  return res.rows.map((r) => ({ id: Number(r.id), d: METRICS[metric].toLance(Number(r.d)) }));
}

async function lanceSearch(tbl, metric, q, k, where) {
  let query = tbl.vectorSearch(Float32Array.from(q)).column('vec').distanceType(metric)
    .bypassVectorIndex().select(['id', '_distance']).limit(k);
  if (where) query = query.where(where);
  const rows = await query.toArray();
  return rows.map((r) => ({ id: Number(r.id), d: Number(r._distance) }));
}

// The reference driver's own exact search, for a few unfiltered queries.
function refSearch(dir, metric, q, k) {
  const out = execFileSync('node', [refScript, 'search', dir, 'vec', JSON.stringify(q), String(k),
    '--metric', metric], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l).map((l) => JSON.parse(l))
    .map((r) => ({ id: Number(r.id), d: Number(r._distance) }));
}

// A dataset with deletions across three fragments: 3 x 1500 rows of 32-dim
// vectors, then every 7th row and a run of 100 deleted.
async function makeDeletedDataset(dir) {
  const db = await lancedb.connect(dir);
  const dim = 32;
  const schema = new arrow.Schema([
    new arrow.Field('id', new arrow.Int32(), false),
    new arrow.Field('label', new arrow.Utf8(), true),
    new arrow.Field('vec', new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true)), true),
  ]);
  const rows = (a, b) => {
    const out = [];
    for (let i = a; i < b; i++) out.push({ id: i, label: `v${i % 5}`, vec: randomVector(prng(5000 + i), dim) });
    return out;
  };
  const tbl = await db.createTable('deleted_vectors', rows(0, 1500), { schema });
  await tbl.add(rows(1500, 3000));
  await tbl.add(rows(3000, 4500));
  await tbl.delete('id % 7 = 3 OR (id >= 2500 AND id < 2600)');
  return tbl;
}

async function main() {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lance_search_'));
  chmodSync(scratch, 0o755);
  const client = new pg.Client();
  await client.connect();
  try {
    const made = await makeDeletedDataset(scratch);
    const fixtures = await lancedb.connect(fixturesDir);
    const tables = [
      { name: 'vectors_10k', dim: 128, tbl: await fixtures.openTable('vectors_10k'),
        dir: path.join(fixturesDir, 'vectors_10k.lance'),
        filters: [null, "label = 'v3'", 'id < 1500', "label IN ('v1', 'v2') AND id >= 4000"] },
      { name: 'deleted_vectors', dim: 32, tbl: made, dir: null,
        filters: [null, "label = 'v4'", 'id >= 2400 AND id < 2700'] },
    ];

    await client.query('CREATE EXTENSION IF NOT EXISTS lancedb_fdw');
    await client.query('DROP SCHEMA IF EXISTS search_interop CASCADE');
    await client.query('CREATE SCHEMA search_interop');
    await client.query('DROP SERVER IF EXISTS search_interop_fx, search_interop_made CASCADE');
    await client.query(`CREATE SERVER search_interop_fx FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri ${client.escapeLiteral(fixturesDir)})`);
    await client.query(`CREATE SERVER search_interop_made FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri ${client.escapeLiteral(scratch)})`);
    await client.query('CREATE FOREIGN TABLE search_interop.vectors_10k (id int, label text, vec vector(128)) SERVER search_interop_fx');
    await client.query('CREATE FOREIGN TABLE search_interop.deleted_vectors (id int, label text, vec vector(32)) SERVER search_interop_made');

    // every shape must be ranked in the scan, or this compares Postgres' sort
    for (const t of tables) {
      for (const where of t.filters) {
        const plan = await client.query(`EXPLAIN SELECT id FROM search_interop.${t.name}` +
          (where ? ` WHERE ${where}` : '') + ` ORDER BY vec <-> '[${Array(t.dim).fill(0).join(',')}]' LIMIT 10`);
        const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
        report(`${t.name} ${where ?? 'no filter'}: plan`, /Lance Order By/.test(text) ? null : `not pushed down:\n${text}`);
      }
    }

    const r = prng(20261122);
    for (const t of tables) {
      for (const metric of Object.keys(METRICS)) {
        for (const where of t.filters) {
          for (let i = 0; i < 6; i++) {
            const q = randomVector(r, t.dim);
            const k = [1, 10, 50][i % 3];
            const name = `${t.name} ${metric} ${where ?? 'no filter'} query ${i} k=${k}`;
            try {
              const ours = await ourSearch(client, `search_interop.${t.name}`, metric, q, k, where);
              const theirs = await lanceSearch(t.tbl, metric, q, k, where);
              report(name, compare(ours, theirs, k));
            } catch (e) {
              report(name, e.message);
            }
          }
        }
        // and through the reference driver itself
        if (t.dir) {
          const q = randomVector(r, t.dim);
          const name = `${t.name} ${metric} lancedb_ref.mjs search k=10`;
          try {
            const ours = await ourSearch(client, `search_interop.${t.name}`, metric, q, 10, null);
            report(name, compare(ours, refSearch(t.dir, metric, q, 10), 10));
          } catch (e) {
            report(name, e.message);
          }
        }
      }
    }

    await runIndexTests({ client, lancedb, arrow, scratch, report, prng, randomVector });
  } finally {
    await client.query('DROP SCHEMA IF EXISTS search_interop CASCADE').catch(() => {});
    await client.query('DROP SERVER IF EXISTS search_interop_fx, search_interop_made CASCADE').catch(() => {});
    await client.end();
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
