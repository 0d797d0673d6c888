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

import { fixedBinaryListWrites, fixedListNullItems, nestedListWrites } from './write_nested_lists.mjs';

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

// The foreign table's columns other than id, as a select list.
async function otherColumns(t) {
  const cols = (await client.query(
    `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS c
       FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [t.name])).rows[0].c;
  return cols.split(', ').filter((c) => c !== 'id').join(', ');
}

// Insert, delete and update through the FDW; LanceDB must dump the same.
async function fdwWrites(t) {
  const rest = await otherColumns(t);
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

// One transaction that reads its own writes: it updates rows it inserted,
// twice, and deletes some of them again, so the fragments it appends
// carry deletion files; LanceDB must read the committed version equal.
async function ownWrites(t) {
  const rest = await otherColumns(t);
  if (!await attempt(`${t.name}: one transaction changing the rows it inserted`, async () => {
    await client.query('BEGIN');
    try {
      await client.query(`INSERT INTO ${t.name} (id, ${rest}) SELECT id + 2000000, ${rest} FROM ${t.name} WHERE id < 20`);
      await client.query(`UPDATE ${t.name} SET ${t.text} = coalesce(${t.text}, '') || '+' WHERE id >= 2000000`);
      await client.query(`UPDATE ${t.name} SET ${t.text} = ${t.text} || '+' WHERE id >= 2000010`);
      await client.query(`DELETE FROM ${t.name} WHERE id % 5 = 1 AND id >= 2000000`);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK');
      throw e;
    }
  })) return;
  await compare(`${t.name}: LanceDB reads a transaction's changes to its own rows`, t);
  const own = (await lanceQuery(t, undefined, ['id', t.text])).filter((r) => Number(r.id) >= 2000000);
  check(`${t.name}: rows inserted then updated twice end with both updates`,
    own.length > 0 && own.every((r) => Number(r.id) % 5 !== 1 &&
      r[t.text].endsWith(Number(r.id) >= 2000010 ? '++' : '+') && !r[t.text].endsWith('+++')),
    `${own.length} rows`);
}

// A transaction that rolls back to a savepoint after inserting, updating
// and deleting (its savepoint's rows flushed to a file it shares with the
// rows before, by a read): LanceDB must read exactly what was kept.
async function savepointWrites(t) {
  const rest = await otherColumns(t);
  const src = (await client.query(`SELECT id::int AS id FROM ${t.name} WHERE id < 10 ORDER BY id`))
    .rows.map((r) => r.id + 3000000);
  let inside = -1;
  if (!await attempt(`${t.name}: a transaction rolled back to a savepoint`, async () => {
    await client.query('BEGIN');
    try {
      await client.query(`INSERT INTO ${t.name} (id, ${rest}) SELECT id + 3000000, ${rest} FROM ${t.name} WHERE id < 10`);
      await client.query('SAVEPOINT s');
      await client.query(`INSERT INTO ${t.name} (id, ${rest}) SELECT id + 3100000, ${rest} FROM ${t.name} WHERE id < 10`);
      await client.query(`UPDATE ${t.name} SET ${t.text} = 'sp-undone' WHERE id % 9 = 2`);
      await client.query(`DELETE FROM ${t.name} WHERE id % 9 = 4`);
      inside = (await client.query(`SELECT count(*)::int AS n FROM ${t.name} WHERE id >= 3100000`)).rows[0].n;
      await client.query('ROLLBACK TO SAVEPOINT s');
      await client.query(`DELETE FROM ${t.name} WHERE id = $1`, [src[0]]);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK');
      throw e;
    }
  })) return;
  await compare(`${t.name}: LanceDB reads what the savepoint rollback kept`, t);
  const rows = await lanceQuery(t, undefined, ['id', t.text]);
  const kept = rows.map((r) => Number(r.id)).filter((id) => id >= 3000000).sort((x, y) => x - y);
  check(`${t.name}: the rows before the savepoint are kept, none of the changes after it`,
    inside === src.filter((id) => (id + 100000) % 9 !== 4).length && kept.join() === src.slice(1).join() &&
      !rows.some((r) => r[t.text] === 'sp-undone'),
    `${inside} rows inside the savepoint, kept ${kept.join(',')}`);
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

// float16 from real, fixed_size_list<float16> and <int32> from Postgres
// arrays, fixed_size_binary from bytea, in tables LanceDB made in each
// file version: LanceDB must dump exactly the values (halves rounded to
// nearest even) and keep appending.
async function typedWrites() {
  const arrow = createRequire(path.join(refDir, 'package.json'))('apache-arrow');
  const schema = new arrow.Schema([
    new arrow.Field('id', new arrow.Int64(), false),
    new arrow.Field('h', new arrow.Float16(), true),
    new arrow.Field('hv', new arrow.FixedSizeList(4, new arrow.Field('item', new arrow.Float16(), true)), true),
    new arrow.Field('iv', new arrow.FixedSizeList(3, new arrow.Field('item', new arrow.Int32(), true)), true),
    new arrow.Field('fb', new arrow.FixedSizeBinary(4), true),
  ]);
  const expected = [
    '{"id":1,"h":0.5,"hv":[1,2,3,4],"iv":[1,2,3],"fb":"01020304"}',
    '{"id":2,"h":1.5,"hv":[0.0999755859375,-2,65504,1.1920928955078125e-7],"iv":[-1,0,2147483647],"fb":"deadbeef"}',
    '{"id":3,"h":null,"hv":null,"iv":null,"fb":null}',
  ].join('\n');
  for (const ver of ['2.0', '2.1', '2.2']) {
    const name = `typed_v${ver.replace('.', '_')}`;
    if (!await attempt(`${name}: insert float16 and fixed-size lists through the FDW`, async () => {
      const db = await lancedb.connect(root);
      await db.createTable(name, [{ id: 1, h: 0.5, hv: [1, 2, 3, 4], iv: [1, 2, 3], fb: new Uint8Array([1, 2, 3, 4]) }],
        { schema, storageOptions: { new_table_data_storage_version: ver } });
      execFileSync('chmod', ['-R', 'a+rwX', root]);
      await client.query(`IMPORT FOREIGN SCHEMA lance LIMIT TO (${name}) FROM SERVER write_interop INTO write_interop`);
      await client.query(`INSERT INTO ${name} VALUES (2, 1.5, '{0.1,-2,65504,1e-7}', '{-1,0,2147483647}', '\\xdeadbeef'),
                                                      (3, NULL, NULL, NULL, NULL)`);
    })) continue;
    const refused = [];
    for (const values of ["(9, 70000, NULL, NULL, NULL)", "(9, 1, '{1,2,3}', NULL, NULL)",
      "(9, 1, '{1,NULL,3,4}', NULL, NULL)", "(9, 1, NULL, NULL, '\\xdead')"]) {
      try {
        await client.query(`INSERT INTO ${name} VALUES ${values}`);
        refused.push('no error');
      } catch (e) {
        refused.push(e.code);
      }
    }
    check(`${name}: a half out of range, an array of the wrong length, a null element, a short binary are refused`,
      refused.join(',') === '22003,2202E,22004,22026', refused.join(','));
    const got = dump(name).map((r) => JSON.stringify(r)).join('\n');
    check(`${name}: LanceDB dumps the float16, fixed-size list and binary values we wrote`, got === expected, got);
    if (await attempt(`${name}: LanceDB appends on top`, async () => {
      const tbl = await openLance({ name });
      await tbl.add([{ id: 4, h: 2.5, hv: [4, 3, 2, 1], iv: [7, 8, 9], fb: new Uint8Array([9, 9, 9, 9]) }]);
    })) {
      const res = await client.query(`SELECT h::text, hv::text, fb::text FROM ${name} WHERE id IN (2, 4) ORDER BY id`);
      check(`${name}: the FDW reads both writers' values`,
        res.rows.length === 2 && res.rows[0].hv === '{0.099975586,-2,65504,1.1920929e-07}' &&
        res.rows[0].fb === '\\xdeadbeef' && res.rows[1].h === '2.5' && res.rows[1].fb === '\\x09090909',
        JSON.stringify(res.rows));
    }
  }
}

// list<int32> and list<float> from Postgres arrays (null lists, empty
// lists, null items; 5000 rows, so 2.1 and 2.2 columns span many pages) in
// tables LanceDB made in each file version; LanceDB dumps them, takes
// single rows at random, appends on top.
async function listWrites() {
  const arrow = createRequire(path.join(refDir, 'package.json'))('apache-arrow');
  const item = (t) => new arrow.Field('item', t, true);
  const schema = new arrow.Schema([
    new arrow.Field('id', new arrow.Int64(), false),
    new arrow.Field('li', new arrow.List(item(new arrow.Int32())), true),
    new arrow.Field('lf', new arrow.List(item(new arrow.Float32())), true),
    new arrow.Field('ls', new arrow.List(item(new arrow.Utf8())), true),
  ]);
  const db = await lancedb.connect(root);
  for (const ver of ['2.0', '2.1', '2.2']) {
    const name = `lists_v${ver.replace('.', '_')}`;
    await db.createTable(name, [{ id: 1, li: [1, 2], lf: [0.5], ls: ['a', 'b'] }],
      { schema, storageOptions: { new_table_data_storage_version: ver } });
  }
  execFileSync('chmod', ['-R', 'a+rwX', root]);
  await client.query(`IMPORT FOREIGN SCHEMA lance LIMIT TO (lists_v2_0, lists_v2_1, lists_v2_2)
                      FROM SERVER write_interop INTO write_interop`);
  for (const name of ['lists_v2_0', 'lists_v2_1', 'lists_v2_2']) {
    if (!await attempt(`${name}: insert lists through the FDW`, async () => {
      await client.query(`INSERT INTO ${name} VALUES (2, '{3,NULL,4}', '{1.5,2.5}', '{x,NULL,""}'),
                            (3, NULL, '{}', '{}'), (4, '{}', NULL, NULL), (5, '{7}', '{NULL}', '{"é ü"}')`);
      await client.query(`INSERT INTO ${name} SELECT g, array_fill(g::int, ARRAY[g % 50]), NULL,
                            array_fill('s' || g, ARRAY[g % 7]) FROM generate_series(10, 5009) g`);
    })) continue;
    const rows = dump(name);
    const head = rows.slice(0, 5).map((r) => JSON.stringify(r)).join(' ');
    check(`${name}: LanceDB dumps the lists we wrote`,
      head === '{"id":1,"li":[1,2],"lf":[0.5],"ls":["a","b"]} ' +
        '{"id":2,"li":[3,null,4],"lf":[1.5,2.5],"ls":["x",null,""]} {"id":3,"li":null,"lf":[],"ls":[]} ' +
        '{"id":4,"li":[],"lf":null,"ls":null} {"id":5,"li":[7],"lf":[null],"ls":["é ü"]}' &&
      rows.length === 5005 &&
      rows.slice(5).every((r) => r.li.length === r.id % 50 && r.li.every((v) => v === r.id) &&
        r.ls.length === r.id % 7 && r.ls.every((v) => v === `s${r.id}`)), head);
    const tbl = await openLance({ name });
    // offsets 4 and 4003 hold ids 5 and 4008 (ids 6..9 were never written)
    const taken = await tbl.takeOffsets([4, 4003]).select(['id', 'li', 'ls']).toArray();
    check(`${name}: LanceDB takes single rows of our list pages`,
      taken.length === 2 && Number(taken[1].id) === 4008 && taken[1].li.length === 4008 % 50 &&
      taken[1].ls.length === 4008 % 7 && taken[1].ls.get(0) === 's4008' &&
      Number(taken[0].id) === 5 && taken[0].li.length === 1 && taken[0].li.get(0) === 7 &&
      taken[0].ls.get(0) === 'é ü',
      JSON.stringify(taken.map((r) => [Number(r.id), r.li ? r.li.length : null, r.ls ? r.ls.length : null])));
    if (await attempt(`${name}: LanceDB appends on top`, async () => {
      await tbl.add([{ id: 9000, li: [9, 0], lf: [], ls: ['z', 'zz'] }]);
    })) {
      const res = await client.query(`SELECT count(*)::int AS n, sum(cardinality(li))::int AS items,
                                             sum(cardinality(ls))::int AS strings,
                                             count(*) FILTER (WHERE ls[1] = 's' || id)::int AS named
                                        FROM ${name}`);
      // row g of the 5000 generated ones holds g % 7 strings
      const generated = (await client.query(`SELECT sum(g % 7)::int AS s FROM generate_series(10, 5009) g`)).rows[0].s;
      check(`${name}: the FDW reads both writers' lists`,
        res.rows[0].n === 5006 && res.rows[0].items === 2 + 3 + 1 + 122500 + 2 &&
        res.rows[0].strings === 2 + 3 + 1 + generated + 2 && res.rows[0].named === 5000 - 714,
        JSON.stringify(res.rows));
    }
  }
}

// Structs from a composite type into the "types" tables LanceDB made in
// each file version (struct<x int32, y utf8>, other columns left null):
// LanceDB dumps them and appends on top, the FDW reads both back.  2.0
// cannot store a null struct: that insert is refused.
// Decimals: LanceDB makes tables with decimal128 and decimal256 fields
// in every file version, the FDW writes numerics into them, and
// lancedb_ref.mjs dumps the unscaled integers; LanceDB appends on top and
// the FDW reads both writers' rows.
async function decimalWrites() {
  const arrow = createRequire(path.join(refDir, 'package.json'))('apache-arrow');
  const schema = new arrow.Schema([
    new arrow.Field('id', new arrow.Int64(), false),
    new arrow.Field('price', new arrow.Decimal(2, 10, 128), true),
    new arrow.Field('big', new arrow.Decimal(5, 40, 256), true),
  ]);
  // the dump prints a negative decimal's two's complement unsigned
  const signed = (v, bits) => {
    if (v === null) return null;
    const x = BigInt(v);
    return (x >= 1n << (bits - 1n) ? x - (1n << bits) : x).toString();
  };
  const want = JSON.stringify([
    [1, null, null], [2, '1234567899', '12345678901234567890123456789012345'],
    [3, '-1', '-100000'], [4, null, null]]);
  for (const ver of ['2.0', '2.1', '2.2']) {
    const name = `decimal_v${ver.replace('.', '_')}`;
    if (!await attempt(`${name}: insert numerics into LanceDB's decimal fields`, async () => {
      const db = await lancedb.connect(root);
      await db.createTable(name, [{ id: 1, price: null, big: null }],
        { schema, storageOptions: { new_table_data_storage_version: ver } });
      execFileSync('chmod', ['-R', 'a+rwX', root]);
      await client.query(`IMPORT FOREIGN SCHEMA lance LIMIT TO (${name}) FROM SERVER write_interop INTO write_interop`);
      await client.query(`INSERT INTO ${name} VALUES (2, 12345678.99, 123456789012345678901234567890.12345),
                                                      (3, -0.005, -1), (4, NULL, NULL)`);
    })) continue;
    let refused;
    try {
      await client.query(`INSERT INTO ${name} (id, price) VALUES (9, 123456789)`);
      refused = 'no error';
    } catch (e) {
      refused = e.code;
    }
    check(`${name}: a value past the decimal's precision is refused with 22003`, refused === '22003', refused);
    const got = JSON.stringify(dump(name).map((r) => [r.id, signed(r.price, 128n), signed(r.big, 256n)]));
    check(`${name}: LanceDB dumps the decimals we wrote`, got === want, got);
    if (await attempt(`${name}: LanceDB appends on top`, async () => {
      const tbl = await openLance({ name });
      await tbl.add([{ id: 5, price: null, big: null }]);
    })) {
      const res = await client.query(`SELECT id::int AS id, price::text AS price, big::text AS big FROM ${name} ORDER BY id`);
      check(`${name}: the FDW reads both writers' decimals`,
        JSON.stringify(res.rows.map((r) => [r.id, r.price, r.big])) === JSON.stringify([
          [1, null, null], [2, '12345678.99', '123456789012345678901234567890.12345'],
          [3, '-0.01', '-1.00000'], [4, null, null], [5, null, null]]),
        JSON.stringify(res.rows));
    }
  }
}

// Nested structs: LanceDB makes struct<box: struct<x, label>, ok> tables
// in every file version, the FDW writes rows of nested composite types
// into them (null structs at each depth where the version has them),
// LanceDB dumps them and appends on top, and the FDW reads both.
async function nestedStructWrites() {
  const arrow = createRequire(path.join(refDir, 'package.json'))('apache-arrow');
  const box = new arrow.Struct([new arrow.Field('x', new arrow.Int32(), true),
    new arrow.Field('label', new arrow.Utf8(), true)]);
  const schema = new arrow.Schema([
    new arrow.Field('id', new arrow.Int64(), false),
    new arrow.Field('o', new arrow.Struct([new arrow.Field('box', box, true),
      new arrow.Field('ok', new arrow.Bool(), true)]), true),
  ]);
  await client.query('CREATE TYPE ns_box AS (x integer, label text)');
  await client.query('CREATE TYPE ns_outer AS (box ns_box, ok boolean)');
  for (const ver of ['2.0', '2.1', '2.2']) {
    const name = `nested_structs_v${ver.replace('.', '_')}`;
    const v20 = ver === '2.0';
    if (!await attempt(`${name}: insert nested composite values into LanceDB's nested structs`, async () => {
      const db = await lancedb.connect(root);
      await db.createTable(name, [{ id: 1, o: { box: { x: 1, label: 'a' }, ok: true } }],
        { schema, storageOptions: { new_table_data_storage_version: ver } });
      execFileSync('chmod', ['-R', 'a+rwX', root]);
      await client.query(`CREATE FOREIGN TABLE ${name} (id bigint NOT NULL, o ns_outer) SERVER write_interop`);
      await client.query(`INSERT INTO ${name} VALUES (2, ROW(ROW(2, 'b'), false)), (4, ROW(ROW(NULL, NULL), NULL))`);
    })) continue;
    const nulls = [];
    for (const values of ['(3, ROW(NULL, true))', '(5, NULL)']) {
      try {
        await client.query(`INSERT INTO ${name} VALUES ${values}`);
        nulls.push('no error');
      } catch (e) {
        nulls.push(e.code);
      }
    }
    check(`${name}: null structs at both depths are ${v20 ? 'refused' : 'written'}`,
      nulls.join() === (v20 ? '0A000,0A000' : 'no error,no error'), nulls.join());
    const got = dump(name).map((r) => JSON.stringify(r)).sort().join(' ');
    const want = [
      '{"id":1,"o":{"box":{"x":1,"label":"a"},"ok":true}}',
      '{"id":2,"o":{"box":{"x":2,"label":"b"},"ok":false}}',
      ...(v20 ? [] : ['{"id":3,"o":{"box":null,"ok":true}}']),
      '{"id":4,"o":{"box":{"x":null,"label":null},"ok":null}}',
      ...(v20 ? [] : ['{"id":5,"o":null}']),
    ].join(' ');
    check(`${name}: LanceDB dumps the nested structs we wrote`, got === want, got);
    if (await attempt(`${name}: LanceDB appends a nested struct on top`, async () => {
      const tbl = await openLance({ name });
      await tbl.add([{ id: 6, o: { box: { x: 6, label: 'f' }, ok: true } }]);
    })) {
      const res = await client.query(`SELECT id::int AS id, o::text AS o FROM ${name} ORDER BY id`);
      const wantRows = [[1, '("(1,a)",t)'], [2, '("(2,b)",f)'], ...(v20 ? [] : [[3, '(,t)']]),
        [4, '("(,)",)'], ...(v20 ? [] : [[5, null]]), [6, '("(6,f)",t)']];
      check(`${name}: the FDW reads both writers' nested structs`,
        JSON.stringify(res.rows.map((r) => [r.id, r.o])) === JSON.stringify(wantRows),
        JSON.stringify(res.rows));
    }
  }
}

// Lists of structs: LanceDB makes list<struct<x, s, inn: struct<k>>>
// tables in every file version, the FDW writes 3000 rows of composite
// arrays into them (several list pages in 2.1; null lists, empty lists,
// null items and null nested structs where the version has them),
// LanceDB dumps exactly those rows and appends on top, and the FDW reads
// LanceDB's rows back equal.
async function listStructWrites() {
  const arrow = createRequire(path.join(refDir, 'package.json'))('apache-arrow');
  const item = new arrow.Struct([new arrow.Field('x', new arrow.Int32(), true),
    new arrow.Field('s', new arrow.Utf8(), true),
    new arrow.Field('inn', new arrow.Struct([new arrow.Field('k', new arrow.Int32(), true)]), true)]);
  const schema = new arrow.Schema([
    new arrow.Field('id', new arrow.Int64(), false),
    new arrow.Field('ps', new arrow.List(new arrow.Field('item', item, true)), true),
  ]);
  await client.query('CREATE TYPE ls_inn AS (k integer)');
  await client.query('CREATE TYPE ls_item AS (x integer, s text, inn ls_inn)');
  // rows as JSON in LanceDB's key order, ids as numbers, to compare both sides
  const asJson = async (from) => (await client.query(
    `SELECT id::int AS id, to_json(ps)::text AS ps FROM ${from} ORDER BY id`)).rows
    .map((r) => JSON.stringify({ id: r.id, ps: r.ps === null ? null : JSON.parse(r.ps) }));
  for (const ver of ['2.0', '2.1', '2.2']) {
    const name = `list_structs_v${ver.replace('.', '_')}`;
    const nulls = ver !== '2.0';
    if (!await attempt(`${name}: insert composite arrays into LanceDB's lists of structs`, async () => {
      const db = await lancedb.connect(root);
      await db.createTable(name, [{ id: 0, ps: [{ x: 0, s: 'lance', inn: { k: 0 } }] }],
        { schema, storageOptions: { new_table_data_storage_version: ver } });
      execFileSync('chmod', ['-R', 'a+rwX', root]);
      await client.query(`CREATE FOREIGN TABLE ${name} (id bigint NOT NULL, ps ls_item[]) SERVER write_interop`);
      await client.query(`CREATE TEMP TABLE ${name}_src AS
        SELECT g::bigint AS id, CASE WHEN g % 7 = 0 THEN NULL WHEN g % 11 = 0 THEN '{}' ELSE
          ARRAY(SELECT CASE WHEN ${nulls} AND (g + j) % 5 = 0 THEN NULL ELSE
                  ROW(CASE WHEN j % 3 = 0 THEN NULL ELSE g * j END,
                      CASE WHEN j % 4 = 1 THEN NULL ELSE 's' || g || '-' || j END,
                      CASE WHEN ${nulls} AND j % 4 = 2 THEN NULL ELSE ROW(g + j)::ls_inn END)::ls_item END
                FROM generate_series(1, g % 6) j) END AS ps
        FROM generate_series(1, 3000) g`);
      await client.query(`INSERT INTO ${name} SELECT * FROM ${name}_src`);
    })) continue;
    const theirs = dump(name).map((r) => JSON.stringify(r));
    const diff = sameRows(['{"id":0,"ps":[{"x":0,"s":"lance","inn":{"k":0}}]}', ...await asJson(`${name}_src`)],
      theirs);
    check(`${name}: LanceDB dumps the lists of structs we wrote`, diff === '', diff);
    if (await attempt(`${name}: LanceDB appends a list of structs on top`, async () => {
      const tbl = await openLance({ name });
      await tbl.add([{ id: 5000, ps: [{ x: 1, s: 'on top', inn: { k: 2 } }, { x: null, s: null, inn: { k: null } }] }]);
    })) {
      const again = sameRows(await asJson(name), dump(name).map((r) => JSON.stringify(r)));
      check(`${name}: the FDW reads both writers' lists of structs`, again === '', again);
    }
  }
}

// Lists as struct members: LanceDB makes struct<t: struct<n, tags:
// list<string>>, z> tables in every file version, the FDW writes 3000
// rows (null and empty lists, null structs at both depths where the
// version has them), LanceDB dumps exactly those rows and appends on top,
// and the FDW reads LanceDB's rows back equal.
async function structListWrites() {
  const arrow = createRequire(path.join(refDir, 'package.json'))('apache-arrow');
  const inner = new arrow.Struct([new arrow.Field('n', new arrow.Int32(), true),
    new arrow.Field('tags', new arrow.List(new arrow.Field('item', new arrow.Utf8(), true)), true)]);
  const schema = new arrow.Schema([
    new arrow.Field('id', new arrow.Int64(), false),
    new arrow.Field('w', new arrow.Struct([new arrow.Field('t', inner, true),
      new arrow.Field('z', new arrow.Bool(), true)]), true),
  ]);
  await client.query('CREATE TYPE sl_inner AS (n integer, tags text[])');
  await client.query('CREATE TYPE sl_wrap AS (t sl_inner, z boolean)');
  const asJson = async (from) => (await client.query(
    `SELECT id::int AS id, to_json(w)::text AS w FROM ${from} ORDER BY id`)).rows
    .map((r) => JSON.stringify({ id: r.id, w: r.w === null ? null : JSON.parse(r.w) }));
  for (const ver of ['2.0', '2.1', '2.2']) {
    const name = `struct_lists_v${ver.replace('.', '_')}`;
    const nulls = ver !== '2.0';
    if (!await attempt(`${name}: insert composites with array attributes into LanceDB's struct lists`, async () => {
      const db = await lancedb.connect(root);
      await db.createTable(name, [{ id: 0, w: { t: { n: 0, tags: ['lance'] }, z: true } }],
        { schema, storageOptions: { new_table_data_storage_version: ver } });
      execFileSync('chmod', ['-R', 'a+rwX', root]);
      await client.query(`CREATE FOREIGN TABLE ${name} (id bigint NOT NULL, w sl_wrap) SERVER write_interop`);
      await client.query(`CREATE TEMP TABLE ${name}_src AS
        SELECT g::bigint AS id, CASE WHEN ${nulls} AND g % 13 = 0 THEN NULL ELSE
          ROW(CASE WHEN ${nulls} AND g % 5 = 0 THEN NULL ELSE
                ROW(g, CASE WHEN g % 3 = 0 THEN NULL WHEN g % 7 = 0 THEN '{}' ELSE
                         ARRAY(SELECT CASE WHEN j = 2 THEN NULL ELSE 't' || g || '-' || j END
                               FROM generate_series(1, g % 4) j) END)::sl_inner END,
              CASE WHEN g % 4 = 0 THEN NULL ELSE g % 2 = 0 END)::sl_wrap END AS w
        FROM generate_series(1, 3000) g`);
      await client.query(`INSERT INTO ${name} SELECT * FROM ${name}_src`);
    })) continue;
    const theirs = dump(name).map((r) => JSON.stringify(r));
    const diff = sameRows(['{"id":0,"w":{"t":{"n":0,"tags":["lance"]},"z":true}}', ...await asJson(`${name}_src`)],
      theirs);
    check(`${name}: LanceDB dumps the lists in structs we wrote`, diff === '', diff);
    if (await attempt(`${name}: LanceDB appends a struct with a list on top`, async () => {
      const tbl = await openLance({ name });
      await tbl.add([{ id: 5000, w: { t: { n: 5, tags: ['on', 'top'] }, z: false } }]);
    })) {
      const again = sameRows(await asJson(name), dump(name).map((r) => JSON.stringify(r)));
      check(`${name}: the FDW reads both writers' lists in structs`, again === '', again);
    }
  }
}

async function structWrites() {
  await client.query('CREATE TYPE st_xy AS (x integer, y text)');
  for (const ver of ['2.0', '2.1', '2.2']) {
    const name = `types_v${ver.replace('.', '_')}`;
    const table = `${name}_st`;
    cpSync(path.join(fixturesDir, `${name}.lance`), path.join(root, `${name}.lance`), { recursive: true });
    execFileSync('chmod', ['-R', 'a+rwX', root]);
    await client.query(`CREATE FOREIGN TABLE ${table} (id integer NOT NULL, st st_xy, lstr text[])
                        SERVER write_interop OPTIONS (table '${name}')`);
    if (!await attempt(`${name}: insert structs from a composite type`, async () => {
      await client.query(`INSERT INTO ${table} VALUES (5000, ROW(1, 'a'), '{p,q}'), (5001, ROW(NULL, 'b'), NULL),
                                                      (5002, ROW(2, NULL), '{}')`);
    })) continue;
    let nullStruct;
    try {
      await client.query(`INSERT INTO ${table} VALUES (5003, NULL, NULL)`);
      nullStruct = 'no error';
    } catch (e) {
      nullStruct = e.code;
    }
    check(`${name}: a null struct is ${ver === '2.0' ? 'refused' : 'written'}`,
      nullStruct === (ver === '2.0' ? '0A000' : 'no error'), nullStruct);
    const got = dump(name, undefined, ['id', 'st', 'lstr']).filter((r) => r.id >= 5000)
      .map((r) => JSON.stringify(r)).join(' ');
    const want = '{"id":5000,"st":{"x":1,"y":"a"},"lstr":["p","q"]} {"id":5001,"st":{"x":null,"y":"b"},"lstr":null} ' +
      '{"id":5002,"st":{"x":2,"y":null},"lstr":[]}' + (ver === '2.0' ? '' : ' {"id":5003,"st":null,"lstr":null}');
    check(`${name}: LanceDB dumps the structs we wrote`, got === want, got);
    if (await attempt(`${name}: LanceDB appends a struct on top`, async () => {
      const tbl = await openLance({ name });
      await tbl.add([{ id: 6000, st: { x: 6, y: 'six' } }]);
    })) {
      const res = await client.query(`SELECT id, (st).x, (st).y, st IS NULL AS isnull FROM ${table}
                                       WHERE id >= 5000 ORDER BY id`);
      check(`${name}: the FDW reads both writers' structs`,
        JSON.stringify(res.rows.map((r) => [r.id, r.x, r.y, r.isnull])) ===
          JSON.stringify([[5000, 1, 'a', false], [5001, null, 'b', false], [5002, 2, null, false],
            ...(ver === '2.0' ? [] : [[5003, null, null, true]]), [6000, 6, 'six', false]]),
        JSON.stringify(res.rows));
    }
  }
}

// lance_create_table from a text[] and a composite-type column makes a
// list<utf8> and a struct LanceDB opens, dumps and appends to.
async function createdNested() {
  for (const ver of ['2.0', '2.1', '2.2']) {
    const name = `nested_v${ver.replace('.', '_')}`;
    if (!await attempt(`${name}: lance_create_table with text[] and a composite type, then insert`, async () => {
      await client.query(`CREATE FOREIGN TABLE ${name} (id bigint NOT NULL, tags text[], pt st_xy)
                          SERVER write_interop`);
      await client.query(`SELECT lance_create_table('${name}', '${ver}')`);
      await client.query(`INSERT INTO ${name} VALUES (1, '{a,b}', ROW(1, 'one')), (2, NULL, ROW(NULL, NULL)),
                                                     (3, '{}', ROW(3, NULL))`);
    })) continue;
    const got = dump(name).map((r) => JSON.stringify(r)).join(' ');
    check(`${name}: LanceDB dumps the created list and struct fields`,
      got === '{"id":1,"tags":["a","b"],"pt":{"x":1,"y":"one"}} {"id":2,"tags":null,"pt":{"x":null,"y":null}} ' +
        '{"id":3,"tags":[],"pt":{"x":3,"y":null}}', got);
    if (await attempt(`${name}: LanceDB appends on top`, async () => {
      const tbl = await openLance({ name });
      await tbl.add([{ id: 4, tags: ['z'], pt: { x: 4, y: 'four' } }, { id: 5, tags: ['y', 'x'], pt: { x: 5, y: 'five' } }]);
    })) {
      const res = await client.query(`SELECT id, tags, (pt).y FROM ${name} WHERE id >= 4 ORDER BY id`);
      check(`${name}: the FDW reads LanceDB's rows back`,
        JSON.stringify(res.rows) === '[{"id":"4","tags":["z"],"y":"four"},{"id":"5","tags":["y","x"],"y":"five"}]',
        JSON.stringify(res.rows));
    }
  }
}

// Tables with stable row ids are refused, not corrupted: we do not write
// the row id sequences LanceDB keeps for them.
async function stableRowIds() {
  const name = 'stable_row_ids';
  cpSync(path.join(fixturesDir, `${name}.lance`), path.join(root, `${name}.lance`), { recursive: true });
  execFileSync('chmod', ['-R', 'a+rwX', root]);
  await client.query(`IMPORT FOREIGN SCHEMA lance LIMIT TO (${name}) FROM SERVER write_interop INTO write_interop`);
  const before = (await openLance({ name })).version();
  let state = '';
  let message = '';
  try {
    await client.query(`DELETE FROM ${name} WHERE id = 1`);
  } catch (e) {
    state = e.code;
    message = `${e.message} ${e.detail || ''}`;
  }
  check('stable_row_ids: a write is refused as unsupported, naming stable row ids',
    state === '0A000' && message.includes('stable row ids'), `${state}: ${message}`);
  check('stable_row_ids: the dataset stays at its version',
    (await (await openLance({ name })).version()) === await before);
}

// LanceDB builds a vector and a scalar index; we delete in two of three
// fragments and compact.  The Rewrite must leave the indexes covering only
// the untouched fragment, LanceDB's indexed search must equal its exact
// search, and a LanceDB handle opened before the compaction must rebase
// its append over our Rewrite.
async function compactIndexed() {
  const arrow = createRequire(path.join(refDir, 'package.json'))('apache-arrow');
  const dim = 16;
  const rows = (start, n) => Array.from({ length: n }, (_, k) => ({
    id: start + k,
    label: `r${start + k}`,
    vec: Array.from({ length: dim }, (_, j) => Math.sin((start + k) * 0.37 + j * 1.3)),
  }));
  const schema = new arrow.Schema([
    new arrow.Field('id', new arrow.Int64(), false),
    new arrow.Field('label', new arrow.Utf8(), true),
    new arrow.Field('vec', new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true)), true),
  ]);
  const t = { name: 'indexed', text: 'label', vec: 'vec' };
  if (!await attempt('indexed: LanceDB makes three fragments and two indexes', async () => {
    const db = await lancedb.connect(root);
    const tbl = await db.createTable(t.name, rows(0, 600), { schema });
    await tbl.add(rows(600, 600));
    await tbl.add(rows(1200, 600));
    await tbl.createIndex('vec', { config: lancedb.Index.ivfFlat({ numPartitions: 4 }) });
    await tbl.createIndex('id', { config: lancedb.Index.btree() });
    execFileSync('chmod', ['-R', 'a+rwX', root]);
    await client.query(`IMPORT FOREIGN SCHEMA lance LIMIT TO (${t.name}) FROM SERVER write_interop INTO write_interop`);
    await client.query(`ALTER FOREIGN TABLE ${t.name} OPTIONS (ADD max_rows_per_file '600')`);
    await client.query(`DELETE FROM ${t.name} WHERE id % 5 = 1 AND id >= 600`);
  })) return;
  const stale = await openLance(t);
  await stale.countRows();
  if (!await attempt('indexed: lance_compact', async () => {
    await client.query(`SELECT lance_compact('${t.name}')`);
  })) return;
  const tbl = await openLance(t);
  const stats = await tbl.indexStats('vec_idx');
  check('indexed: after the Rewrite the index covers only the fragment it did not touch',
    stats.numIndexedRows === 600 && stats.numUnindexedRows === 960,
    `${stats.numIndexedRows} indexed, ${stats.numUnindexedRows} not`);
  let differ = 0;
  for (let q = 0; q < 20; q++) {
    const qv = rows(q * 89 + 3, 1)[0].vec.map((x) => x + 0.01);
    const ids = async (query) => (await query.limit(10).select(['id']).toArray()).map((r) => Number(r.id)).join(',');
    if (await ids(tbl.search(qv).nprobes(4)) !== await ids(tbl.search(qv).bypassVectorIndex()))
      differ++;
  }
  check('indexed: LanceDB\'s indexed search equals its exact search after the compaction',
    differ === 0, `${differ} of 20 queries differ`);
  const moved = await tbl.query().where('id = 1202').select(['label']).toArray();
  const gone = await tbl.query().where('id = 1201').select(['label']).toArray();
  check('indexed: the btree finds a moved row and not a deleted one',
    moved.length === 1 && moved[0].label === 'r1202' && gone.length === 0);
  await compare('indexed: the FDW reads the compacted version equal', t);
  if (await attempt('indexed: a LanceDB append read before the compaction', async () => {
    await stale.add(rows(7000, 5));
  }))
    check('indexed: LanceDB rebased its append over our Rewrite',
      (await (await openLance(t)).countRows()) === 1565);
}

async function copyAndRestore(t) {
  const before = (await client.query(
    `SELECT max(version)::int AS v FROM lance_versions('${t.name}')`)).rows[0].v;
  // 100k rows of vector(128) text in plain decimals ("-0.501505"), once on
  // COPY's fast path and once on the standard path (ids 1e6 higher)
  const awk = (label, base) => "awk 'BEGIN{for(i=0;i<100000;i++){printf \"%d\\t" + label +
    "\\t[\", " + base + "+i; for(j=0;j<128;j++) printf \"%s%.6g\", (j?\",\":\"\"), " +
    "((i*131+j*17)%2001-1000)/997; print \"]\"}}'";
  const element = (i, j) => Math.fround(Number((((i * 131 + j * 17) % 2001 - 1000) / 997).toPrecision(6)));
  if (!store && await attempt('COPY of 100k rows with a vector(128) column', async () => {
    // the fast path is a hook of the library: load it for this session
    await client.query("LOAD 'lancedb_fdw'");
    await client.query(`COPY ${t.name} (id, label, vec) FROM PROGRAM $$${awk('copied', 9000000)}$$`);
    await client.query('SET lancedb.copy_fast_path = off');
    await client.query(`COPY ${t.name} (id, label, vec) FROM PROGRAM $$${awk('copied_std', 10000000)}$$`);
    await client.query('RESET lancedb.copy_fast_path');
  })) {
    const rows = dump(t.name, undefined, ['id', 'label', 'vec']);
    const copied = rows.filter((r) => r.label === 'copied');
    const std = new Map(rows.filter((r) => r.label === 'copied_std').map((r) => [r.id - 1000000, r.vec]));
    check('COPY of 100k rows with a vector(128) column: LanceDB reads them all, each float as Postgres parses it',
      copied.length === 100000 && copied.every((r) => r.vec.length === 128 &&
        r.vec.every((x, j) => x === element(r.id - 9000000, j))));
    check('COPY of 100k rows with a vector(128) column: the fast path wrote what the standard path wrote',
      std.size === 100000 && copied.every((r) => {
        const other = std.get(r.id);
        return other && other.every((x, j) => Object.is(x, r.vec[j]));
      }));
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
    await ownWrites(t);
    await savepointWrites(t);
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
  // Type conversions, stable row ids and index-aware compaction do not
  // depend on where the files live: they run on local disk only.
  if (!store) {
    await typedWrites();
    await listWrites();
    await structWrites();
    await decimalWrites();
    await nestedStructWrites();
    await listStructWrites();
    await structListWrites();
    await createdNested();
    const nestedArgs = {
      client, lancedb, root, dump, check, attempt, sameRows,
      arrow: createRequire(path.join(refDir, 'package.json'))('apache-arrow'),
    };
    await nestedListWrites(nestedArgs);
    await fixedBinaryListWrites(nestedArgs);
    await fixedListNullItems(nestedArgs);
    await stableRowIds();
    await compactIndexed();
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
