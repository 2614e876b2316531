// Batcher: resumable per-epoch shuffles, dynamic / fixed / multiple-of padding, masks and labels, HF-style length
// grouping, eval order by length with order restoration.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "core/error.h"
#include "core/rng.h"
#include "data/batcher.h"

namespace accent {
namespace {

std::vector<EncodedExample> make_examples(int64_t n, uint64_t seed, int64_t max_len = 40) {
  Rng rng(seed);
  std::vector<EncodedExample> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t len = 2 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(max_len - 1)));
    for (int64_t t = 0; t < len; ++t) {
      out[i].input_ids.push_back(static_cast<int32_t>(100 + i * 1000 + t));
      out[i].token_type_ids.push_back(t >= len / 2 ? 1 : 0);
    }
    out[i].class_label = i % 3;
  }
  return out;
}

std::vector<int64_t> flatten(const std::vector<std::vector<int64_t>>& batches) {
  std::vector<int64_t> all;
  for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
  return all;
}

TEST(Batcher, EpochOrderIsAPermutationThatDependsOnlyOnSeedAndEpoch) {
  const auto ex = make_examples(103, 1);
  BatcherOptions o;
  o.batch_size = 8;
  o.seed = 7;
  const Batcher a(ex, o), b(ex, o);
  EXPECT_EQ(a.num_train_batches(), 13);
  for (int64_t e : {0, 1, 5}) {
    const auto batches = a.train_batches(e);
    EXPECT_EQ(batches.size(), 13u);
    EXPECT_EQ(batches.back().size(), 103u % 8);
    EXPECT_EQ(batches, b.train_batches(e));  // another batcher, same (seed, epoch): same order (resume)
    std::vector<int64_t> all = flatten(batches);
    std::sort(all.begin(), all.end());
    std::vector<int64_t> want(103);
    std::iota(want.begin(), want.end(), 0);
    EXPECT_EQ(all, want);
  }
  EXPECT_NE(a.train_batches(0), a.train_batches(1));
  o.seed = 8;
  EXPECT_NE(Batcher(ex, o).train_batches(0), a.train_batches(0));
  // Asking for epoch 5 first or after others gives the same batches: no hidden state.
  const Batcher c(ex, BatcherOptions{.batch_size = 8, .seed = 7});
  EXPECT_EQ(c.train_batches(5), a.train_batches(5));
  o.seed = 7;
  o.drop_last = true;
  const Batcher d(ex, o);
  EXPECT_EQ(d.num_train_batches(), 12);
  for (const auto& batch : d.train_batches(0)) EXPECT_EQ(batch.size(), 8u);
}

TEST(Batcher, CollatePadsToLongestWithMaskTypesAndLabels) {
  std::vector<EncodedExample> ex(3);
  ex[0].input_ids = {101, 7, 102};
  ex[0].token_type_ids = {0, 0, 0};
  ex[0].class_label = 1;
  ex[1].input_ids = {101, 8, 9, 10, 102};
  ex[1].token_type_ids = {0, 0, 0, 1, 1};
  ex[1].class_label = 0;
  ex[2].input_ids = {101, 102};
  ex[2].token_type_ids = {0, 0};
  BatcherOptions o;
  o.pad_id = 5;
  const Batcher b(ex, o);
  const Batch batch = b.collate({2, 0, 1});
  EXPECT_EQ(batch.B, 3);
  EXPECT_EQ(batch.T, 5);
  EXPECT_EQ(batch.input_ids, (std::vector<int32_t>{101, 102, 5, 5, 5, 101, 7, 102, 5, 5, 101, 8, 9, 10, 102}));
  EXPECT_EQ(batch.attention_mask, (std::vector<int32_t>{1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1}));
  EXPECT_EQ(batch.token_type_ids, (std::vector<int32_t>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(batch.class_labels, (std::vector<int64_t>{-100, 1, 0}));
  EXPECT_TRUE(batch.float_labels.empty());

  o.pad_to_multiple_of = 8;
  EXPECT_EQ(Batcher(ex, o).collate({0, 1}).T, 8);
  EXPECT_EQ(Batcher(ex, o).collate({0}).T, 8);
  o.pad_to_multiple_of = 0;
  o.pad_to_length = 4;
  EXPECT_EQ(Batcher(ex, o).collate({0, 2}).T, 4);  // fixed length
  EXPECT_EQ(Batcher(ex, o).collate({1}).T, 5);     // never cuts a longer example
  o.pad_to_multiple_of = 3;
  EXPECT_EQ(Batcher(ex, o).collate({0}).T, 6);  // max_length 4 rounded up to a multiple of 3
}

TEST(Batcher, CollateFloatLabelsAndNoTokenTypes) {
  std::vector<EncodedExample> ex(2);
  ex[0].input_ids = {0, 5, 2};
  ex[0].float_labels = {1, 0, 1};
  ex[1].input_ids = {0, 2};
  ex[1].float_labels = {0, 1, 0};
  const Batch b = Batcher(ex, {}).collate({0, 1});
  EXPECT_TRUE(b.token_type_ids.empty());
  EXPECT_TRUE(b.class_labels.empty());
  EXPECT_EQ(b.float_labels, (std::vector<float>{1, 0, 1, 0, 1, 0}));
  ex[1].float_labels = {0.5f};
  EXPECT_THROW(Batcher(ex, {}).collate({0, 1}), Error);
}

TEST(LengthGrouping, FollowsHfLengthGroupedSampler) {
  // Lengths with many ties so stability matters.
  Rng rng(3);
  const int64_t n = 1000, bs = 4;
  std::vector<int64_t> lengths(n);
  for (auto& l : lengths) l = 1 + static_cast<int64_t>(rng.below(30));
  std::vector<int64_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(static_cast<uint64_t>(i + 1))]);
  const std::vector<int64_t> order = length_grouped_order(lengths, perm, bs);
  const int64_t mega = std::min<int64_t>(n / (bs * 4), 50) * bs;  // HF default: 50 * 4 = 200
  ASSERT_EQ(mega, 200);
  ASSERT_EQ(order.size(), perm.size());
  // The global longest row comes first.
  const int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  EXPECT_EQ(lengths[order[0]], longest);
  // Undo HF's single swap to check every megabatch: the block holding the first maximum gave its head to
  // position 0 and received the old head of block 0.
  int64_t max_block = 0;
  for (int64_t s = 0, best = -1; s < n; s += mega) {
    int64_t block_max = 0;
    for (int64_t k = s; k < std::min(n, s + mega); ++k) block_max = std::max(block_max, lengths[perm[k]]);
    if (block_max > best) best = block_max, max_block = s;
  }
  std::vector<int64_t> undone = order;
  std::swap(undone[0], undone[max_block]);
  for (int64_t s = 0; s < n; s += mega) {
    const int64_t e = std::min(n, s + mega);
    // Same rows as the shuffled block, sorted by length descending, ties in shuffled order (Python's stable sort).
    std::vector<int64_t> want(perm.begin() + s, perm.begin() + e);
    std::stable_sort(want.begin(), want.end(), [&](int64_t a, int64_t b) { return lengths[a] > lengths[b]; });
    EXPECT_EQ(std::vector<int64_t>(undone.begin() + s, undone.begin() + e), want) << "megabatch at " << s;
    for (int64_t k = s + 1; k < e; ++k) {
      EXPECT_GE(lengths[undone[k - 1]], lengths[undone[k]]);
      if (lengths[undone[k - 1]] == lengths[undone[k]]) {
        const auto pos = [&](int64_t row) { return std::find(perm.begin() + s, perm.begin() + e, row) - perm.begin(); };
        EXPECT_LT(pos(undone[k - 1]), pos(undone[k])) << "ties must keep the shuffled order";
      }
    }
  }
  // Tiny data: mega_batch_mult falls back to 1.
  const std::vector<int64_t> small = length_grouped_order({3, 9, 1, 7, 5}, {0, 1, 2, 3, 4}, 2);
  EXPECT_EQ(small, (std::vector<int64_t>{1, 0, 3, 2, 4}));
}

TEST(Batcher, GroupByLengthBatchesHaveSimilarLengthsAndCoverAllRows) {
  const auto ex = make_examples(2000, 9, 120);
  BatcherOptions o;
  o.batch_size = 16;
  o.group_by_length = true;
  const Batcher grouped(ex, o);
  o.group_by_length = false;
  const Batcher plain(ex, o);
  auto padding = [&](const Batcher& b) {
    int64_t pad = 0;
    for (const auto& rows : b.train_batches(0)) {
      const Batch batch = b.collate(rows);
      pad += std::count(batch.attention_mask.begin(), batch.attention_mask.end(), 0);
    }
    return pad;
  };
  EXPECT_LT(padding(grouped) * 5, padding(plain));  // far less padding
  auto all = flatten(grouped.train_batches(3));
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), 2000u);
  const auto first = grouped.train_batches(2)[0];
  int64_t longest = 0;
  for (const auto& e : ex) longest = std::max(longest, e.length());
  EXPECT_EQ(grouped.collate(first).T, longest);  // longest batch first
}

TEST(Batcher, EvalOrderIsLongestFirstAndRestorable) {
  const auto ex = make_examples(37, 4);
  BatcherOptions o;
  o.batch_size = 5;
  const Batcher b(ex, o);
  const auto batches = b.eval_batches();
  EXPECT_EQ(batches.size(), 8u);
  const auto order = flatten(batches);
  for (size_t k = 1; k < order.size(); ++k) {
    EXPECT_GE(ex[order[k - 1]].length(), ex[order[k]].length());
    if (ex[order[k - 1]].length() == ex[order[k]].length()) EXPECT_LT(order[k - 1], order[k]);  // stable
  }
  // "Model outputs" computed per batch row: the first token id of each row; restored they line up with examples.
  std::vector<int32_t> outputs;
  for (const auto& rows : batches) {
    const Batch batch = b.collate(rows);
    for (int64_t i = 0; i < batch.B; ++i) outputs.push_back(batch.input_ids[i * batch.T]);
  }
  const auto restored = restore_order(batches, outputs);
  for (size_t i = 0; i < ex.size(); ++i) EXPECT_EQ(restored[i], ex[i].input_ids[0]);
  EXPECT_THROW(restore_order(batches, std::vector<int>(3)), Error);
}

}  // namespace
}  // namespace accent
