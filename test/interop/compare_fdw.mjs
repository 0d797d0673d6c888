// Read every LanceDB-made fixture table, at every version, through a Lance
// foreign table and compare it value by value with LanceDB's own reading
// (lancedb_ref.mjs dump).  One test per (table, version); prints
// "N passed, N failed".
//
//   node compare_fdw.mjs LANCEDB_REF FIXTURES_DIR
//
// The connection comes from PGHOST/PGPORT/PGUSER/PGDATABASE.  With
// LANCE_STORE_URI set, the foreign tables read a copy of the fixtures in an
// object store instead, with LANCE_STORE_OPTIONS on the server and
// LANCE_STORE_SECRETS in a user mapping (JSON objects; test/storage/run.sh);
// LanceDB still reads the local fixtures.  Both sides
// are normalized to the dump's conventions (interop README): integers
// exact, floats numerically (float32 at float32 precision), timestamps as
// raw integers in the column's unit, dates as days, binaries as hex.

import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const [refScript, fixturesDir] = process.argv.slice(2);
if (!refScript || !fixturesDir) {
  console.error('usage: node compare_fdw.mjs LANCEDB_REF FIXTURES_DIR');
  process.exit(2);
}

function lancedb(...args) {
  const out = execFileSync('node', [refScript, ...args], {
    encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'],
  });
  // keep integers past 2^53 exact: quote long digit runs before parsing
  return out.split('\n').filter((l) => l.length > 0)
    .map((l) => JSON.parse(l.replace(/([:\[,])(-?\d{16,})(?=[,\]}])/g, '$1"$2"')));
}

const client = new pg.Client({ types: { getTypeParser: () => (v) => v } });
const pinned = new Set();	// tables whose version option is set

// --- normalizing our values to the dump's conventions ---------------------

function timestampToUnit(text, arrowType) {
  // "2023-11-14 22:13:21.000001" or "...+00" with TimeZone UTC
  const m = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?/.exec(text);
  if (!m) throw new Error(`unparsed timestamp ${text}`);
  const secs = BigInt(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000);
  const micros = BigInt(((m[7] || '') + '000000').slice(0, 6));
  const us = secs * 1000000n + micros;
  if (/SECOND>|SECOND,/.test(arrowType) && !/MILLI|MICRO|NANO/.test(arrowType)) return us / 1000000n;
  if (/MILLISECOND/.test(arrowType)) return us / 1000n;
  if (/NANOSECOND/.test(arrowType)) return us * 1000n;
  return us;
}

function dateToDays(text) {
  const [y, mo, d] = text.split('-').map(Number);
  return Date.UTC(y, mo - 1, d) / 86400000;
}

function floatEqual(ours, theirs, single) {
  const a = typeof ours === 'string' ? Number(ours) : ours;
  const b = typeof theirs === 'string' ? Number(theirs) : theirs;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return single ? Math.fround(a) === Math.fround(b) : a === b;
}

// Compare one value of ours (text, or parsed JSON for nested) with theirs.
function sameValue(ours, theirs, arrowType) {
  if (ours === null || theirs === null) return ours === null && theirs === null;
  if (/^(Int|Uint|Decimal)/.test(arrowType)) return BigInt(ours) === BigInt(theirs);
  if (arrowType === 'Float32' || arrowType === 'Float16') return floatEqual(ours, theirs, true);
  if (arrowType === 'Float64') return floatEqual(ours, theirs, false);
  if (arrowType === 'Bool') return (ours === true || ours === 't' || ours === 'true') === theirs;
  if (/^(Binary|LargeBinary|FixedSizeBinary)/.test(arrowType))
    return ours.replace(/^\\x/, '') === theirs;
  if (/^Timestamp/.test(arrowType)) return timestampToUnit(ours, arrowType) === BigInt(theirs);
  if (/^Date32/.test(arrowType)) return dateToDays(ours) === theirs;
  if (/^(List|LargeList|FixedSizeList)/.test(arrowType)) {
    const item = /<(.*)>$/.exec(arrowType)[1];
    const list = typeof ours === 'string' ? JSON.parse(ours) : ours;
    return Array.isArray(list) && list.length === theirs.length &&
      list.every((v, i) => sameValue(v, theirs[i], item));
  }
  if (/^Struct/.test(arrowType)) {
    const obj = typeof ours === 'string' ? JSON.parse(ours) : ours;
    return sameStruct(obj, theirs, arrowType);
  }
  return ours === theirs;
}

// "Struct<{x:Int32, y:Utf8}>" members, split at top-level commas.
function structMembers(arrowType) {
  const body = /^Struct<\{(.*)\}>$/.exec(arrowType)[1];
  const members = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    const c = body[i];
    if (c === '<' || c === '{' || c === '[') depth++;
    if (c === '>' || c === '}' || c === ']') depth--;
    if ((c === ',' && depth === 0) || i === body.length) {
      const part = body.slice(start, i).trim();
      const colon = part.indexOf(':');
      members.push([part.slice(0, colon), part.slice(colon + 1)]);
      start = i + 1;
    }
  }
  return members;
}

function sameStruct(obj, theirs, arrowType) {
  return structMembers(arrowType).every(([name, type]) => {
    const v = obj[name] === undefined ? null : obj[name];
    // jsonb keeps numbers and strings; timestamps inside are ISO text
    return sameValue(typeof v === 'number' ? String(v) : v, theirs[name], type);
  });
}

// --- the comparison ----------------------------------------------------------

// Compare the columns the version and the foreign table share: time travel
// may reach a version with fields the newest schema dropped, or lacks.
async function compareVersion(table, version, versionSchema) {
  const types = new Map((await client.query(
    `SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute
      WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [`lance_fixtures.${table}`])).rows.map((r) => [r.attname, r.type]));
  const schema = versionSchema.filter((f) => types.has(f.name));
  const verb = pinned.has(table) ? 'SET' : 'ADD';
  pinned.add(table);
  await client.query(`ALTER FOREIGN TABLE lance_fixtures.${table} OPTIONS (${verb} version '${version}')`);
  // arrays and jsonb as JSON; everything else (vectors too) in its text form
  const cols = schema.map((f) => {
    const id = client.escapeIdentifier(f.name);
    return /\[\]$|^jsonb$/.test(types.get(f.name)) ? `to_jsonb(${id})::text` : `${id}::text`;
  });
  const ours = (await client.query({
    text: `SELECT ${cols.join(', ') || '1'} FROM lance_fixtures.${table}`, rowMode: 'array',
  })).rows;
  const theirs = lancedb('dump', path.join(fixturesDir, `${table}.lance`), '--version', String(version));

  if (ours.length !== theirs.length)
    return `${ours.length} rows, LanceDB has ${theirs.length}`;
  for (let r = 0; r < ours.length; r++) {
    for (let c = 0; c < schema.length; c++) {
      const f = schema[c];
      let mine = ours[r][c];
      if (mine !== null && /^FixedSizeList/.test(f.type)) mine = JSON.parse(mine);
      if (!sameValue(mine, theirs[r][f.name], f.type))
        return `row ${r} column ${f.name}: ours ${JSON.stringify(ours[r][c])}, LanceDB ${JSON.stringify(theirs[r][f.name])}`;
    }
  }
  return null;
}

async function main() {
  await client.connect();
  await client.query("SET TimeZone = 'UTC'");
  await client.query('CREATE EXTENSION IF NOT EXISTS lancedb_fdw');
  await client.query('DROP SCHEMA IF EXISTS lance_fixtures CASCADE');
  await client.query('DROP SERVER IF EXISTS lance_fixtures_srv CASCADE');
  const optionList = (json) => Object.entries(JSON.parse(json || '{}'))
    .map(([k, v]) => `, ${k} ${client.escapeLiteral(v)}`).join('');
  const uri = process.env.LANCE_STORE_URI || fixturesDir;
  await client.query(`CREATE SERVER lance_fixtures_srv FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri ${client.escapeLiteral(uri)}${optionList(process.env.LANCE_STORE_OPTIONS)})`);
  if (process.env.LANCE_STORE_SECRETS)
    await client.query(`CREATE USER MAPPING FOR CURRENT_USER SERVER lance_fixtures_srv OPTIONS (${optionList(process.env.LANCE_STORE_SECRETS).slice(2)})`);
  await client.query('CREATE SCHEMA lance_fixtures');
  await client.query('IMPORT FOREIGN SCHEMA lance FROM SERVER lance_fixtures_srv INTO lance_fixtures');
  // v4 holds null elements, which type vector refuses (tested in pg_regress);
  // real[] holds them, as a user with such data would declare it (a store
  // run may take only some of these tables)
  for (const t of ['types_v2_0', 'types_v2_1', 'types_v2_2'])
    await client.query(`ALTER FOREIGN TABLE IF EXISTS lance_fixtures.${t} ALTER COLUMN v4 TYPE real[]`);

  let passed = 0;
  let failed = 0;
  const tables = readdirSync(fixturesDir).filter((n) => n.endsWith('.lance')).sort();
  for (const dir of tables) {
    const table = dir.slice(0, -'.lance'.length);
    const versions = lancedb('versions', path.join(fixturesDir, dir)).map((v) => v.version);
    for (const version of versions) {
      const schema = lancedb('info', path.join(fixturesDir, dir), '--version', String(version))[0].schema;
      let problem;
      try {
        problem = await compareVersion(table, version, schema);
      } catch (err) {
        problem = `error: ${err.message}`;
      }
      if (problem === null) {
        passed++;
        console.log(`ok      ${table} v${version}`);
      } else {
        failed++;
        console.log(`not ok  ${table} v${version}: ${problem}`);
      }
    }
  }
  await client.end();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
