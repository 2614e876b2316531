// data/ner_data.h — token-classification (NER) data: sentences of words, one tag per word, read from CoNLL column
// files or JSON Lines, and the label list Hugging Face's `run_ner.py` derives from them.
//
// CoNLL columns (CoNLL-2003, WNUT-17, most NER corpora): one word per line, columns separated by tabs or spaces,
// the word in the FIRST column and the tag in the LAST (the middle ones, POS and chunk tags in CoNLL-2003, are
// ignored); a line holding only whitespace ends a sentence (WNUT-17's train file separates 2,394 of its 3,394
// sentences by a line that is a single tab); `-DOCSTART-` lines are document markers, not words.
//
// JSON Lines, as `datasets` writes a token-classification split: `{"tokens": [...], "ner_tags": [...]}` per line
// ("tags" is accepted where "ner_tags" is absent); tags are strings or integers (a `ClassLabel` column exported to
// JSON is integers).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace accent {

// One sentence: tokens[i] is tagged tags[i] (same length).
struct TaggedSentence {
  std::vector<std::string> tokens;
  std::vector<std::string> tags;  // integer tags as their decimal string ("0", "12", "-1")
  int64_t line = 0;               // 1-based line of the first token (CoNLL) or of the record (JSON Lines)
  // True when the file gave the tags as JSON integers: `label_list` then orders them as numbers, as Python's sort of
  // ints does (0, 1, 2, 10), not as strings (0, 1, 10, 2).
  bool tags_are_integers = false;
};

// CoNLL column text. `origin` names the file in errors. Rules (checked against WNUT-17, see tests/data/SOURCES.md):
//  - lines end at "\n"; a "\r" before it is dropped (CRLF files); a UTF-8 BOM at the very start is dropped;
//  - columns are separated by runs of tabs and spaces; only ASCII space and tab separate: U+00A0, U+200B, U+FEFF
//    stay inside the word (WNUT-17 dev has a word ending in U+FEFF and words that are a lone U+FE0F);
//  - a whitespace-only line ends the sentence; several in a row are one break; a last sentence without a final
//    blank line still counts;
//  - a line whose first column is `-DOCSTART-` ends the sentence and is skipped (as HF's conll2003 loader does);
//  - a line with one column is an error "<origin>:<line>: expected a token and a tag …";
//  - invalid UTF-8 is an error "<origin>:<line>:<column>: invalid UTF-8" (column in code points).
std::vector<TaggedSentence> parse_conll(std::string_view text, const std::string& origin);
std::vector<TaggedSentence> read_conll_file(const std::string& path);

// JSON Lines text: one object per non-blank line with "tokens" (strings) and "ner_tags" or "tags" (strings or
// integers, not both kinds in one file), of equal length. Errors name "<origin>:<line>" and the key. A file whose
// first non-space byte is `[` is read as one JSON array of such objects (errors then name "record N", 1-based).
std::vector<TaggedSentence> parse_ner_json(std::string_view text, const std::string& origin);
std::vector<TaggedSentence> read_ner_json_file(const std::string& path);

// By extension: ".jsonl" / ".json" (any case) -> parse_ner_json, anything else -> parse_conll.
std::vector<TaggedSentence> read_ner_file(const std::string& path);

// What `run_ner.py`'s get_label_list does when the tag column is not a `ClassLabel`: the set of every tag, sorted.
// String tags sort by code point (UTF-8 byte order is code point order, so a byte sort gives Python's order);
// integer tags sort as numbers. Throws when some sentences have integer tags and others string tags (Python's
// sort would raise TypeError comparing int and str).
std::vector<std::string> label_list(const std::vector<TaggedSentence>& sentences);

// Whether `path` looks like token-classification data, from its name and its first 64 KiB — so a caller can choose
// the NER reader over the text-classification one without a flag:
//  - ".conll", ".iob", ".iob2", ".bio", ".bioes", ".ner": yes;
//  - ".jsonl" / ".json": the first record is an object with a "tokens" array and a "ner_tags" or "tags" array;
//  - otherwise: the first non-blank lines (up to 200, -DOCSTART- skipped) all have the same number (>= 2) of
//    columns split on whitespace, and a blank line separates two of them (a sentence break) unless the sample is
//    the whole file. A CSV/TSV of `text,label` rows fails this: its texts vary in words, or it has no blank lines.
// False for a file that cannot be read. Never throws.
bool looks_like_ner_file(const std::string& path);

}  // namespace accent
