// Write Lance datasets through foreign tables and check the real LanceDB
// reads exactly the rows we expect, keeps writing on top of them, and that
// we read LanceDB's new versions back equal.  Tables made by LanceDB in
// file versions 2.0, 2.1, 2.2 and tables made by lance_create_table; then
// concurrent writers (two connections; a connection racing LanceDB) and a
// delete that must lose to LanceDB's delete of the same fragment.
// Prints "N passed, N failed".
//
//   node write_interop.mjs LANCEDB_REF_DIR FIXTURES_DIR SCRATCH_DIR
//
// The connection comes from PGHOST/PGPORT/PGUSER/PGDATABASE (a superuser:
// the COPY test reads FROM PROGRAM).
//
// With LANCE_STORE_URI set, the datasets live in an object store instead:
// the server gets LANCE_STORE_OPTIONS, a user mapping LANCE_STORE_SECRETS,
// LanceDB LANCE_STORE_LANCEDB_OPTIONS (JSON objects; test/storage/run.sh),
// and the LanceDB-made tables must already be uploaded there.  To stay
// short it then takes two of them (file versions 2.0: scalars and vectors)
// and skips the 100k-row COPY; the rest runs as on local disk.

import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';

const [refDir, fixturesDir, scratchDir] = process.argv.slice(2);
if (!refDir || !fixturesDir || !scratchDir) {
  console.error('usage: node write_interop.mjs LANCEDB_REF_DIR FIXTURES_DIR SCRATCH_DIR');
  process.exit(2);
}
// LanceDB runs as this process's user; let the server write what it creates
process.umask(0);
const lancedb = createRequire(path.join(refDir, 'package.json'))('@lancedb/lancedb');
const refScript = path.join(refDir, 'lancedb_ref.mjs');
const store = process.env.LANCE_STORE_URI;
const root = store || path.join(scratchDir, 'write_interop');
const storageOptions = JSON.parse(process.env.LANCE_STORE_LANCEDB_OPTIONS || '{}');
// the LanceDB-made tables the store run takes (run.sh uploads these)
const STORE_TABLES = ['scalars_50k_v2_0', 'vectors_small_v2_0'];

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) {
    passed++;
    console.log(`ok      ${name}`);
  } else {
    failed++;
    console.log(`FAILED  ${name}${detail ? `: ${detail}` : ''}`);
  }
}

function dump(table, version, columns) {
  const args = [refScript, 'dump', path.join(root, `${table}.lance`)];
  if (version) args.push('--version', String(version));
  if (columns) args.push('--columns', columns.join(','));
  const out = execFileSync('node', args, {
    encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
}

// One row as "id|text|first vector element", comparable across both sides.
function key(id, text, vec0) {
  const v = vec0 === null || vec0 === undefined ? '' : String(Math.fround(Number(vec0)));
  return `${id}|${text === null ? '<null>' : text}|${v}`;
}

// The rows LanceDB itself reads (the same library lancedb_ref.mjs drives,
// in this process: spawning a dump per check would dominate the run).
async function lanceQuery(t, version, columns) {
  const db = await lancedb.connect(root, { storageOptions });
  const tbl = await db.openTable(t.name);
  if (version) await tbl.checkout(version);
  return tbl.query().select(columns).toArray();
}

function first(v) {
  if (v === null || v === undefined) return null;
  return typeof v.get === 'function' ? v.get(0) : v[0];
}

async function theirRows(t, version) {
  return (await lanceQuery(t, version, ['id', t.text, ...(t.vec ? [t.vec] : [])]))
    .map((r) => key(r.id, r[t.text], t.vec ? first(r[t.vec]) : null)).sort();
}

const client = new pg.Client();
const other = new pg.Client();

async function ourRows(t) {
  const vec = t.vec ? `${t.vec}::text` : 'NULL';
  const res = await client.query(`SELECT id::text AS id, ${t.text} AS text, ${vec} AS vec FROM ${t.name}`);
  return res.rows.map((r) => key(r.id, r.text, r.vec ? JSON.parse(r.vec)[0] : null)).sort();
}

function sameRows(ours, theirs) {
  if (ours.length !== theirs.length) return `${ours.length} rows here, ${theirs.length} in LanceDB`;
  for (let i = 0; i < ours.length; i++)
    if (ours[i] !== theirs[i]) return `first difference: ${ours[i]} vs ${theirs[i]}`;
  return '';
}

async function compare(name, t) {
  try {
    const diff = sameRows(await ourRows(t), await theirRows(t));
    check(name, diff === '', diff);
  } catch (e) {
    check(name, false, e.message);
  }
}

async function attempt(name, fn) {
  try {
    await fn();
    return true;
  } catch (e) {
    check(name, false, e.message);
    return false;
  }
}

async function openLance(t) {
  const db = await lancedb.connect(root, { storageOptions });
  return db.openTable(t.name);
}

// Insert, delete and update through the FDW; LanceDB must dump the same.
async function fdwWrites(t) {
  const cols = (await client.query(
    `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS c
       FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [t.name])).rows[0].c;
  const rest = cols.split(', ').filter((c) => c !== 'id').join(', ');
  const before = (await theirRows(t)).length;
  if (!await attempt(`${t.name}: insert, delete, update through the FDW`, async () => {
    await client.query(`INSERT INTO ${t.name} (id, ${rest}) SELECT id + 1000000, ${rest} FROM ${t.name} WHERE id < 50`);
    await client.query(`DELETE FROM ${t.name} WHERE id % 7 = 3`);
    await client.query(`UPDATE ${t.name} SET ${t.text} = 'pg-updated' WHERE id % 11 = 5`);
  })) return;
  await compare(`${t.name}: LanceDB reads the FDW's insert, delete and update`, t);
  const after = await theirRows(t);
  check(`${t.name}: updated rows carry the new value`,
    after.some((r) => r.includes('|pg-updated|')) || before === 0);
}

// LanceDB appends, deletes and updates on top; we must read it back equal.
async function lanceWrites(t) {
  if (!await attempt(`${t.name}: LanceDB writes on top of the FDW's versions`, async () => {
    const tbl = await openLance(t);
    await tbl.add(await tbl.query().where('id < 5').toArrow());
    await tbl.delete('id % 13 = 4');
    await tbl.update({ where: 'id % 17 = 6', values: { [t.text]: 'ldb-updated' } });
  })) return;
  check(`${t.name}: LanceDB's own writes succeeded`, true);
  await compare(`${t.name}: the FDW reads LanceDB's new versions equal`, t);
}

async function concurrency(t) {
  const base = (await client.query(`SELECT count(*)::int AS n FROM ${t.name}`)).rows[0].n;
  const rounds = 10;
  if (!await attempt('two connections appending in a loop', async () => {
    const run = async (conn, start) => {
      for (let i = 0; i < rounds; i++)
        await conn.query(`INSERT INTO ${t.name} (id, ${t.text}) VALUES ($1, 'race')`, [start + i]);
    };
    await Promise.all([run(client, 5000000), run(other, 6000000)]);
  })) return;
  const rows = await lanceQuery(t, undefined, ['id', t.text]);
  const raced = rows.filter((r) => r[t.text] === 'race').map((r) => String(r.id));
  check('two connections appending: every committed row is present exactly once',
    raced.length === 2 * rounds && new Set(raced).size === 2 * rounds && rows.length === base + 2 * rounds,
    `${raced.length} raced rows, ${rows.length} total, expected ${base + 2 * rounds}`);
  const versions = await (await openLance(t)).listVersions();
  let opened = 0;
  for (const v of versions.slice(-2 * rounds)) {
    try {
      await lanceQuery(t, v.version, ['id']);
      opened++;
    } catch (e) { /* counted below */ }
  }
  check('every version the racing writers made opens in LanceDB', opened === Math.min(2 * rounds, versions.length));

  // an FDW transaction whose commit loses to LanceDB's append rebases
  if (await attempt('FDW append racing a LanceDB append', async () => {
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${t.name} (id, ${t.text}) VALUES (7000001, 'pg-race')`);
    const tbl = await openLance(t);
    await tbl.add(await tbl.query().where("label = 'race'").limit(1).toArrow());
    await client.query('COMMIT');
  })) {
    const after = await lanceQuery(t, undefined, ['id', t.text]);
    check('FDW append racing LanceDB: both appends are present once',
      after.filter((r) => r[t.text] === 'pg-race').length === 1 &&
      after.filter((r) => r[t.text] === 'race').length === 2 * rounds + 1);
  }

  // a delete whose fragment LanceDB changed meanwhile must fail with 40001,
  // naming the version that got in first
  let sqlstate = '';
  let detail = '';
  try {
    await client.query('BEGIN');
    await client.query(`DELETE FROM ${t.name} WHERE id = 1000001`);
    const tbl = await openLance(t);
    await tbl.delete('id = 1000008');
    await client.query('COMMIT');
  } catch (e) {
    sqlstate = e.code;
    detail = e.detail || '';
    await client.query('ROLLBACK').catch(() => {});
  }
  check('FDW delete racing a LanceDB delete of the same fragment fails with 40001',
    sqlstate === '40001' && /version \d+ \(.* by another writer\)/.test(detail),
    `got "${sqlstate}": ${detail}`);

  // two connections updating rows of one fragment: the first commit wins,
  // the second fails with 40001 naming the winner's version, and only the
  // winner's change is there
  sqlstate = '';
  detail = '';
  try {
    await client.query('BEGIN');
    await client.query(`UPDATE ${t.name} SET ${t.text} = 'loser' WHERE id = 1000005`);
    await other.query(`UPDATE ${t.name} SET ${t.text} = 'winner' WHERE id = 1000006`);
    await client.query('COMMIT');
  } catch (e) {
    sqlstate = e.code;
    detail = e.detail || '';
    await client.query('ROLLBACK').catch(() => {});
  }
  const updated = (await lanceQuery(t, undefined, ['id', t.text]))
    .filter((r) => r[t.text] === 'winner' || r[t.text] === 'loser').map((r) => `${r.id}|${r[t.text]}`);
  check('two connections updating one fragment: the later commit fails with 40001 naming the version',
    sqlstate === '40001' && /version \d+ \(.* by another writer\)/.test(detail) &&
    updated.join() === '1000006|winner', `got "${sqlstate}": ${detail}; ${updated.join()}`);
}

async function copyAndRestore(t) {
  const before = (await client.query(
    `SELECT max(version)::int AS v FROM lance_versions('${t.name}')`)).rows[0].v;
  const awk = "awk 'BEGIN{for(i=0;i<100000;i++){printf \"%d\\tcopied\\t[\", 9000000+i; " +
    "for(j=0;j<128;j++) printf \"%s%d\", (j?\",\":\"\"), (i+j)%97; print \"]\"}}'";
  if (!store && await attempt('COPY of 100k rows with a vector(128) column', async () => {
    await client.query(`COPY ${t.name} (id, label, vec) FROM PROGRAM $$${awk}$$`);
  })) {
    const rows = dump(t.name, undefined, ['id', 'label', 'vec']);
    const copied = rows.filter((r) => r.label === 'copied');
    check('COPY of 100k rows with a vector(128) column: LanceDB reads them all',
      copied.length === 100000 && copied.every((r) => r.vec.length === 128 && r.vec[0] === (r.id - 9000000) % 97));
  }
  if (await attempt('lance_restore', async () => {
    await client.query(`SELECT lance_restore('${t.name}', ${before})`);
  })) {
    const diff = sameRows(await theirRows(t), await theirRows(t, before));
    check('lance_restore: the new version equals the old one in LanceDB', diff === '', diff);
    await compare('lance_restore: the FDW reads the restored version equal', t);
  }
  if (await attempt('lance_cleanup', async () => {
    await client.query(`SELECT lance_cleanup('${t.name}', now() + interval '1 day')`);
  })) {
    const versions = await (await openLance(t)).listVersions();
    const diff = sameRows(await ourRows(t), await theirRows(t));
    check('lance_cleanup: LanceDB lists only the newest version and reads the same rows',
      versions.length === 1 && diff === '', `${versions.length} versions; ${diff}`);
  }
}

async function main() {
  if (!store)
    rmSync(root, { recursive: true, force: true });
  await client.connect();
  await other.connect();
  await client.query('SET client_min_messages = warning');
  await client.query('CREATE EXTENSION IF NOT EXISTS lancedb_fdw');
  await client.query('DROP SCHEMA IF EXISTS write_interop CASCADE');
  await client.query('CREATE SCHEMA write_interop');
  for (const c of [client, other])
    await c.query('SET search_path = write_interop, public');
  await client.query(`DROP SERVER IF EXISTS write_interop CASCADE`);
  const optionList = (json) => Object.entries(JSON.parse(json || '{}'))
    .map(([k, v]) => `, ${k} ${client.escapeLiteral(v)}`).join('');
  await client.query(`CREATE SERVER write_interop FOREIGN DATA WRAPPER lancedb_fdw
                      OPTIONS (uri ${client.escapeLiteral(root)}${optionList(process.env.LANCE_STORE_OPTIONS)})`);
  if (process.env.LANCE_STORE_SECRETS)
    await client.query(`CREATE USER MAPPING FOR CURRENT_USER SERVER write_interop
                        OPTIONS (${optionList(process.env.LANCE_STORE_SECRETS).slice(2)})`);

  const allLanceMade = [
    { name: 'scalars_50k_v2_0', text: 'txt' },
    { name: 'scalars_50k_v2_1', text: 'txt' },
    { name: 'scalars_50k_v2_2', text: 'txt' },
    { name: 'vectors_small_v2_0', text: 'label', vec: 'vec' },
    { name: 'vectors_10k', text: 'label', vec: 'vec' },
  ];
  const lanceMade = store
    ? allLanceMade.filter((t) => STORE_TABLES.includes(t.name))
    : allLanceMade;
  if (!store) {
    for (const t of lanceMade)
      cpSync(path.join(fixturesDir, `${t.name}.lance`), path.join(root, `${t.name}.lance`), { recursive: true });
    execFileSync('chmod', ['-R', 'a+rwX', root]);
  }
  await client.query(`IMPORT FOREIGN SCHEMA lance LIMIT TO (${lanceMade.map((t) => t.name).join(', ')})
                      FROM SERVER write_interop INTO write_interop`);

  const ours = ['2.0', '2.1', '2.2'].map((v) => ({ name: `ours_v${v.replace('.', '_')}`, text: 'label', vec: 'vec', version: v }));
  for (const t of ours) {
    await client.query(`CREATE FOREIGN TABLE ${t.name} (id bigint NOT NULL, label text, vec vector(128))
                        SERVER write_interop`);
    await client.query(`SELECT lance_create_table('${t.name}', '${t.version}')`);
    await client.query(`INSERT INTO ${t.name} SELECT g, 'row ' || g,
                          array_fill(g::real / 7, ARRAY[128])::vector FROM generate_series(0, 199) g`);
  }

  for (const t of [...lanceMade, ...ours]) {
    await fdwWrites(t);
    await lanceWrites(t);
  }
  for (const t of [lanceMade[0], lanceMade.find((m) => m.vec), ours[0]]) {
    if (await attempt(`${t.name}: lance_compact`, async () => {
      await client.query(`SELECT lance_compact('${t.name}')`);
    }))
      await compare(`${t.name}: LanceDB reads the compacted version equal`, t);
  }
  if (await attempt('lance_merge_insert', async () => {
    await client.query(`SELECT lance_merge_insert('ours_v2_1',
      $$SELECT g::bigint AS id, 'merged' AS label FROM generate_series(190, 260) g$$, '{id}')`);
  })) {
    await compare('lance_merge_insert: LanceDB reads the merged rows equal', ours[1]);
    const merged = (await lanceQuery(ours[1], undefined, ['id', 'label']))
      .filter((r) => r.label === 'merged').map((r) => Number(r.id));
    check('lance_merge_insert: each key once, updated or inserted',
      merged.length === 71 && new Set(merged).size === 71, `${merged.length} merged rows`);
  }
  await concurrency(ours[2]);
  await copyAndRestore(ours[1]);

  await client.query('DROP SCHEMA write_interop CASCADE');
  await client.query('DROP SERVER write_interop CASCADE');
  await client.end();
  await other.end();
  if (!store)
    rmSync(root, { recursive: true, force: true });
}

main().catch((e) => {
  console.log(`FAILED  write interop: ${e.stack}`);
  failed++;
}).finally(() => {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
});
