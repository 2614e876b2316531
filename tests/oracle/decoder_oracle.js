// decoder_oracle.js — Hugging Face `tokenizers` (Rust core through @anush008/tokenizers) as the oracle for
// accent's decoders (src/text/decoder.h): Tokenizer.decode(ids, skipSpecialTokens) and the tokenizer's own
// decoder's decode(tokens) (what transformers' convert_tokens_to_string calls).
//
//   node decoder_oracle.js JOB.json OUT.json
//   JOB = {"tasks": [{"tokenizer": {"file": TOKENIZER_JSON} | {"gpt2": {"vocab": V, "merges": M,
//                                   "decoder_from": TOKENIZER_JSON}},
//                     "ids": [[id, ...], ...], "tokens": [[token, ...], ...]}]}
//   OUT = {"tasks": [{"decode": [string per ids list], "decode_skip_special": [...], "tokens": [string per list]}]}
// GPT-2 is built from vocab.json + merges.txt as transformers' GPT2Converter builds it; the binding has no
// ByteLevel decoder constructor, so its decoder is taken from a tokenizer.json that has one (RoBERTa's).
'use strict';
const fs = require('fs');
const tk = require('@anush008/tokenizers');

async function load(spec) {
  if (spec.file) return tk.Tokenizer.fromFile(spec.file);
  const g = spec.gpt2;
  const t = new tk.Tokenizer(await tk.BPE.fromFile(g.vocab, g.merges));
  t.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
  t.addSpecialTokens(['<|endoftext|>']);
  t.setDecoder(tk.Tokenizer.fromFile(g.decoder_from).getDecoder());
  return t;
}

async function main() {
  const [jobFile, outFile] = process.argv.slice(2);
  const job = JSON.parse(fs.readFileSync(jobFile, 'utf8'));
  const out = {tasks: []};
  for (const task of job.tasks) {
    const t = await load(task.tokenizer);
    const decoder = t.getDecoder();
    const r = {decode: [], decode_skip_special: [], tokens: []};
    for (const ids of task.ids || []) {
      r.decode.push(await t.decode(ids, false));
      r.decode_skip_special.push(await t.decode(ids, true));
    }
    for (const tokens of task.tokens || []) r.tokens.push(decoder ? decoder.decode(tokens) : tokens.join(' '));
    out.tasks.push(r);
  }
  fs.writeFileSync(outFile, JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
