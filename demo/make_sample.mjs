// Writes demo/items.lance with the real LanceDB: 2,000 products in five
// categories, each with a 16-dimensional embedding near its category's
// centre, so nearest neighbours visibly share a category.  Deterministic
// (a fixed-seed generator); the committed copy was made by LanceDB 0.39.
//
//   node demo/make_sample.mjs [LANCEDB_MODULE_DIR]
//
// LANCEDB_MODULE_DIR: a folder whose node_modules has @lancedb/lancedb and
// apache-arrow (default: test/interop/.lancedb, where the tests install it).

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.argv[2] || path.join(here, '..', 'test', 'interop', '.lancedb');
const require = createRequire(path.join(path.resolve(modules), 'package.json'));
const lancedb = require('@lancedb/lancedb');
const arrow = require('apache-arrow');

let state = 42;
function random() {	// xorshift32, so the sample is the same every time
  state ^= state << 13; state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5; state >>>= 0;
  return state / 4294967296;
}

const DIM = 16;
const categories = ['books', 'garden', 'kitchen', 'music', 'toys'];
const centres = categories.map(() => Array.from({ length: DIM }, () => random() * 2 - 1));

const rows = [];
for (let i = 1; i <= 2000; i++) {
  const c = i % categories.length;
  rows.push({
    id: i,
    name: `${categories[c]} item ${i}`,
    category: categories[c],
    price: Math.round((5 + random() * 95) * 100) / 100,
    embedding: centres[c].map((x) => Math.fround(x + (random() - 0.5) * 0.6)),
  });
}

const schema = new arrow.Schema([
  new arrow.Field('id', new arrow.Int64(), false),
  new arrow.Field('name', new arrow.Utf8(), true),
  new arrow.Field('category', new arrow.Utf8(), true),
  new arrow.Field('price', new arrow.Float64(), true),
  new arrow.Field('embedding',
    new arrow.FixedSizeList(DIM, new arrow.Field('item', new arrow.Float32(), true)), true),
]);

const db = await lancedb.connect(here);
await db.createTable('items', lancedb.makeArrowTable(rows, { schema }), { mode: 'overwrite' });
console.log(`wrote ${path.join(here, 'items.lance')}: ${rows.length} rows`);
