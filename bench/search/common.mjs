// Shared by the search benchmarks: the generated dataset and the timing.

export function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

// ROWS rows of uniform vectors in [-1, 1), written in four appends (four fragments).
export async function makeDataset(db, arrow, name, ROWS, DIM) {
  const r = prng(42);
  const parts = 4;
  let tbl = null;
  for (let p = 0; p < parts; p++) {
    const lo = Math.floor((ROWS * p) / parts);
    const hi = Math.floor((ROWS * (p + 1)) / parts);
    const n = hi - lo;
    const ids = new Int32Array(n);
    const vals = new Float32Array(n * DIM);
    for (let i = 0; i < n; i++) ids[i] = lo + i;
    for (let i = 0; i < n * DIM; i++) vals[i] = r() * 2 - 1;
    const vecType = new arrow.FixedSizeList(DIM, new arrow.Field('item', new arrow.Float32(), true));
    const child = arrow.makeData({ type: new arrow.Float32(), length: n * DIM, data: vals });
    const vec = arrow.makeVector(arrow.makeData({ type: vecType, length: n, nullCount: 0, child }));
    const table = new arrow.Table({ id: arrow.makeVector(ids), vec });
    if (tbl === null) tbl = await db.createTable(name, table);
    else await tbl.add(table);
  }
  return tbl;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function timeIt(fn, runs) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times;
}
