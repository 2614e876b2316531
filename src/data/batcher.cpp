#include "data/batcher.h"

#include <algorithm>
#include <numeric>

#include "core/fnv_hash.h"
#include "core/rng.h"

namespace accent {

std::vector<int64_t> length_grouped_order(const std::vector<int64_t>& lengths, const std::vector<int64_t>& permutation,
                                          int64_t batch_size, int64_t mega_batch_mult) {
  const auto n = static_cast<int64_t>(lengths.size());
  ACCENT_CHECK(static_cast<int64_t>(permutation.size()) == n, "length_grouped_order: permutation has ",
               permutation.size(), " rows, lengths ", n);
  ACCENT_CHECK(batch_size > 0, "batch_size must be positive, got ", batch_size);
  if (mega_batch_mult <= 0) mega_batch_mult = std::max<int64_t>(1, std::min<int64_t>(n / (batch_size * 4), 50));
  const int64_t mega = mega_batch_mult * batch_size;
  std::vector<int64_t> order = permutation;
  int64_t max_block = 0, max_len = -1;
  for (int64_t start = 0, block = 0; start < n; start += mega, ++block) {
    auto first = order.begin() + start, last = order.begin() + std::min(n, start + mega);
    // sorted(megabatch, key=lengths, reverse=True) is stable: equal lengths keep their shuffled order.
    std::stable_sort(first, last, [&](int64_t a, int64_t b) { return lengths[a] > lengths[b]; });
    // torch.argmax over the megabatch maxima: the first block with the largest maximum.
    if (lengths[*first] > max_len) max_len = lengths[*first], max_block = start;
  }
  if (n > 0) std::swap(order[0], order[max_block]);
  return order;
}

Batcher::Batcher(const std::vector<EncodedExample>& examples, BatcherOptions options)
    : examples_(examples), options_(options) {
  ACCENT_CHECK(options_.batch_size > 0, "batch_size must be positive, got ", options_.batch_size);
  ACCENT_CHECK(options_.pad_to_multiple_of >= 0 && options_.pad_to_length >= 0,
               "pad_to_multiple_of and pad_to_length must be >= 0");
}

int64_t Batcher::num_train_batches() const {
  const auto n = static_cast<int64_t>(examples_.size());
  return options_.drop_last ? n / options_.batch_size : (n + options_.batch_size - 1) / options_.batch_size;
}

std::vector<std::vector<int64_t>> Batcher::train_batches(int64_t epoch) const {
  const auto n = static_cast<int64_t>(examples_.size());
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  // The stream for this epoch depends only on (seed, epoch).
  Rng rng = Rng(options_.seed).fork(static_cast<uint64_t>(epoch));
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(static_cast<uint64_t>(i + 1))]);
  if (options_.group_by_length) {
    std::vector<int64_t> lengths(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) lengths[i] = examples_[i].length();
    order = length_grouped_order(lengths, order, options_.batch_size, options_.mega_batch_mult);
  }
  std::vector<std::vector<int64_t>> batches;
  for (int64_t k = 0; k < num_train_batches(); ++k) {
    const int64_t start = k * options_.batch_size, stop = std::min(n, start + options_.batch_size);
    batches.emplace_back(order.begin() + start, order.begin() + stop);
  }
  return batches;
}

std::vector<std::vector<int64_t>> Batcher::eval_batches() const {
  const auto n = static_cast<int64_t>(examples_.size());
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return examples_[a].length() > examples_[b].length(); });
  std::vector<std::vector<int64_t>> batches;
  for (int64_t start = 0; start < n; start += options_.batch_size)
    batches.emplace_back(order.begin() + start, order.begin() + std::min(n, start + options_.batch_size));
  return batches;
}

Batch Batcher::collate(const std::vector<int64_t>& rows) const { return collate(rows, 0); }

int64_t Batcher::longest(const std::vector<int64_t>& rows) const {
  int64_t n = 0;
  for (int64_t r : rows)
    if (r >= 0 && r < static_cast<int64_t>(examples_.size())) n = std::max(n, examples_[static_cast<size_t>(r)].length());
  return n;
}

Batch Batcher::collate(const std::vector<int64_t>& rows, int64_t min_length) const {
  ACCENT_CHECK(!rows.empty(), "collate: empty batch");
  Batch b;
  b.B = static_cast<int64_t>(rows.size());
  int64_t longest = 0;
  bool any_types = false, any_class = false, any_float = false, any_token_labels = false, any_span = false;
  size_t C = 0;
  for (int64_t r : rows) {
    ACCENT_CHECK(r >= 0 && r < static_cast<int64_t>(examples_.size()), "collate: row ", r, " out of range [0, ",
                 examples_.size(), ")");
    const EncodedExample& ex = examples_[static_cast<size_t>(r)];
    ACCENT_CHECK(ex.token_type_ids.empty() || ex.token_type_ids.size() == ex.input_ids.size(), "example ", r,
                 ": token_type_ids has ", ex.token_type_ids.size(), " entries for ", ex.input_ids.size(), " tokens");
    longest = std::max(longest, ex.length());
    any_types |= !ex.token_type_ids.empty();
    any_class |= ex.class_label != -100;
    ACCENT_CHECK(ex.token_labels.empty() || ex.token_labels.size() == ex.input_ids.size(), "example ", r,
                 ": token_labels has ", ex.token_labels.size(), " entries for ", ex.input_ids.size(), " tokens");
    any_token_labels |= !ex.token_labels.empty();
    any_span |= ex.start_position >= 0;
    if (!ex.float_labels.empty()) {
      ACCENT_CHECK(!any_float || ex.float_labels.size() == C, "example ", r, " has ", ex.float_labels.size(),
                   " float labels, others in the batch have ", C);
      any_float = true;
      C = ex.float_labels.size();
    }
  }
  ACCENT_CHECK(!(any_class && any_float), "collate: the batch mixes class labels and float labels");
  int64_t T = std::max({longest, options_.pad_to_length, min_length});
  if (options_.pad_to_multiple_of > 0) T = (T + options_.pad_to_multiple_of - 1) / options_.pad_to_multiple_of * options_.pad_to_multiple_of;
  b.T = T;
  b.input_ids.assign(static_cast<size_t>(b.B * T), options_.pad_id);  // (B, T)
  b.attention_mask.assign(static_cast<size_t>(b.B * T), 0);         // (B, T)
  if (any_types) b.token_type_ids.assign(static_cast<size_t>(b.B * T), options_.pad_type_id);  // (B, T)
  if (any_class) b.class_labels.assign(static_cast<size_t>(b.B), -100);                        // (B)
  if (any_float) b.float_labels.assign(static_cast<size_t>(b.B) * C, 0.0f);                    // (B, C)
  if (any_token_labels) b.token_labels.assign(static_cast<size_t>(b.B * T), -100);             // (B, T)
  if (any_span) {
    b.start_positions.assign(static_cast<size_t>(b.B), 0);  // (B)
    b.end_positions.assign(static_cast<size_t>(b.B), 0);
  }
  for (int64_t i = 0; i < b.B; ++i) {
    const EncodedExample& ex = examples_[static_cast<size_t>(rows[i])];
    const int64_t L = ex.length();
    std::copy(ex.input_ids.begin(), ex.input_ids.end(), b.input_ids.begin() + i * T);
    std::fill_n(b.attention_mask.begin() + i * T, L, 1);
    if (any_types) {
      if (ex.token_type_ids.empty())
        std::fill_n(b.token_type_ids.begin() + i * T, L, 0);
      else
        std::copy(ex.token_type_ids.begin(), ex.token_type_ids.end(), b.token_type_ids.begin() + i * T);
    }
    if (any_class) b.class_labels[i] = ex.class_label;
    if (any_token_labels) std::copy(ex.token_labels.begin(), ex.token_labels.end(), b.token_labels.begin() + i * T);
    if (any_span) {
      ACCENT_CHECK(ex.start_position >= 0 && ex.end_position >= 0, "example ", rows[i],
                   " has no answer positions but others in the batch do");
      b.start_positions[i] = ex.start_position;
      b.end_positions[i] = ex.end_position;
    }
    if (any_float) {
      ACCENT_CHECK(ex.float_labels.size() == C, "example ", rows[i], " has no float labels but others in the batch do");
      std::copy(ex.float_labels.begin(), ex.float_labels.end(), b.float_labels.begin() + i * static_cast<int64_t>(C));
    }
  }
  return b;
}

uint64_t Batcher::fingerprint() const {
  uint64_t h = 0;
  auto mix = [&](const void* data, size_t n) { h = fnv1a64_bytes(data, n, h); };
  auto mix_vec = [&](const auto& v) {
    const uint64_t n = v.size();
    mix(&n, sizeof n);
    if (n) mix(v.data(), n * sizeof(v[0]));
  };
  for (const EncodedExample& ex : examples_) {
    mix_vec(ex.input_ids);
    mix_vec(ex.token_type_ids);
    mix(&ex.class_label, sizeof ex.class_label);
    mix_vec(ex.float_labels);
    mix_vec(ex.token_labels);
    mix(&ex.start_position, sizeof ex.start_position);
    mix(&ex.end_position, sizeof ex.end_position);
  }
  const BatcherOptions& o = options_;
  for (int64_t v : {o.batch_size, int64_t{o.pad_id}, int64_t{o.pad_type_id}, o.pad_to_multiple_of, o.pad_to_length,
                    int64_t{o.group_by_length}, o.mega_batch_mult, int64_t{o.drop_last}, static_cast<int64_t>(o.seed)})
    mix(&v, sizeof v);
  return h;
}

}  // namespace accent
