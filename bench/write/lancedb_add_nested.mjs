// LanceDB's own append of bench/write/nested_lists.sh's rows (the values
// gen_nested_rows.awk prints), built as Arrow in memory first; only
// table.add() is timed.
//   node lancedb_add_nested.mjs LANCEDB_REF_DIR DB_DIR ROWS
import { lancedbModules, timeAdd } from './lancedb_timed_add.mjs';

const [refDir, dbDir, rowsArg] = process.argv.slice(2);
const n = Number(rowsArg);
const { lancedb, arrow } = lancedbModules(refDir);

const F = (name, type) => new arrow.Field(name, type, true);
const llType = new arrow.List(F('item', new arrow.List(F('item', new arrow.Int64()))));
const boxType = new arrow.List(F('item', new arrow.FixedSizeList(4, F('item', new arrow.Float32()))));
const id = new BigInt64Array(n);
const ll = [];
const boxes = [];
for (let i = 0; i < n; i++) {
  id[i] = BigInt(i);
  ll.push(Array.from({ length: i % 4 + 1 }, (_, j) =>
    Array.from({ length: (i + j) % 5 + 1 }, (_, m) => BigInt(i * 10 + j * 3 + m))));
  boxes.push(Array.from({ length: i % 3 + 1 }, (_, j) => [(i % 100) / 4, j, 0.5, 1.5]));
}
const table = new arrow.Table({
  id: arrow.makeVector(id),
  ll: arrow.vectorFromArray(ll, llType),
  boxes: arrow.vectorFromArray(boxes, boxType),
});

await timeAdd(lancedb, dbDir, table);
