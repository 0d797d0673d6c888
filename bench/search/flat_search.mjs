// bench/search: top-10 latency of flat search over a 1M x 128 LanceDB
// dataset, three ways, in one run:
//   - the FDW with the search pushed into the scan (lancedb.search_pushdown on)
//   - LanceDB's own flat search (Node, bypassVectorIndex)
//   - the FDW without pushdown: Postgres reads every row and sorts
// It prints figures and asserts nothing.
//
//   node flat_search.mjs LANCEDB_REF DATA_DIR [ROWS] [QUERIES]
//
// LANCEDB_REF is the folder with lancedb_ref.mjs and its node_modules
// (test/interop/.lancedb after scripts/test.sh has run once).  The dataset
// (DATA_DIR/bench_1m.lance) is written on the first run and reused.  The
// Postgres connection comes from PGHOST/PGPORT/PGUSER/PGDATABASE, and the
// pg package from test/interop/node_modules.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { makeDataset, median, prng, timeIt } from './common.mjs';

const [refArg, dataDir, rowsArg, queriesArg] = process.argv.slice(2);
if (!refArg || !dataDir) {
  console.error('usage: node flat_search.mjs LANCEDB_REF DATA_DIR [ROWS] [QUERIES]');
  process.exit(2);
}
const ROWS = Number(rowsArg ?? 1000000);
const QUERIES = Number(queriesArg ?? 10);
const DIM = 128;
const K = 10;
const here = path.dirname(fileURLToPath(import.meta.url));
const lancedb = createRequire(path.join(path.resolve(refArg), 'package.json'))('@lancedb/lancedb');
const arrow = createRequire(path.join(path.resolve(refArg), 'package.json'))('apache-arrow');
const pg = createRequire(path.join(here, '../../test/interop/package.json'))('pg');

async function main() {
  const db = await lancedb.connect(dataDir);
  const name = `bench_${ROWS}`;
  const dir = path.join(path.resolve(dataDir), `${name}.lance`);
  const tbl = existsSync(dir) ? await db.openTable(name) : await makeDataset(db, arrow, name, ROWS, DIM);
  const r = prng(7);
  const queries = Array.from({ length: QUERIES }, () => Array.from({ length: DIM }, () => Math.fround(r() * 2 - 1)));

  const client = new pg.Client();
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS lancedb_fdw');
  await client.query('DROP SERVER IF EXISTS bench_search CASCADE');
  await client.query(`CREATE SERVER bench_search FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri ${client.escapeLiteral(path.resolve(dataDir))})`);
  await client.query(`CREATE FOREIGN TABLE bench_search_t (id int, vec vector(${DIM})) SERVER bench_search OPTIONS ("table" '${name}')`);
  const sql = `SELECT id, vec <-> $1::vector AS d FROM bench_search_t ORDER BY d LIMIT ${K}`;
  const plan = (await client.query(`EXPLAIN ${sql}`, [`[${queries[0].join(',')}]`])).rows.map((x) => x['QUERY PLAN']).join('\n');
  if (!/Lance Order By/.test(plan)) console.log('warning: search not pushed down:\n' + plan);

  const lance = (q) => tbl.vectorSearch(Float32Array.from(q)).column('vec').distanceType('l2')
    .bypassVectorIndex().select(['id', '_distance']).limit(K).toArray();
  const ours = (q) => client.query(sql, [`[${q.join(',')}]`]);

  // warm the page cache and both processes, then interleave the timed runs
  await lance(queries[0]);
  await ours(queries[0]);
  const tLance = [];
  const tOurs = [];
  for (let i = 0; i < QUERIES; i++) {
    tLance.push(...await timeIt(() => lance(queries[i]), 1));
    tOurs.push(...await timeIt(() => ours(queries[i]), 1));
  }
  // agreement of the first query's ids, as a sanity check of what was timed
  const a = (await lance(queries[0])).map((x) => Number(x.id)).join();
  const b = (await ours(queries[0])).rows.map((x) => Number(x.id)).join();

  await client.query('SET lancedb.search_pushdown = off');
  const sortRuns = Math.min(3, QUERIES);
  const tSort = await timeIt((i) => ours(queries[i]), sortRuns);
  await client.query('RESET lancedb.search_pushdown');
  await client.query('DROP SERVER bench_search CASCADE');
  await client.end();

  const fmt = (t) => `${median(t).toFixed(1).padStart(9)} ms  (min ${Math.min(...t).toFixed(1)}, max ${Math.max(...t).toFixed(1)})`;
  console.log(`flat top-${K}, ${ROWS} x ${DIM} float32, l2, ${QUERIES} queries (median)`);
  console.log(`  FDW, search pushed down     ${fmt(tOurs)}`);
  console.log(`  LanceDB flat (Node)         ${fmt(tLance)}`);
  console.log(`  FDW, Postgres scan + sort   ${fmt(tSort)}   (${sortRuns} queries)`);
  console.log(`  ratio FDW / LanceDB         ${(median(tOurs) / median(tLance)).toFixed(2)}`);
  console.log(`  same top-${K} ids for query 0: ${a === b}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
