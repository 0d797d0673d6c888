#!/usr/bin/env node
// LanceDB's FTS on the BM25 corpus, timed in process: each query run
// `reps` times after a warm-up pass, its latency the fastest run, which
// keeps most of a shared machine's scheduling noise out of the figures.
// The index is LanceDB's "simple" tokenizer with stemming, stop words,
// ASCII folding and positions off, which tokenizes as the reference does.
//
//   NODE_PATH=.../node_modules node lance_inproc.cjs CORPUS.csv QUERIES.tsv DIR [reps]
//
// Prints one JSON line: build seconds and per-query milliseconds.
'use strict';
const fs = require('fs');
const lancedb = require('@lancedb/lancedb');

// Rows of an RFC 4180 file: quoted fields may hold commas, quotes, newlines.
function readCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') { field += '"'; i++; }
      else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  return rows;
}

async function main() {
  const [csvPath, qPath, dir, repsArg] = process.argv.slice(2);
  const reps = parseInt(repsArg || '3', 10);
  const rows = readCsv(fs.readFileSync(csvPath, 'utf8')).slice(1)
    .map(r => ({ id: parseInt(r[0], 10), title: r[1], body: r[2] }));
  const queries = fs.readFileSync(qPath, 'utf8').split('\n').slice(1).filter(Boolean)
    .map(l => { const f = l.split('\t'); return { qid: f[0], text: f[2] }; });
  const db = await lancedb.connect(dir);
  const table = await db.createTable('docs', rows, { mode: 'overwrite' });
  let t = process.hrtime.bigint();
  await table.createIndex('body', { config: lancedb.Index.fts({
    baseTokenizer: 'simple', lowercase: true, stem: false, removeStopWords: false,
    asciiFolding: false, withPosition: false }) });
  const buildS = Number(process.hrtime.bigint() - t) / 1e9;
  const search = q => table.search(q.text, 'fts').select(['id']).limit(10).toArray();
  for (const q of queries) await search(q);
  const ms = {};
  for (const q of queries) {
    let best = Infinity;
    for (let r = 0; r < reps; r++) {
      t = process.hrtime.bigint();
      await search(q);
      best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
    }
    ms[q.qid] = best;
  }
  console.log(JSON.stringify({ build_s: buildS, ms }));
}
main().catch(e => { console.error(e); process.exit(2); });
