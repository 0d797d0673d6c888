// Real clients against lancedb_fdw's vector type, unchanged: node-postgres
// with the pgvector npm package's type parser and serializer, binary-format
// parameters, and knex with pgvector's knex extension.
//
// Connection comes from the usual libpq variables (PGHOST, PGPORT, PGUSER,
// PGDATABASE); the runner points them at its throwaway cluster.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import knexFactory from 'knex';
import pg from 'pg';
import pgvector from 'pgvector/pg';
import pgvectorKnex from 'pgvector/knex';

const client = new pg.Client();

before(async () => {
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS lancedb_fdw');
  await pgvector.registerTypes(client);
  await client.query('DROP TABLE IF EXISTS client_items');
  await client.query('CREATE TABLE client_items (id bigserial PRIMARY KEY, embedding vector(3))');
});

after(async () => {
  await client.query('DROP TABLE IF EXISTS client_items');
  await client.end();
});

test('pgvector.toSql values insert and come back as arrays', async () => {
  const rows = [[1, 1, 1], [2, 2, 2], [1, 1, 2], [0.5, -1.25, 3e-7]];
  for (const v of rows)
    await client.query('INSERT INTO client_items (embedding) VALUES ($1)', [pgvector.toSql(v)]);
  await client.query('INSERT INTO client_items (embedding) VALUES (NULL)');

  const res = await client.query('SELECT embedding FROM client_items ORDER BY id');
  assert.deepEqual(res.rows.slice(0, 3).map((r) => r.embedding), rows.slice(0, 3));
  const last = res.rows[3].embedding;
  assert.equal(last.length, 3);
  assert.equal(last[0], 0.5);
  assert.equal(last[1], -1.25);
  assert.equal(Math.fround(last[2]), Math.fround(3e-7));
  assert.equal(res.rows[4].embedding, null);
});

test('ORDER BY <-> with a pgvector parameter returns nearest first', async () => {
  const res = await client.query(
    'SELECT id, embedding, embedding <-> $1 AS dist FROM client_items ' +
    'WHERE embedding IS NOT NULL ORDER BY embedding <-> $1 LIMIT 3',
    [pgvector.toSql([1, 1, 1])]);
  assert.deepEqual(res.rows.map((r) => r.embedding), [[1, 1, 1], [1, 1, 2], [2, 2, 2]]);
  assert.equal(res.rows[0].dist, 0);
  assert.equal(res.rows[1].dist, 1);
  assert.ok(Math.abs(res.rows[2].dist - Math.sqrt(3)) < 1e-12);
});

test('the other distance operators answer through the driver', async () => {
  const q = pgvector.toSql([1, 2, 3]);
  const res = await client.query(
    "SELECT $1::vector <#> '[4,5,6]' AS ip, $1::vector <=> '[2,4,6]' AS cos, " +
    "$1::vector <+> '[4,5,6]' AS l1", [q]);
  assert.equal(res.rows[0].ip, -32);
  assert.ok(Math.abs(res.rows[0].cos) < 1e-7);
  assert.equal(res.rows[0].l1, 9);
});

test('the binary send format is pgvector\'s', async () => {
  // node-postgres cannot read binary result rows (its protocol parser is
  // text-only), so read the bytes of the type's send function as bytea
  const res = await client.query('SELECT vector_send($1) AS v', [pgvector.toSql([1, 2, 3])]);
  const expected = Buffer.alloc(4 + 3 * 4);
  expected.writeInt16BE(3, 0);
  expected.writeInt16BE(0, 2);
  [1, 2, 3].forEach((x, i) => expected.writeFloatBE(x, 4 + 4 * i));
  assert.deepEqual(res.rows[0].v, expected);
});

test('binary parameters are accepted as pgvector sends them', async () => {
  const buf = Buffer.alloc(4 + 3 * 4);
  buf.writeInt16BE(3, 0);
  buf.writeInt16BE(0, 2);
  [7, 8, 9.5].forEach((x, i) => buf.writeFloatBE(x, 4 + 4 * i));
  const res = await client.query('SELECT $1::vector::text AS t', [buf]);
  assert.equal(res.rows[0].t, '[7,8,9.5]');
});

test('a dimension mismatch is an error the driver surfaces', async () => {
  await assert.rejects(
    client.query('INSERT INTO client_items (embedding) VALUES ($1)', [pgvector.toSql([1, 2])]),
    (err) => err.code === '22000' && /3/.test(err.message) && /2/.test(err.message));
});

test('knex with pgvector/knex creates, inserts and orders by distance', async () => {
  const db = knexFactory({ client: 'pg', connection: {} });
  try {
    await db.schema.dropTableIfExists('knex_items');
    await db.schema.createTable('knex_items', (table) => {
      table.increments('id');
      table.vector('embedding', 3);
    });
    await db('knex_items').insert([
      { embedding: pgvectorKnex.toSql([1, 1, 1]) },
      { embedding: pgvectorKnex.toSql([2, 2, 2]) },
      { embedding: pgvectorKnex.toSql([1, 1, 2]) },
    ]);
    const rows = await db('knex_items')
      .orderBy(db.l2Distance('embedding', [1, 1, 1]))
      .limit(5);
    assert.deepEqual(rows.map((r) => pgvectorKnex.fromSql(r.embedding)),
      [[1, 1, 1], [1, 1, 2], [2, 2, 2]]);
    const near = await db('knex_items')
      .select('id')
      .orderBy(db.cosineDistance('embedding', [1, 1, 1]))
      .limit(1);
    assert.ok([1, 2].includes(near[0].id));
  } finally {
    await db.schema.dropTableIfExists('knex_items');
    await db.destroy();
  }
});
