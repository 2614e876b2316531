// train/sharded_train_source: W ranks × batch b serve exactly the rows and padded tensors of 1 process × batch W·b
// (the same seeded shuffle, contiguous shares, padding to the step's longest example); an epoch that does not fill
// whole steps is completed from its beginning (accelerate's even_batches) or cut (drop_last).
#include "train/sharded_train_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "train/batcher_source.h"

using namespace accent;

namespace {

std::vector<EncodedExample> examples(size_t n) {
  std::vector<EncodedExample> out(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t len = 3 + (i * 7919) % 13;  // varied lengths
    for (size_t t = 0; t < len; ++t) out[i].input_ids.push_back(static_cast<int32_t>(100 + i));
    out[i].class_label = static_cast<int64_t>(i % 2);
  }
  return out;
}

BatcherOptions options(int64_t batch, bool drop_last = false) {
  BatcherOptions o;
  o.batch_size = batch;
  o.seed = 11;
  o.drop_last = drop_last;
  return o;
}

// Rows of batch `b` by their first token (100 + example index).
std::vector<int32_t> first_tokens(const Batch& b) {
  std::vector<int32_t> rows;
  for (int64_t r = 0; r < b.B; ++r) rows.push_back(b.input_ids[static_cast<size_t>(r * b.T)]);
  return rows;
}

}  // namespace

TEST(ShardedTrainSource, TwoRanksOfEightAreTheRowsAndPaddingOfOneBatchOfSixteen) {
  const auto ex = examples(160);
  Batcher whole_batcher(ex, options(16)), shard_batcher(ex, options(8));
  BatcherTrainSource whole(whole_batcher, ex.size());
  ShardedTrainSource rank0(shard_batcher, 0, 2), rank1(shard_batcher, 1, 2);
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    ASSERT_EQ(whole.num_batches(epoch), 10u);
    ASSERT_EQ(rank0.num_batches(epoch), 10u);
    ASSERT_EQ(rank1.num_batches(epoch), 10u);
    for (size_t i = 0; i < 10; ++i) {
      const Batch w = whole.batch(epoch, i), a = rank0.batch(epoch, i), b = rank1.batch(epoch, i);
      ASSERT_EQ(a.T, w.T) << "rank 0 pads to the step's longest example";
      ASSERT_EQ(b.T, w.T);
      std::vector<int32_t> joined = first_tokens(a), tail = first_tokens(b);
      joined.insert(joined.end(), tail.begin(), tail.end());
      EXPECT_EQ(joined, first_tokens(w)) << "epoch " << epoch << " step " << i;
      // The tensors are slices: rank r's (8, T) block is rows 8r … 8r+7 of the (16, T) batch.
      const size_t half = static_cast<size_t>(8 * w.T);
      EXPECT_TRUE(std::equal(a.input_ids.begin(), a.input_ids.end(), w.input_ids.begin()));
      EXPECT_TRUE(std::equal(b.attention_mask.begin(), b.attention_mask.end(), w.attention_mask.begin() + half));
      EXPECT_TRUE(std::equal(b.class_labels.begin(), b.class_labels.end(), w.class_labels.begin() + 8));
    }
  }
  EXPECT_EQ(rank0.fingerprint(), rank1.fingerprint());
  EXPECT_NE(rank0.fingerprint(), BatcherTrainSource(whole_batcher, ex.size()).fingerprint());  // batch size differs
}

TEST(ShardedTrainSource, AnUnevenEpochIsCompletedFromItsBeginning) {
  // 37 examples, 2 ranks × 8: 3 steps of 16, the last completed with the epoch's first 11 examples.
  const auto ex = examples(37);
  Batcher batcher(ex, options(8));
  ShardedTrainSource rank0(batcher, 0, 2), rank1(batcher, 1, 2);
  ASSERT_EQ(rank0.num_batches(0), 3u);
  ASSERT_EQ(rank1.num_batches(0), 3u);
  const std::vector<std::vector<int64_t>> order = batcher.train_batches(0);
  std::vector<int64_t> stream;
  for (const auto& b : order) stream.insert(stream.end(), b.begin(), b.end());
  std::map<int32_t, int> seen;
  std::vector<int32_t> served;
  for (size_t i = 0; i < 3; ++i)
    for (ShardedTrainSource* s : {&rank0, &rank1}) {
      const Batch b = s->batch(0, i);
      EXPECT_EQ(b.B, 8);
      for (int32_t t : first_tokens(b)) {
        served.push_back(t);
        ++seen[t];
      }
    }
  ASSERT_EQ(served.size(), 48u);
  for (size_t k = 0; k < served.size(); ++k)
    EXPECT_EQ(served[k], 100 + stream[k % stream.size()]) << k;  // the stream, then its beginning again
  EXPECT_EQ(seen.size(), 37u);  // every example served, 11 of them twice
}

TEST(ShardedTrainSource, DropLastKeepsWholeStepsOnly) {
  const auto ex = examples(37);
  Batcher batcher(ex, options(8, /*drop_last=*/true));  // 4 full batches of 8 → 2 steps of 2 ranks
  ShardedTrainSource rank1(batcher, 1, 2);
  EXPECT_EQ(rank1.num_batches(0), 2u);
  const auto few = examples(7);
  Batcher tiny_batcher(few, options(8, true));
  ShardedTrainSource tiny(tiny_batcher, 0, 2);
  EXPECT_THROW(tiny.num_batches(0), Error);
}
