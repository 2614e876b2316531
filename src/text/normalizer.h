// text/normalizer.h — the tokenizer.json "normalizer": one normalizer or a Sequence of them, applied in order
// (tokenizers/src/normalizers). Supported: BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents,
// Strip, Replace (a String pattern, or the Regex " {2,}"), Prepend, Precompiled (SentencePiece's charsmap), and
// Sequence of these.
//
// Alignments follow HF NormalizedString: every normalized character keeps the byte range of the original
// character it came from. Each step is expressed as HF's `transform` input — the new characters, each with a
// change: 0 = replaces the next current character (takes its alignment), +1 = inserted (takes the alignment of
// the character before it), −N = replaces the next character and then removes N more. So:
//   Lowercase       every char's lowercase; the 2nd.. chars of a multi-char mapping are inserted;
//   StripAccents    removes combining marks (General_Category M); kept chars keep their alignment;
//   Strip           removes leading/trailing White_Space;
//   Replace(p, c)   every non-overlapping occurrence of the string p (left to right) becomes c; c's chars take
//                   the alignment of the match's last character (of the Regex patterns, " {2,}" is supported:
//                   each run of two or more spaces);
//   Prepend(p)      (non-empty text only) p's chars take the first character's alignment;
//   NFD/NFKD        canonical/compatibility decomposition + canonical ordering (the flags of append_nfd);
//   NFC/NFKC        decomposition, then canonical composition: a composed character replaces its starter and
//                   the marks it absorbed are removed (text/unicode.h compose_pair);
//   Precompiled     per extended grapheme cluster (utf8proc's segmentation) of fewer than 6 bytes the charsmap's
//                   replacement of the whole cluster if it has one, else per character the character's
//                   replacement or the character; a replacement's chars replace the old ones one for one, extra
//                   new ones are inserted, and missing ones are taken off the last char emitted so far
//                   (tokenizers normalizers/precompiled.rs `replace`).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/bert_normalizer.h"
#include "text/precompiled_charsmap.h"
#include "text/span.h"

namespace accent::text {

struct NormalizerStep {
  enum class Kind { Bert, Nfc, Nfd, Nfkc, Nfkd, Lowercase, StripAccents, Strip, Replace, Prepend, Precompiled };
  Kind kind = Kind::Bert;
  BertNormalizerOptions bert;               // Bert
  bool strip_left = true, strip_right = true;  // Strip
  std::string pattern;                      // Replace: the String pattern searched
  bool spaces_regex = false;                // Replace: the pattern is the Regex " {2,}" (SentencePiece converters)
  std::string content;                      // Replace: what it becomes; Prepend: what is put in front
  std::shared_ptr<const PrecompiledCharsmap> charsmap;  // Precompiled
};

class Normalizer {
 public:
  // `as_sequence`: the steps were (and are written back as) a "Sequence" normalizer.
  explicit Normalizer(std::vector<NormalizerStep> steps, bool as_sequence = false);
  static Normalizer bert(const BertNormalizerOptions& options) {
    NormalizerStep s;
    s.bert = options;
    return Normalizer({s});
  }

  // Appends the normalized form of valid UTF-8 `in` to `out`; with `alignment`, also one original byte range
  // (into `in`) per appended byte.
  void normalize(std::string_view in, std::string& out, std::vector<Span>* alignment = nullptr) const;

  const std::vector<NormalizerStep>& steps() const { return steps_; }
  bool as_sequence() const { return as_sequence_; }
  // The BertNormalizer options when this normalizer is exactly one BertNormalizer (the BERT families, whose
  // tokenizer_config keys override them), else nullptr.
  const BertNormalizerOptions* bert_options() const {
    return steps_.size() == 1 && !as_sequence_ && steps_[0].kind == NormalizerStep::Kind::Bert ? &steps_[0].bert
                                                                                              : nullptr;
  }

 private:
  std::vector<NormalizerStep> steps_;
  std::vector<BertNormalizer> bert_;  // one per Bert step, in order
  std::vector<std::u32string> patterns_, contents_;  // per step: pattern and content as code points
  bool as_sequence_;
};

}  // namespace accent::text
