// What lancedb_add.mjs and lancedb_add_nested.mjs share: LanceDB and Arrow
// from the reference modules, and the one timed step, table.add() of an
// Arrow table built beforehand into a new empty table.
import { createRequire } from 'node:module';
import path from 'node:path';

export function lancedbModules(refDir) {
  const require = createRequire(path.join(refDir, 'package.json'));
  return { lancedb: require('@lancedb/lancedb'), arrow: require('apache-arrow') };
}

// Prints {"rows": the table's count after the add, "seconds": the add's time}.
export async function timeAdd(lancedb, dbDir, table) {
  const db = await lancedb.connect(dbDir);
  const tbl = await db.createEmptyTable('bench', table.schema, { mode: 'overwrite' });
  const t0 = process.hrtime.bigint();
  await tbl.add(table);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ rows: await tbl.countRows(), seconds: secs }));
}
