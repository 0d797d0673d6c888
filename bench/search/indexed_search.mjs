// bench/search: top-10 latency over a 1M x 128 LanceDB dataset with a
// LanceDB-built IVF_PQ index, flat and indexed, in one run:
//   - flat: the FDW with lancedb.use_index = off vs LanceDB's flat search
//     (bypassVectorIndex), and Postgres' own scan and sort
//     (lancedb.search_pushdown = off) on a few queries;
//   - indexed: the FDW through that index (lancedb.nprobes,
//     lancedb.refine_factor) vs LanceDB's own indexed search, same nprobes
//     and refine factor, with each side's recall@10 against exact search,
//     so the latencies are compared at the recall each reaches;
//   - filtered and indexed: `WHERE id < ROWS/10`, both prefiltering.
// It prints figures and asserts nothing.
//
//   node indexed_search.mjs LANCEDB_REF DATA_DIR [ROWS] [QUERIES]
//
// The dataset and its index (DATA_DIR/bench_idx_ROWS.lance; partitions =
// sqrt(ROWS), 16 sub-vectors) are made on the first run and reused; the
// flat benchmark's dataset is kept apart, since an index changes what a
// foreign-table search does.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { makeDataset, median, prng, timeIt } from './common.mjs';

const [refArg, dataDir, rowsArg, queriesArg] = process.argv.slice(2);
if (!refArg || !dataDir) {
  console.error('usage: node indexed_search.mjs LANCEDB_REF DATA_DIR [ROWS] [QUERIES]');
  process.exit(2);
}
const ROWS = Number(rowsArg ?? 1000000);
const QUERIES = Number(queriesArg ?? 20);
const DIM = 128;
const K = 10;
const SETTINGS = [[20, 1], [20, 10], [50, 10]];
const here = path.dirname(fileURLToPath(import.meta.url));
const lancedb = createRequire(path.join(path.resolve(refArg), 'package.json'))('@lancedb/lancedb');
const arrow = createRequire(path.join(path.resolve(refArg), 'package.json'))('apache-arrow');
const pg = createRequire(path.join(here, '../../test/interop/package.json'))('pg');

function recall(got, truth) {
  const s = new Set(truth);
  return got.filter((x) => s.has(x)).length / truth.length;
}

async function main() {
  const db = await lancedb.connect(dataDir);
  const name = `bench_idx_${ROWS}`;
  const dir = path.join(path.resolve(dataDir), `${name}.lance`);
  let tbl;
  if (existsSync(dir)) tbl = await db.openTable(name);
  else {
    tbl = await makeDataset(db, arrow, name, ROWS, DIM);
    const t0 = Date.now();
    await tbl.createIndex('vec', { config: lancedb.Index.ivfPq({
      numPartitions: Math.round(Math.sqrt(ROWS)), numSubVectors: 16, distanceType: 'l2' }) });
    console.log(`LanceDB built the index in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const r = prng(11);
  const queries = Array.from({ length: QUERIES }, () => Array.from({ length: DIM }, () => Math.fround(r() * 2 - 1)));
  const truth = [];
  for (const q of queries) {
    truth.push((await tbl.vectorSearch(Float32Array.from(q)).column('vec').distanceType('l2')
      .bypassVectorIndex().select(['id']).limit(K).toArray()).map((x) => Number(x.id)));
  }

  const client = new pg.Client();
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS lancedb_fdw');
  await client.query('DROP SERVER IF EXISTS bench_isearch CASCADE');
  await client.query(`CREATE SERVER bench_isearch FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri ${client.escapeLiteral(path.resolve(dataDir))})`);
  await client.query(`CREATE FOREIGN TABLE bench_isearch_t (id int, vec vector(${DIM})) SERVER bench_isearch OPTIONS ("table" '${name}')`);
  const sql = `SELECT id FROM bench_isearch_t ORDER BY vec <-> $1::vector LIMIT ${K}`;
  const plan = (await client.query(`EXPLAIN ${sql}`, [`[${queries[0].join(',')}]`])).rows.map((x) => x['QUERY PLAN']).join('\n');
  const used = plan.match(/Lance Index: (.*)/);
  console.log(`indexed top-${K}, ${ROWS} x ${DIM} float32, l2, ${QUERIES} queries (median), index ${used ? used[1] : 'NOT USED'}`);

  const fmt = (t) => `${median(t).toFixed(1).padStart(8)} ms (min ${Math.min(...t).toFixed(1)}, max ${Math.max(...t).toFixed(1)})`;
  const ours = (q, text = sql) => client.query(text, [`[${q.join(',')}]`]).then((res) => res.rows.map((x) => Number(x.id)));

  // flat: the FDW's pushed-down search without the index, LanceDB's bypass
  await client.query('SET lancedb.use_index = off');
  const lanceFlat = (q) => tbl.vectorSearch(Float32Array.from(q)).column('vec').distanceType('l2')
    .bypassVectorIndex().select(['id']).limit(K).toArray();
  await lanceFlat(queries[0]);
  await ours(queries[0]);
  const fLance = [];
  const fOurs = [];
  let fSame = 0;
  for (let i = 0; i < QUERIES; i++) {
    let got;
    fLance.push(...await timeIt(() => lanceFlat(queries[i]), 1));
    fOurs.push(...await timeIt(async () => { got = await ours(queries[i]); }, 1));
    fSame += recall(got, truth[i]);
  }
  console.log(`  flat (no index):      FDW ${fmt(fOurs)} recall ${(fSame / QUERIES).toFixed(3)} |` +
    ` LanceDB ${fmt(fLance)} recall 1.000 | ratio ${(median(fOurs) / median(fLance)).toFixed(2)}`);
  await client.query('SET lancedb.search_pushdown = off');
  const fPg = [];
  for (let i = 0; i < Math.min(3, QUERIES); i++) fPg.push(...await timeIt(() => ours(queries[i]), 1));
  console.log(`  Postgres scan + sort: ${fmt(fPg)} (${fPg.length} queries) | ratio to LanceDB flat ` +
    `${(median(fPg) / median(fLance)).toFixed(2)}`);
  await client.query('RESET lancedb.search_pushdown');
  await client.query('RESET lancedb.use_index');

  for (const [nprobes, refine] of SETTINGS) {
    await client.query(`SET lancedb.nprobes = ${nprobes}`);
    await client.query(`SET lancedb.refine_factor = ${refine}`);
    const lance = (q) => {
      let query = tbl.vectorSearch(Float32Array.from(q)).column('vec').distanceType('l2')
        .nprobes(nprobes).select(['id']).limit(K);
      if (refine > 1) query = query.refineFactor(refine);
      return query.toArray().then((rows) => rows.map((x) => Number(x.id)));
    };
    await lance(queries[0]);
    await ours(queries[0]);
    const tLance = [];
    const tOurs = [];
    let rLance = 0;
    let rOurs = 0;
    for (let i = 0; i < QUERIES; i++) {
      let got;
      tLance.push(...await timeIt(async () => { got = await lance(queries[i]); }, 1));
      rLance += recall(got, truth[i]);
      tOurs.push(...await timeIt(async () => { got = await ours(queries[i]); }, 1));
      rOurs += recall(got, truth[i]);
    }
    console.log(`  nprobes ${String(nprobes).padStart(3)} refine ${String(refine).padStart(2)}:` +
      ` FDW ${fmt(tOurs)} recall ${(rOurs / QUERIES).toFixed(3)} |` +
      ` LanceDB ${fmt(tLance)} recall ${(rLance / QUERIES).toFixed(3)} |` +
      ` ratio ${(median(tOurs) / median(tLance)).toFixed(2)}`);
  }

  // filtered: a tenth of the rows pass, both sides prefilter at nprobes 20
  const where = `id < ${Math.floor(ROWS / 10)}`;
  const fsql = `SELECT id FROM bench_isearch_t WHERE ${where} ORDER BY vec <-> $1::vector LIMIT ${K}`;
  await client.query('SET lancedb.nprobes = 20');
  await client.query('RESET lancedb.refine_factor');
  const lanceWhere = (q) => tbl.vectorSearch(Float32Array.from(q)).column('vec').distanceType('l2')
    .where(where).nprobes(20).select(['id']).limit(K).toArray().then((rows) => rows.map((x) => Number(x.id)));
  await lanceWhere(queries[0]);
  await ours(queries[0], fsql);
  const wLance = [];
  const wOurs = [];
  let agree = 0;
  for (let i = 0; i < QUERIES; i++) {
    let a;
    let b;
    wLance.push(...await timeIt(async () => { b = await lanceWhere(queries[i]); }, 1));
    wOurs.push(...await timeIt(async () => { a = await ours(queries[i], fsql); }, 1));
    agree += recall(a, b);
  }
  console.log(`  WHERE ${where}, nprobes 20: FDW ${fmt(wOurs)} | LanceDB ${fmt(wLance)} |` +
    ` ratio ${(median(wOurs) / median(wLance)).toFixed(2)} | overlap ${(agree / QUERIES).toFixed(3)}`);
  await client.query('DROP SERVER bench_isearch CASCADE');
  await client.end();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
