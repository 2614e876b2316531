// serve/token_classification.h — pipeline("ner") post-processing of one text: per-token logits to the list of
// entities transformers' TokenClassificationPipeline returns (fast-tokenizer path, offsets available; one window,
// no stride, raw text input — as of transformers v4.4x–v4.5x).
//
// The caller encodes the text as the pipeline's preprocess does (tokenizer(text, truncation=True when the
// tokenizer has a model_max_length, return_special_tokens_mask=True, return_offsets_mapping=True)) and runs the
// model; then, with T tokens and C labels:
//
// 1. scores = softmax(logits) per token in float32, numpy style: m = max, e = exp(logit − m), e / sum(e).
// 2. gather_pre_entities: every token whose special_tokens_mask is 0 becomes a pre-entity
//      word  = convert_ids_to_tokens(id) (the vocabulary string, e.g. "##ing", "Ġworld"),
//      start, end = its offsets (code points of the text), word_ref = text[start:end],
//      is_subword = when the tokenizer model has a non-empty continuing_subword_prefix (WordPiece "##"):
//                     len(word) != len(word_ref)  (code points);
//                   otherwise (byte-level BPE, whose prefix is "" or null — the pipeline's fallback heuristic):
//                     start > 0 and no " " among text[start−1:start+1];
//      and for the unknown token's id (unk_token_id): word = word_ref, is_subword = false.
// 3. aggregation_strategy
//      none, simple: per pre-entity, entity = id2label[argmax] (the first maximum), score = that probability;
//      first, average, max: pre-entities are grouped into words — a pre-entity that is_subword joins the word
//        before it (the very first always starts one) — and each word becomes one entity:
//          first:   the first token's argmax label and probability;
//          max:     the token with the largest top probability (the first such), its argmax and probability;
//          average: the per-label mean of the tokens' probabilities (float32), its argmax and value;
//        word = convert_tokens_to_string(token words), start = first token's, end = last token's.
// 4. Except for none, group_entities: consecutive entities join a group while the tag (the label without a "B-"
//    or "I-" prefix) equals the group's last tag and the entity is not "B-"; labels without those prefixes count as
//    "I-". A group becomes {entity_group = its first label's text after the first "-" (the whole label when it has
//    none: split("-", 1)[-1]), score = mean of the scores (float32), word = convert_tokens_to_string(words),
//    start = first's, end = last's}.
// 5. Entities whose entity (none) or entity_group (others) is in ignore_labels are dropped.
//
// Number formats: scores are numpy float32 values; sums follow numpy's pairwise summation and means divide the
// float32 sum by the count in float64 and round to float32 (numpy's nanmean on float32). exp is the C library's
// expf: numpy's float32 exp is a SIMD polynomial (chosen by CPU) that differs from it by one ulp on about one value
// in ten, so scores agree to ~1e-7 relative and a choice between probabilities equal but for their last bit (an
// argmax, max's largest top probability) may differ from numpy's; exact ties are broken as numpy and Python do.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/tokenizer.h"

namespace accent {

enum class AggregationStrategy { None, Simple, First, Average, Max };

// "none" | "simple" | "first" | "average" | "max", any case (transformers upper-cases the name); an error listing
// them otherwise.
AggregationStrategy parse_aggregation_strategy(std::string_view name);
const char* aggregation_strategy_name(AggregationStrategy strategy);  // lower case

struct TokenClassificationOptions {
  AggregationStrategy aggregation_strategy = AggregationStrategy::None;
  std::vector<std::string> ignore_labels = {"O"};
};

// One dict of the pipeline's output. With aggregation none: {entity, score, index, word, start, end}; otherwise
// {entity_group, score, word, start, end} (`label` holds entity or entity_group, `index` is then absent).
struct NerEntity {
  std::string label;
  float score = 0;
  std::optional<int64_t> index;  // the token's position in the encoding (special tokens counted)
  std::string word;
  int64_t start = 0, end = 0;  // code points of the text, [start, end)
};

// The pipeline's postprocess for one text. `encoding` must carry offsets (return_offsets_mapping) and
// special_tokens_mask; `logits` is (T, C) row-major with T = encoding.size(), C = id2label.size(). `text` is the
// encoded text (invalid UTF-8 is read lossily, as the tokenizer reads it).
std::vector<NerEntity> token_classification_postprocess(const Tokenizer& tok, const Encoding& encoding,
                                                        std::string_view text, const std::vector<float>& logits,
                                                        const std::vector<std::string>& id2label,
                                                        const TokenClassificationOptions& options = {});

// The pipeline's list of dicts, keys in its order (entity or entity_group first; index only for none).
nlohmann::ordered_json ner_entities_to_json(const std::vector<NerEntity>& entities, AggregationStrategy strategy);

}  // namespace accent
