// gen_unicode_tables.js — writes src/text/unicode_tables.inc: the character classes exactly as Hugging Face
// `tokenizers` (the Rust core, via @anush008/tokenizers) sees them, for every code point U+0000..U+10FFFF.
//
// Why a generated table instead of utf8proc alone: HF tokenizers pins several Unicode versions at once.
//   - BertNormalizer control test, BertPreTokenizer punctuation and the strip-accents Mn filter use the
//     `unicode_categories` 0.1.1 crate (Unicode 8.0 categories, e.g. U+166D is still Po there).
//   - The ByteLevel regex (\p{L}, \p{N}, \s; Oniguruma) and char::to_lowercase (Rust std) are Unicode 16.
//   utf8proc 2.8 is Unicode 15.0, so it disagrees on ~5,600 code points (measured when this was written).
// This script asks the oracle about each code point through its public normalizer/pre-tokenizer API and
// records the answers as sorted inclusive ranges. NFD/NFKD take their mappings from utf8proc (they never change
// once assigned), applied only to the code points HF's crate decomposes (nfd/nfkd_decomposes), and canonical
// ordering needs which code points are non-starters there: HF's NFD (the unicode-normalization-alignments crate) has an older
// Unicode, where marks added since are unassigned starters (combining class 0). Classes never change once
// assigned, so the set of HF's non-starters ("combining") is all accent needs beside utf8proc's class values.
//
// Run:  cd tests/oracle && node gen_unicode_tables.js ../../src/text/unicode_tables.inc   (~20 s)
'use strict';
const T = require('@anush008/tokenizers');
const fs = require('fs');
const out = process.argv[2];
if (!out) { console.error('usage: node gen_unicode_tables.js OUTPUT.inc'); process.exit(2); }

const clean = T.bertNormalizer({cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false});
const strip = T.bertNormalizer({cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false});
const lower = T.bertNormalizer({cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: true});
const nfd = T.nfdNormalizer();
const bertPre = T.bertPreTokenizer();
const byteLevel = T.byteLevelPreTokenizer(false, true);

// white_space: Unicode White_Space as Rust char::is_whitespace and the regex \s see it (they agree).
const nfkd = T.nfkdNormalizer();
const stripAccents = T.stripAccentsNormalizer();
const sets = {control: [], white_space: [], punct: [], mark_nonspacing: [], letter: [], number: [], combining: [],
              nfd_decomposes: [], nfkd_decomposes: [], combining_mark: []};
const lowercase = [];  // [cp, [mapped...]] where to_lowercase(cp) != cp
for (let cp = 0; cp <= 0x10FFFF; ++cp) {
  if (cp >= 0xD800 && cp <= 0xDFFF) continue;  // not representable in Rust strings
  const c = String.fromCodePoint(cp);
  // clean_text deletes control chars (and U+0000, U+FFFD), then maps whitespace to ' '.
  if (clean.normalizeString(c) === '' && cp !== 0xFFFD) sets.control.push(cp);
  // BertPreTokenizer: "a?a" gives 3 pieces when ? is punctuation, 2 when it is whitespace.
  if (bertPre.preTokenizeString('a' + c + 'a').length === 3) sets.punct.push(cp);
  // strip accents = NFD then drop Mn; a code point that NFD leaves alone vanishes iff it is Mn.
  const nfdStable = nfd.normalizeString(c) === c;
  if (nfdStable && strip.normalizeString(c) === '') sets.mark_nonspacing.push(cp);
  // Canonical ordering moves a non-starter before U+0301 (class 230) when its class is lower, and after
  // U+0334 (class 1) when higher: a code point moved by either probe has a class > 0 in HF's NFD.
  if (nfdStable && cp >= 0x300 && (nfd.normalizeString('a\u0301' + c) === 'a' + c + '\u0301' ||
                                   nfd.normalizeString('a' + c + '\u0334') === 'a\u0334' + c))
    sets.combining.push(cp);
  // Which code points HF's NFD / NFKD change at all (its crate's Unicode is older than utf8proc's: newer
  // characters are unassigned there and stay as they are), and which ones its StripAccents removes
  // (is_combining_mark, General_Category M of that Unicode).
  if (!nfdStable) sets.nfd_decomposes.push(cp);
  if (nfkd.normalizeString(c) !== c) sets.nfkd_decomposes.push(cp);
  if (stripAccents.normalizeString(c) === '') sets.combining_mark.push(cp);
  const low = lower.normalizeString(c);
  if (low !== c) lowercase.push([cp, [...low].map((x) => x.codePointAt(0))]);
  // GPT-2 regex classes: count pieces of "1?", "!?" and "a?".
  const a = byteLevel.preTokenizeString('1' + c).length;
  const b = byteLevel.preTokenizeString('!' + c).length;
  const d = byteLevel.preTokenizeString('a' + c).length;
  if (a === 2 && b === 2 && d === 1) sets.letter.push(cp);
  else if (a === 1 && b === 2 && d === 2) sets.number.push(cp);
  else if (a === 2 && b === 2 && d === 2) sets.white_space.push(cp);
  else if (!(a === 2 && b === 1 && d === 2)) throw new Error('unclassified code point ' + cp.toString(16));
}

function ranges(list) {
  const r = [];
  for (const cp of list) {
    if (r.length && r[r.length - 1][1] + 1 === cp) r[r.length - 1][1] = cp;
    else r.push([cp, cp]);
  }
  return r;
}
const hex = (x) => '0x' + x.toString(16).toUpperCase();
let s = '// unicode_tables.inc — GENERATED by tests/oracle/gen_unicode_tables.js from the HF tokenizers oracle\n' +
        '// (@anush008/tokenizers, tokenizers 0.22.2). Do not edit; regenerate. Sorted inclusive ranges.\n\n';
for (const [name, list] of Object.entries(sets)) {
  const r = ranges(list);
  s += `// ${list.length} code points\nconstexpr CodePointRange k_${name}_ranges[] = {\n`;
  for (let i = 0; i < r.length; i += 6)
    s += '    ' + r.slice(i, i + 6).map(([x, y]) => `{${hex(x)}, ${hex(y)}}`).join(', ') + ',\n';
  s += '};\n\n';
}
const multi = lowercase.filter(([, m]) => m.length !== 1);
s += `// to_lowercase: ${lowercase.length} single-code-point mappings, sorted by source.\n`;
s += 'constexpr LowercasePair k_lowercase_pairs[] = {\n';
const single = lowercase.filter(([, m]) => m.length === 1);
for (let i = 0; i < single.length; i += 6)
  s += '    ' + single.slice(i, i + 6).map(([x, m]) => `{${hex(x)}, ${hex(m[0])}}`).join(', ') + ',\n';
s += '};\n\n';
s += `// to_lowercase mappings to several code points (${multi.length}).\n`;
s += 'constexpr LowercaseMulti k_lowercase_multi[] = {\n';
for (const [x, m] of multi) s += `    {${hex(x)}, {${m.map(hex).join(', ')}}, ${m.length}},\n`;
s += '};\n';
fs.writeFileSync(out, s);
console.log('wrote', out, Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, v.length])), 'lowercase', lowercase.length, 'multi', multi.length);
