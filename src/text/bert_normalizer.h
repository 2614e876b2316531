// text/bert_normalizer.h — BertNormalizer of HF tokenizers (normalizers/bert.rs; spec tokenizers.md §1.2):
// clean_text → handle_chinese_chars → strip_accents (NFD, drop Mn) → lowercase, in this order, per code point.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/span.h"

namespace accent::text {

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;  // nullopt: follows `lowercase` (the HF default)
  bool lowercase = true;
  bool strips_accents() const { return strip_accents.value_or(lowercase); }
};

class BertNormalizer {
 public:
  explicit BertNormalizer(BertNormalizerOptions options = {}) : options_(options) {}
  const BertNormalizerOptions& options() const { return options_; }

  // Appends the normalized form of valid UTF-8 `in` to `out`. With `alignment`, also appends for every output
  // byte the byte range of `in` it comes from (HF NormalizedString alignments, used for offsets): a character
  // produced from an input character (cleaned, decomposed, lowercased, or a space put around a CJK character)
  // gets that input character's whole range. NFD alignments are positional, as HF's transform(): after
  // canonical reordering the k-th "replacing" code point of a run gets the k-th input character's range and an
  // inserted one the range of the replacing code point before it.
  void normalize(std::string_view in, std::string& out, std::vector<Span>* alignment = nullptr) const;

 private:
  BertNormalizerOptions options_;
};

}  // namespace accent::text
