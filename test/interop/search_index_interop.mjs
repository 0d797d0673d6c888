// Nearest-neighbour search through LanceDB-built IVF_PQ and IVF_FLAT
// indexes: LanceDB
// makes the tables and their indexes, the FDW searches them with the same
// nprobes and refine_factor as LanceDB's own indexed search, and both are
// measured against exact search.  Run by search_interop.mjs (the same CI
// layer); each check goes through its report().
//
// What must hold:
//  - the FDW's top-k ids overlap LanceDB's indexed top-k by >= 0.95 on
//    average (the same partitions, codes and candidates are ranked);
//  - the FDW's recall against exact search is at least LanceDB's - 0.02;
//  - a LIMIT past the probed partitions' rows probes more partitions;
//  - rows appended after the index was built are found (searched flat),
//    rows deleted after it never come back;
//  - with quals, the index searches only the rows that pass them, as
//    LanceDB's default prefilter does: the same ids as LanceDB's
//    prefiltered indexed search at the same nprobes (>= 0.95), and LIMIT
//    rows when that many pass, also when the probed partitions hold fewer
//    passing rows (then more are probed);
//  - an index of another metric is not used (EXPLAIN names no index), nor
//    any with lancedb.use_index = off, which answers exactly;
//  - an index type the FDW does not read (IVF_HNSW_SQ), or an index of a
//    dataset with stable row ids, gives a NOTICE and the exact answer of a
//    flat search.

const QUERIES = 50;
const K = 10;

function overlap(a, b) {
  const s = new Set(b);
  return a.filter((x) => s.has(x)).length / Math.max(b.length, 1);
}

async function ours(client, table, op, q, k) {
  const res = await client.query(`SELECT id FROM ${table} ORDER BY vec ${op} $1::vector LIMIT ${k}`,
    [`[${q.join(',')}]`]);
  return res.rows.map((r) => Number(r.id));
}

async function theirs(tbl, metric, q, k, nprobes, refine) {
  let query = tbl.vectorSearch(Float32Array.from(q)).column('vec').distanceType(metric)
    .nprobes(nprobes).select(['id']).limit(k);
  if (refine > 1) query = query.refineFactor(refine);
  return (await query.toArray()).map((r) => Number(r.id));
}

async function theirsWhere(tbl, q, k, nprobes, where) {
  const rows = await tbl.vectorSearch(Float32Array.from(q)).column('vec').distanceType('l2')
    .where(where).nprobes(nprobes).select(['id']).limit(k).toArray();
  return rows.map((r) => Number(r.id));
}

// Filtered queries, FDW (SQL qual) against LanceDB's prefiltered search at
// the same nprobes.  LanceDB's nprobes(n) is also its maximum, so where its
// n partitions hold fewer than LIMIT passing rows it returns fewer: those
// queries are not compared by overlap, and the FDW, which probes further,
// must return min(LIMIT, matching) rows on every query.
async function compareFiltered(ctx, t, nprobes, where, matching, queries) {
  const { client, report, randomVector, r } = ctx;
  await client.query(`SET lancedb.nprobes = ${nprobes}`);
  let ov = 0;
  let compared = 0;
  let short = 0;
  for (let i = 0; i < queries; i++) {
    const q = randomVector(r, t.dim);
    const res = await client.query(`SELECT id FROM ${t.table} WHERE ${where} ORDER BY vec <-> $1::vector LIMIT ${K}`,
      [`[${q.join(',')}]`]);
    const a = res.rows.map((row) => Number(row.id));
    const b = await theirsWhere(t.tbl, q, K, nprobes, where);
    short += a.length !== Math.min(K, matching);
    if (b.length === K) {
      ov += overlap(a, b);
      compared++;
    }
  }
  const label = `${t.label} WHERE ${where} nprobes=${nprobes}`;
  console.log(`# ${label}: overlap with LanceDB prefilter ${compared ? (ov / compared).toFixed(3) : '-'} ` +
    `over ${compared} of ${queries} queries LanceDB filled`);
  if (compared > 0)
    report(`${label}: overlap`, ov / compared >= 0.95 ? null : `overlap ${(ov / compared).toFixed(3)} < 0.95`);
  report(`${label}: LIMIT rows when that many match`,
    short === 0 ? null : `${short} of ${queries} queries returned fewer than min(LIMIT, ${matching}) rows`);
}

async function exact(tbl, metric, q, k) {
  const rows = await tbl.vectorSearch(Float32Array.from(q)).column('vec').distanceType(metric)
    .bypassVectorIndex().select(['id']).limit(k).toArray();
  return rows.map((r) => Number(r.id));
}

async function explain(client, table, op, dim) {
  const plan = await client.query(`EXPLAIN SELECT id FROM ${table} ORDER BY vec ${op} ` +
    `'[${Array(dim).fill(0.5).join(',')}]' LIMIT ${K}`);
  return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
}

async function makeTable(db, lancedb, arrow, name, n, dim, rand, storageOptions = undefined) {
  const schema = new arrow.Schema([
    new arrow.Field('id', new arrow.Int32(), false),
    new arrow.Field('vec', new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true)), true),
  ]);
  const rows = [];
  for (let i = 0; i < n; i++) rows.push({ id: i, vec: rand(dim) });
  return db.createTable(name, rows, { schema, storageOptions });
}

// Compare the FDW with LanceDB for QUERIES queries at one setting.
async function compareSetting(ctx, label, t, nprobes, refine) {
  const { client, report, randomVector, r } = ctx;
  await client.query(`SET lancedb.nprobes = ${nprobes}`);
  await client.query(`SET lancedb.refine_factor = ${refine}`);
  let ov = 0;
  let recallOurs = 0;
  let recallTheirs = 0;
  const bad = [];
  for (let i = 0; i < t.queries; i++) {
    const q = randomVector(r, t.dim);
    const a = await ours(client, t.table, t.op, q, K);
    const b = await theirs(t.tbl, t.metric, q, K, nprobes, refine);
    const e = await exact(t.tbl, t.metric, q, K);
    ov += overlap(a, b);
    recallOurs += overlap(a, e);
    recallTheirs += overlap(b, e);
    for (const id of a) if (t.gone && t.gone(id)) bad.push(id);
  }
  ov /= t.queries;
  recallOurs /= t.queries;
  recallTheirs /= t.queries;
  console.log(`# ${label} nprobes=${nprobes} refine=${refine}: overlap with LanceDB ${ov.toFixed(3)}, ` +
    `recall@${K} ours ${recallOurs.toFixed(3)}, LanceDB ${recallTheirs.toFixed(3)}`);
  report(`${label} nprobes=${nprobes} refine=${refine}: overlap`, ov >= 0.95 ? null : `overlap ${ov.toFixed(3)} < 0.95`);
  report(`${label} nprobes=${nprobes} refine=${refine}: recall`, recallOurs >= recallTheirs - 0.02
    ? null : `recall ${recallOurs.toFixed(3)}, LanceDB ${recallTheirs.toFixed(3)}`);
  if (t.gone) report(`${label} nprobes=${nprobes} refine=${refine}: no deleted rows`,
    bad.length === 0 ? null : `deleted ids returned: ${bad.slice(0, 5).join(', ')}`);
}

export async function runIndexTests({ client, lancedb, arrow, scratch, report, prng, randomVector }) {
  const db = await lancedb.connect(scratch);
  const r = prng(909);
  const rand = (dim) => randomVector(r, dim);
  const ctx = { client, report, randomVector, r };
  const server = 'search_index_made';

  await client.query(`DROP SERVER IF EXISTS ${server} CASCADE`);
  await client.query(`CREATE SERVER ${server} FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri ${client.escapeLiteral(scratch)})`);
  try {
    // 20k x 128, l2: 32 partitions so that nprobes matters
    const big = await makeTable(db, lancedb, arrow, 'ivfpq_l2', 20000, 128, rand);
    await big.createIndex('vec', { config: lancedb.Index.ivfPq({ numPartitions: 32, numSubVectors: 16, distanceType: 'l2' }) });
    // 5k x 32, cosine and dot: the normalized and the non-residual codes
    const cos = await makeTable(db, lancedb, arrow, 'ivfpq_cos', 5000, 32, rand);
    await cos.createIndex('vec', { config: lancedb.Index.ivfPq({ numPartitions: 8, numSubVectors: 8, distanceType: 'cosine' }) });
    const dot = await makeTable(db, lancedb, arrow, 'ivfpq_dot', 5000, 32, rand);
    await dot.createIndex('vec', { config: lancedb.Index.ivfPq({ numPartitions: 8, numSubVectors: 8, distanceType: 'dot' }) });
    // IVF_FLAT: the vectors themselves in the partitions
    const flatL2 = await makeTable(db, lancedb, arrow, 'ivfflat_l2', 5000, 32, rand);
    await flatL2.createIndex('vec', { config: lancedb.Index.ivfFlat({ numPartitions: 8, distanceType: 'l2' }) });
    const flatCos = await makeTable(db, lancedb, arrow, 'ivfflat_cos', 5000, 32, rand);
    await flatCos.createIndex('vec', { config: lancedb.Index.ivfFlat({ numPartitions: 8, distanceType: 'cosine' }) });
    for (const [name, dim] of [['ivfpq_l2', 128], ['ivfpq_cos', 32], ['ivfpq_dot', 32], ['ivfflat_l2', 32], ['ivfflat_cos', 32]])
      await client.query(`CREATE FOREIGN TABLE search_interop.${name} (id int, vec vector(${dim})) SERVER ${server}`);

    const l2 = { table: 'search_interop.ivfpq_l2', tbl: big, metric: 'l2', op: '<->', dim: 128, queries: QUERIES };
    let plan = await explain(client, l2.table, '<->', 128);
    report('ivfpq_l2: EXPLAIN names the index', /Lance Index: vec_idx \(IVF_PQ, l2, 32 partitions, 16 sub-vectors\)/.test(plan) &&
      /Lance Nprobes: 20/.test(plan) && /Lance Refine Factor: 1/.test(plan) ? null : plan);
    // lancedb.use_index = off is LanceDB's bypassVectorIndex: exact answers
    await client.query('SET lancedb.use_index = off');
    plan = await explain(client, l2.table, '<->', 128);
    let bypassSame = 0;
    for (let i = 0; i < 3; i++) {
      const q = rand(128);
      bypassSame += (await ours(client, l2.table, '<->', q, K)).join() === (await exact(big, 'l2', q, K)).join();
    }
    await client.query('RESET lancedb.use_index');
    report('ivfpq_l2: lancedb.use_index = off searches flat, exactly', !/Lance Index/.test(plan) && bypassSame === 3
      ? null : `${bypassSame} of 3 exact; ${plan}`);
    const nullQuery = await client.query(`SELECT count(*) AS n FROM (SELECT id FROM ${l2.table} ORDER BY vec <-> NULL::vector LIMIT ${K}) s`);
    report('ivfpq_l2: a NULL query still returns LIMIT rows', Number(nullQuery.rows[0].n) === K ? null : `${nullQuery.rows[0].n} rows`);
    // a LIMIT past what nprobes partitions hold probes further (LanceDB's
    // nprobes is also its maximum; SQL's LIMIT is kept): 2000 rows from
    // ~625 a partition
    await client.query('SET lancedb.nprobes = 1');
    const many = await client.query(`SELECT count(*) AS n FROM (SELECT id FROM ${l2.table} ORDER BY vec <-> '[${Array(128).fill(0.5).join(',')}]' LIMIT 2000) s`);
    report('ivfpq_l2: LIMIT 2000 with nprobes 1 returns 2000 rows', Number(many.rows[0].n) === 2000 ? null : `${many.rows[0].n} rows`);
    await client.query('RESET lancedb.nprobes');
    plan = await explain(client, l2.table, '<#>', 128);
    report('ivfpq_l2: another metric searches flat', /Lance Order By/.test(plan) && !/Lance Index/.test(plan) ? null : plan);

    await compareSetting(ctx, 'ivfpq_l2', l2, 20, 1);
    await compareSetting(ctx, 'ivfpq_l2', l2, 4, 1);
    await compareSetting(ctx, 'ivfpq_l2', l2, 4, 5);
    await compareSetting(ctx, 'ivfpq_cos', { table: 'search_interop.ivfpq_cos', tbl: cos, metric: 'cosine', op: '<=>', dim: 32, queries: 20 }, 2, 1);
    await compareSetting(ctx, 'ivfpq_dot', { table: 'search_interop.ivfpq_dot', tbl: dot, metric: 'dot', op: '<#>', dim: 32, queries: 20 }, 2, 1);
    // without the backend's index cache: the index is read for each query
    await client.query('SET lancedb.index_cache_mb = 0');
    await compareSetting(ctx, 'ivfpq_dot uncached', { table: 'search_interop.ivfpq_dot', tbl: dot, metric: 'dot', op: '<#>', dim: 32, queries: 10 }, 2, 1);
    await client.query('RESET lancedb.index_cache_mb');
    plan = await explain(client, 'search_interop.ivfflat_l2', '<->', 32);
    report('ivfflat_l2: EXPLAIN names the index', /Lance Index: vec_idx \(IVF_FLAT, l2, 8 partitions\)/.test(plan) ? null : plan);
    await compareSetting(ctx, 'ivfflat_l2', { table: 'search_interop.ivfflat_l2', tbl: flatL2, metric: 'l2', op: '<->', dim: 32, queries: 20 }, 2, 1);
    await compareSetting(ctx, 'ivfflat_cos', { table: 'search_interop.ivfflat_cos', tbl: flatCos, metric: 'cosine', op: '<=>', dim: 32, queries: 20 }, 2, 1);

    // filtered: 10k x 64 with a label, 16 partitions; a tenth of the rows
    // per label, and a filter that leaves under LIMIT rows a partition
    const labelSchema = new arrow.Schema([
      new arrow.Field('id', new arrow.Int32(), false),
      new arrow.Field('label', new arrow.Utf8(), false),
      new arrow.Field('vec', new arrow.FixedSizeList(64, new arrow.Field('item', new arrow.Float32(), true)), true),
    ]);
    const labelRows = [];
    for (let i = 0; i < 10000; i++) labelRows.push({ id: i, label: `l${i % 10}`, vec: rand(64) });
    const labelled = await db.createTable('ivfpq_label', labelRows, { schema: labelSchema });
    await labelled.createIndex('vec', { config: lancedb.Index.ivfPq({ numPartitions: 16, numSubVectors: 8, distanceType: 'l2' }) });
    await client.query(`CREATE FOREIGN TABLE search_interop.ivfpq_label (id int, label text, vec vector(64)) SERVER ${server}`);
    const lt = { label: 'ivfpq_label', table: 'search_interop.ivfpq_label', tbl: labelled, dim: 64 };
    plan = (await client.query(`EXPLAIN SELECT id FROM ${lt.table} WHERE label = 'l3' ORDER BY vec <-> ` +
      `'[${Array(64).fill(0.5).join(',')}]' LIMIT ${K}`)).rows.map((x) => x['QUERY PLAN']).join('\n');
    report('ivfpq_label: a filtered search uses the index', /Lance Index: vec_idx/.test(plan) ? null : plan);
    await compareFiltered(ctx, lt, 20, "label = 'l3'", 1000, 20);
    await compareFiltered(ctx, lt, 2, "label IN ('l1', 'l7')", 2000, 20);
    await compareFiltered(ctx, lt, 2, "label = 'l5' AND id >= 5000", 500, 20);
    await compareFiltered(ctx, lt, 1, 'id < 150', 150, 20);
    await compareFiltered(ctx, lt, 1, '6 > id', 6, 5);
    // a qual the scan cannot evaluate leaves the ordering to Postgres: still LIMIT rows
    const local = await client.query(`SELECT count(*) AS n FROM (SELECT id FROM ${lt.table} WHERE id % 97 = 1 ` +
      `ORDER BY vec <-> '[${Array(64).fill(0.5).join(',')}]' LIMIT ${K}) s`);
    report('ivfpq_label: a qual not pushed still returns LIMIT rows', Number(local.rows[0].n) === K ? null : `${local.rows[0].n} rows`);

    // after indexing: a fragment the index does not cover, and deletions
    const appended = [];
    for (let i = 20000; i < 21000; i++) appended.push({ id: i, vec: rand(128) });
    await big.add(appended);
    await big.delete('id % 10 = 3');
    plan = await explain(client, l2.table, '<->', 128);
    report('ivfpq_l2 appended: one unindexed fragment', /Lance Unindexed Fragments: 1/.test(plan) ? null : plan);
    await compareSetting(ctx, 'ivfpq_l2 appended+deleted', { ...l2, gone: (id) => id % 10 === 3 }, 8, 1);
    await compareFiltered(ctx, { ...l2, label: 'ivfpq_l2 appended+deleted' }, 4, 'id >= 19500', 1350, 20);
    let found = 0;
    await client.query('RESET lancedb.nprobes');
    await client.query('RESET lancedb.refine_factor');
    for (const row of appended.filter((x) => x.id % 10 !== 3).slice(0, 20)) {
      const a = await ours(client, l2.table, '<->', row.vec, 1);
      found += a[0] === row.id;
    }
    report('ivfpq_l2 appended: appended rows are found', found === 20 ? null : `${found} of 20 appended rows found by their own vector`);

    // indexes not used: one of a type this reader does not understand, and
    // one of a dataset with stable row ids (the index then holds row ids,
    // not addresses): NOTICE, then exact search
    const hnsw = await makeTable(db, lancedb, arrow, 'ivf_hnsw', 2000, 16, rand);
    await hnsw.createIndex('vec', { config: lancedb.Index.hnswSq({ numPartitions: 2, distanceType: 'l2' }) });
    const stable = await makeTable(db, lancedb, arrow, 'stable_ids', 2000, 16, rand,
      { new_table_enable_stable_row_ids: 'true' });
    await stable.createIndex('vec', { config: lancedb.Index.ivfFlat({ numPartitions: 4, distanceType: 'l2' }) });
    for (const [name, tbl, why] of [['ivf_hnsw', hnsw, /index type IVF_HNSW_SQ/], ['stable_ids', stable, /stable row ids/]]) {
      await client.query(`CREATE FOREIGN TABLE search_interop.${name} (id int, vec vector(16)) SERVER ${server}`);
      const notices = [];
      const onNotice = (n) => notices.push(`${n.message} ${n.detail}`);
      client.on('notice', onNotice);
      let same = 0;
      for (let i = 0; i < 5; i++) {
        const q = rand(16);
        const a = await ours(client, `search_interop.${name}`, '<->', q, K);
        const e = await exact(tbl, 'l2', q, K);
        same += a.join() === e.join();
      }
      client.removeListener('notice', onNotice);
      report(`${name}: NOTICE that the index is not used`,
        notices.some((m) => /Lance index "vec_idx" on column "vec" is not used/.test(m) && why.test(m)) ? null : `notices: ${notices.join(' | ')}`);
      report(`${name}: exact answers without the index`, same === 5 ? null : `${same} of 5 queries equal exact search`);
    }
  } finally {
    await client.query('RESET lancedb.nprobes').catch(() => {});
    await client.query('RESET lancedb.refine_factor').catch(() => {});
    await client.query('RESET lancedb.index_cache_mb').catch(() => {});
    await client.query(`DROP SERVER IF EXISTS ${server} CASCADE`).catch(() => {});
  }
}
