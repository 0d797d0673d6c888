// lancedb_ref.mjs - the same IVF_PQ search in LanceDB itself, for reference.
//
//   node bench/ivfpq/lancedb_ref.mjs --data DIR/synth128 --n 100000 \
//        --partitions 316 --sub-vectors 16 --refine 20 --nprobes "16 32 64 128"
//
// Loads the first n base vectors of the harness's data set into a LanceDB
// table in a scratch directory, builds an IVF_PQ index with the given
// parameters (LanceDB's defaults for the rest), then runs the 1000 queries
// one at a time per nprobes setting and prints recall@10 against the
// harness's ground truth (DATA.gt.l2.N.ivecs, made by run.sh), QPS and
// latency.  @lancedb/lancedb is loaded from LANCEDB_MODULES (default: the
// interop tests' install).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const MODULES = process.env.LANCEDB_MODULES || "/work/main/test/interop/.lancedb";
const require = createRequire(path.join(MODULES, "package.json"));
const lancedb = require("@lancedb/lancedb");
const arrow = require("apache-arrow");

function flags(argv) {
  const f = { n: 100000, partitions: 316, "sub-vectors": 8, refine: 0, nprobes: "8 16 32 64 128" };
  for (let i = 0; i < argv.length; i += 2) f[argv[i].replace(/^--/, "")] = argv[i + 1];
  if (!f.data) throw new Error("--data PREFIX is required");
  return f;
}

// Read up to n rows of an fvecs/ivecs file: int32 dim, then dim values.
function readVecs(file, n, Type) {
  const buf = fs.readFileSync(file);
  const dim = buf.readInt32LE(0);
  const rows = Math.min(n, buf.length / (4 * (dim + 1)));
  const out = new Type(rows * dim);
  for (let i = 0; i < rows; i++) {
    const src = new Type(buf.buffer, buf.byteOffset + i * 4 * (dim + 1) + 4, dim);
    out.set(src, i * dim);
  }
  return { dim, rows, data: out };
}

function table(base) {
  const item = new arrow.Field("item", new arrow.Float32(), true);
  const vecType = new arrow.FixedSizeList(base.dim, item);
  const schema = new arrow.Schema([
    new arrow.Field("id", new arrow.Int32(), false),
    new arrow.Field("vector", vecType, false),
  ]);
  // ids are row numbers from 0, as the harness's COPY and ground truth use
  const ids = Int32Array.from({ length: base.rows }, (_, i) => i);
  const idData = arrow.makeData({ type: new arrow.Int32(), length: base.rows, data: ids });
  const floats = arrow.makeData({ type: new arrow.Float32(), length: base.rows * base.dim, data: base.data });
  const vecData = arrow.makeData({ type: vecType, length: base.rows, child: floats });
  const data = arrow.makeData({
    type: new arrow.Struct(schema.fields), length: base.rows, nullCount: 0, children: [idData, vecData],
  });
  return new arrow.Table(schema, new arrow.RecordBatch(schema, data));
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function main() {
  const f = flags(process.argv.slice(2));
  const n = Number(f.n);
  const base = readVecs(`${f.data}.base.fvecs`, n, Float32Array);
  const queries = readVecs(`${f.data}.query.fvecs`, 1000, Float32Array);
  const gt = readVecs(`${f.data}.gt.l2.${n}.ivecs`, 1000, Int32Array);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lancedb-ivfpq-ref-"));
  try {
    const db = await lancedb.connect(dir);
    let t0 = process.hrtime.bigint();
    const tbl = await db.createTable("vectors", table(base), { mode: "overwrite" });
    const loadMs = ms(t0);
    t0 = process.hrtime.bigint();
    await tbl.createIndex("vector", {
      config: lancedb.Index.ivfPq({
        distanceType: "l2",
        numPartitions: Number(f.partitions),
        numSubVectors: Number(f["sub-vectors"]),
      }),
    });
    const buildMs = ms(t0);
    console.log(`lancedb ${lancedb.version ?? ""} n=${n} load ${(loadMs / 1000).toFixed(1)}s ` +
      `IVF_PQ(partitions=${f.partitions}, sub_vectors=${f["sub-vectors"]}) build ${(buildMs / 1000).toFixed(1)}s`);
    console.log("nprobes,refine,recall,qps,p50_ms,mean_ms");

    const search = (i, nprobes) => {
      let q = tbl.query().nearestTo(Array.from(queries.data.subarray(i * queries.dim, (i + 1) * queries.dim)))
        .nprobes(nprobes).limit(10).select(["id", "_distance"]);
      if (Number(f.refine) > 0) q = q.refineFactor(Number(f.refine));
      return q.toArray();
    };
    for (const nprobes of f.nprobes.split(/\s+/).map(Number)) {
      for (let i = 0; i < 50; i++) await search(i, nprobes);
      const lat = [];
      let hits = 0;
      const start = process.hrtime.bigint();
      for (let i = 0; i < queries.rows; i++) {
        const t = process.hrtime.bigint();
        const rows = await search(i, nprobes);
        lat.push(ms(t));
        const truth = new Set(Array.from(gt.data.subarray(i * gt.dim, i * gt.dim + 10)));
        for (const r of rows) if (truth.has(r.id)) hits++;
      }
      const total = ms(start);
      lat.sort((a, b) => a - b);
      console.log([nprobes, f.refine, (hits / (10 * queries.rows)).toFixed(4),
        (queries.rows / (total / 1000)).toFixed(1), lat[lat.length >> 1].toFixed(3),
        (total / queries.rows).toFixed(3)].join(","));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
