// data/batch.h — the tensors one forward pass of a model consumes (sequence or token classification, QA).
//
// B = batch size, T = padded sequence length, C = num_labels. Row-major, b-major.
#pragma once
#include <cstdint>
#include <vector>

namespace accent {

enum class ProblemType { SingleLabel, MultiLabel, Regression };

struct Batch {
  int64_t B = 0, T = 0;
  std::vector<int32_t> input_ids;       // (B, T)
  std::vector<int32_t> token_type_ids;  // (B, T); empty = all zeros
  std::vector<int32_t> attention_mask;  // (B, T); 1 = real token, 0 = padding; empty = all ones
  // Labels (optional, for the loss): single-label uses class_labels (B) with -100 = ignored;
  // multi-label uses float_labels (B, C) of 0/1; regression uses float_labels (B, C).
  std::vector<int64_t> class_labels;
  std::vector<float> float_labels;
  // Token classification: one label per token (B, T), -100 = ignored (special tokens, padding, later sub-tokens).
  std::vector<int64_t> token_labels;
  // Question answering: the answer's first and last token per row (B); the CLS index when there is none.
  std::vector<int64_t> start_positions, end_positions;
};

}  // namespace accent
