// Lists of lists through foreign tables, against the real LanceDB (called
// from write_interop.mjs).  LanceDB makes tables with list<list<int64>>,
// list<list<utf8>> and list<fixed_size_list<float32, 4>> in every file
// version; the FDW inserts 3000 rows of jsonb (null and empty lists at
// both levels, null items; several list pages in 2.1) and updates some;
// LanceDB dumps exactly those rows, appends on top, and the FDW reads
// LanceDB's rows back equal.

import { execFileSync } from 'node:child_process';

// The rows the FDW writes, as SQL: g picks which level is null or empty.
const SOURCE = `
  SELECT g::bigint AS id,
    CASE WHEN g % 7 = 0 THEN NULL ELSE coalesce((
      SELECT jsonb_agg(CASE WHEN (g + j) % 6 = 0 THEN 'null'::jsonb ELSE coalesce((
          SELECT jsonb_agg(CASE WHEN m = 2 AND g % 3 = 0 THEN NULL ELSE g * 100 + j * 10 + m END)
          FROM generate_series(1, (g + j) % 4) m), '[]') END)
      FROM generate_series(1, g % 5) j), '[]') END AS ll,
    CASE WHEN g % 11 = 0 THEN NULL ELSE coalesce((
      SELECT jsonb_agg(CASE WHEN (g + j) % 5 = 0 THEN 'null'::jsonb ELSE coalesce((
          SELECT jsonb_agg(CASE WHEN m = 1 AND g % 4 = 0 THEN NULL ELSE 's' || g || '-' || j || '-' || m END)
          FROM generate_series(1, (g + j) % 3) m), '[]') END)
      FROM generate_series(1, g % 4) j), '[]') END AS ls,
    CASE WHEN g % 13 = 0 THEN NULL ELSE coalesce((
      SELECT jsonb_agg(CASE WHEN (g + j) % 4 = 0 THEN 'null'::jsonb
                            ELSE jsonb_build_array(g, j, 0.5, -1.25) END)
      FROM generate_series(1, g % 4) j), '[]') END AS boxes
  FROM generate_series(1, 3000) g`;

export async function nestedListWrites({ client, lancedb, arrow, root, dump, check, attempt, sameRows }) {
  const F = (n, t, nullable = true) => new arrow.Field(n, t, nullable);
  const schema = new arrow.Schema([
    F('id', new arrow.Int64(), false),
    F('ll', new arrow.List(F('item', new arrow.List(F('item', new arrow.Int64()))))),
    F('ls', new arrow.List(F('item', new arrow.List(F('item', new arrow.Utf8()))))),
    F('boxes', new arrow.List(F('item', new arrow.FixedSizeList(4, F('item', new arrow.Float32()))))),
  ]);
  // rows as JSON in LanceDB's key order, to compare with its dump
  const asJson = async (from) => (await client.query(
    `SELECT id::int AS id, ll::text AS ll, ls::text AS ls, boxes::text AS boxes
       FROM ${from} ORDER BY id`)).rows
    .map((r) => JSON.stringify({
      id: r.id,
      ll: r.ll === null ? null : JSON.parse(r.ll),
      ls: r.ls === null ? null : JSON.parse(r.ls),
      boxes: r.boxes === null ? null : JSON.parse(r.boxes),
    }));
  const theirs = (name) => dump(name).map((r) => JSON.stringify(r)).sort();
  await client.query(`CREATE TEMP TABLE nested_lists_src AS ${SOURCE}`);
  for (const ver of ['2.0', '2.1', '2.2']) {
    const name = `nested_lists_v${ver.replace('.', '_')}`;
    if (!await attempt(`${name}: insert and update jsonb lists of lists in LanceDB's table`, async () => {
      const db = await lancedb.connect(root);
      await db.createTable(name, [{ id: 0, ll: [[1n, 2n], []], ls: [['lance']], boxes: [[1, 2, 3, 4]] }],
        { schema, storageOptions: { new_table_data_storage_version: ver } });
      execFileSync('chmod', ['-R', 'a+rwX', root]);
      await client.query(`IMPORT FOREIGN SCHEMA lance LIMIT TO (${name}) FROM SERVER write_interop INTO write_interop`);
      await client.query(`INSERT INTO ${name} SELECT * FROM nested_lists_src`);
      await client.query(`UPDATE ${name} SET ll = coalesce(ll, '[]') || '[[0], null]'::jsonb WHERE id % 100 = 1`);
    })) continue;
    const want = (await asJson(`(SELECT id, CASE WHEN id % 100 = 1 THEN coalesce(ll, '[]') || '[[0], null]'::jsonb
                                   ELSE ll END AS ll, ls, boxes FROM nested_lists_src) s`));
    const diff = sameRows(['{"id":0,"ll":[[1,2],[]],"ls":[["lance"]],"boxes":[[1,2,3,4]]}', ...want].sort(),
      theirs(name));
    check(`${name}: LanceDB dumps the lists of lists we wrote`, diff === '', diff);
    // random access goes through the pages' repetition index: whole rows,
    // among them rows that start with a null and with an empty inner list
    const plain = (v) => (v === null || v === undefined ? null
      : typeof v === 'bigint' ? Number(v)
        : typeof v === 'object' && typeof v[Symbol.iterator] === 'function' ? Array.from(v, plain) : v);
    await attempt(`${name}: LanceDB takes single rows of our list-of-list pages`, async () => {
      const inOrder = dump(name);
      // (takeOffsets answers in offset order)
      const offsets = [5, 1500, 2999,
        inOrder.findIndex((r) => r.ll !== null && r.ll.length > 1 && r.ll[0] === null),
        inOrder.findIndex((r) => r.ll !== null && r.ll.length > 1 && r.ll[0] !== null && r.ll[0].length === 0),
      ].sort((a, b) => a - b);
      const db = await lancedb.connect(root);
      const taken = await (await db.openTable(name)).takeOffsets(offsets).toArray();
      const got = taken.map((r) => JSON.stringify(
        { id: Number(r.id), ll: plain(r.ll), ls: plain(r.ls), boxes: plain(r.boxes) })).join('\n');
      const want = offsets.map((o) => JSON.stringify(inOrder[o])).join('\n');
      check(`${name}: LanceDB takes single rows of our list-of-list pages`,
        !offsets.includes(-1) && got === want, `${offsets}: ${got} vs ${want}`);
    });
    if (await attempt(`${name}: LanceDB appends lists of lists on top`, async () => {
      const db = await lancedb.connect(root);
      const tbl = await db.openTable(name);
      await tbl.add([{ id: 5000, ll: [[7n, null], [], null], ls: [null, ['on', 'top']], boxes: [null, [5, 6, 7, 8]] }]);
    })) {
      const again = sameRows((await asJson(name)).sort(), theirs(name));
      check(`${name}: the FDW reads both writers' lists of lists`, again === '', again);
    }
  }
}

// list<fixed_size_binary(4)> from bytea[] and list<list<fixed_size_binary(4)>>
// from jsonb, in tables LanceDB made in each file version: the items of
// a fixed-size binary array go in as fixed-width values (it has no
// offsets), a value of the wrong width is refused, and an UPDATE writes
// LanceDB's own rows back unchanged.
export async function fixedBinaryListWrites({ client, lancedb, arrow, root, dump, check, attempt }) {
  const F = (n, t, nullable = true) => new arrow.Field(n, t, nullable);
  const schema = new arrow.Schema([
    F('id', new arrow.Int64(), false),
    F('lb', new arrow.List(F('item', new arrow.FixedSizeBinary(4)))),
    F('llb', new arrow.List(F('item', new arrow.List(F('item', new arrow.FixedSizeBinary(4)))))),
  ]);
  const expected = [
    '{"id":2,"lb":["deadbeef",null],"llb":[["deadbeef",null],[],null]}',
    '{"id":3,"lb":null,"llb":null}',
    '{"id":4,"lb":["01020304"],"llb":[["01020304","05060708"]]}',
  ].join('\n');
  for (const ver of ['2.0', '2.1', '2.2']) {
    const name = `fixed_binary_lists_v${ver.replace('.', '_')}`;
    if (!await attempt(`${name}: insert and update lists of fixed-size binary`, async () => {
      const db = await lancedb.connect(root);
      const b = (...v) => new Uint8Array(v);
      await db.createTable(name, [{ id: 1, lb: [b(1, 2, 3, 4)], llb: [[b(1, 2, 3, 4), b(5, 6, 7, 8)]] }],
        { schema, storageOptions: { new_table_data_storage_version: ver } });
      execFileSync('chmod', ['-R', 'a+rwX', root]);
      await client.query(`IMPORT FOREIGN SCHEMA lance LIMIT TO (${name}) FROM SERVER write_interop INTO write_interop`);
      await client.query(`INSERT INTO ${name} VALUES
        (2, ARRAY['\\xdeadbeef'::bytea, NULL], '[["\\\\xdeadbeef", null], [], null]'), (3, NULL, NULL)`);
      await client.query(`UPDATE ${name} SET id = 4 WHERE id = 1`);
    })) continue;
    const refused = [];
    for (const values of ["(9, ARRAY['\\xdead'::bytea], NULL)", `(9, NULL, '[["\\\\xdeadbeef00"]]')`]) {
      try {
        await client.query(`INSERT INTO ${name} VALUES ${values}`);
        refused.push('no error');
      } catch (e) {
        refused.push(`${e.code} ${e.message}`);
      }
    }
    check(`${name}: a binary of the wrong width in a list or a list of lists is refused`,
      refused.join() === '22026 value of 2 bytes does not fit Lance field "lb.item" of 4 bytes,' +
        '22026 value of 5 bytes does not fit Lance field "llb.item.item" of 4 bytes', refused.join());
    const got = dump(name).map((r) => JSON.stringify(r)).sort().join('\n');
    check(`${name}: LanceDB dumps the fixed-size binary lists we wrote`, got === expected, got);
  }
}

// lance_compact on fixed-size lists LanceDB wrote with null items (a
// vector column, and a list of them): we write their values without item
// validity, so it must refuse them and make no version rather than turn
// the nulls into zeros; once LanceDB deletes those rows it compacts.
export async function fixedListNullItems({ client, lancedb, arrow, root, check, attempt }) {
  const F = (n, t, nullable = true) => new arrow.Field(n, t, nullable);
  const fsl = () => new arrow.FixedSizeList(4, F('item', new arrow.Float32()));
  const schema = new arrow.Schema([F('id', new arrow.Int64(), false), F('vec', fsl()),
    F('boxes', new arrow.List(F('item', fsl())))]);
  const versions = async (name) => (await client.query(
    `SELECT max(version)::int AS v FROM lance_versions('${name}')`)).rows[0].v;
  const compact = async (name) => {
    try {
      await client.query(`SELECT lance_compact('${name}')`);
      return 'compacted';
    } catch (e) {
      return e.message.replace(/.*: field/, 'field');
    }
  };
  for (const ver of ['2.1', '2.2']) {
    const name = `fsl_null_items_v${ver.replace('.', '_')}`;
    if (!await attempt(`${name}: LanceDB writes fixed-size lists with null items`, async () => {
      const db = await lancedb.connect(root);
      const tbl = await db.createTable(name, [{ id: 1, vec: [1, 2, 3, 4], boxes: [[1, 2, 3, 4]] }],
        { schema, storageOptions: { new_table_data_storage_version: ver } });
      await tbl.add([{ id: 2, vec: [1, null, 3, 4], boxes: [] }, { id: 3, vec: null, boxes: [null, [5, null, 7, 8]] },
        { id: 4, vec: [5, 6, 7, 8], boxes: [[5, 6, 7, 8]] }]);
      execFileSync('chmod', ['-R', 'a+rwX', root]);
      await client.query(`IMPORT FOREIGN SCHEMA lance LIMIT TO (${name}) FROM SERVER write_interop INTO write_interop`);
    })) continue;
    const got = [];
    for (const del of ['id = 2', 'id = 3', null]) {
      const before = await versions(name);
      const outcome = await compact(name);
      got.push(`${outcome} (${(await versions(name)) - before} new)`);
      if (del) {
        const db = await lancedb.connect(root);
        await (await db.openTable(name)).delete(del);
      }
    }
    const refused = 'which cannot be written: its values are stored without item validity (0 new)';
    const want = [`field "vec" holds a fixed-size list with a null item, ${refused}`,
      `field "boxes" holds a fixed-size list with a null item, ${refused}`, 'compacted (1 new)'];
    check(`${name}: lance_compact refuses null items in fixed-size lists until LanceDB deletes them`,
      got.join('\n') === want.join('\n'), got.join(' | '));
    const rows = (await client.query(`SELECT id, vec::text, boxes::text FROM ${name} ORDER BY id`)).rows
      .map((r) => `${r.id}|${r.vec}|${r.boxes}`).join(' ');
    check(`${name}: the compacted rows read back`, rows === '1|[1,2,3,4]|[[1, 2, 3, 4]] 4|[5,6,7,8]|[[5, 6, 7, 8]]', rows);
  }
}
