// serve/batch_scheduler: batches bounded by tokens and rows, longest first; each request gets its own rows back
// whatever it was batched with; a failed forward pass fails exactly the requests in it; shutdown answers what is
// queued. The model is a stand-in whose logits are a function of each row's ids, so a row answered from another
// row's logits shows.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <set>
#include <thread>

#include "core/error.h"
#include "serve/batch_scheduler.h"

using namespace accent;

namespace {

EncodedExample row_of(int32_t first_id, int64_t length) {
  EncodedExample e;
  e.input_ids.assign(static_cast<size_t>(length), 7);
  e.input_ids[0] = first_id;
  return e;
}

// Logits of a row: (first id, length) — C = 2.
std::vector<float> fake_logits(const std::vector<EncodedExample>& examples, int64_t = 0) {
  std::vector<float> out;
  for (const auto& e : examples) {
    out.push_back(static_cast<float>(e.input_ids[0]));
    out.push_back(static_cast<float>(e.length()));
  }
  return out;
}

}  // namespace

TEST(BatchScheduler, PlansBatchesWithinTheTokenAndRowBudgets) {
  const std::vector<int64_t> lengths{10, 8, 8, 5, 5, 5, 2};
  BatchLimits limits;
  limits.max_batch_tokens = 20;  // 10-long rows: 2 per batch; 5-long: 4 per batch
  auto plan = BatchScheduler::plan_batches(lengths, limits);
  const std::vector<PlannedBatch> want{{0, 2, 10}, {2, 4, 8}, {4, 7, 5}};
  EXPECT_EQ(plan, want);
  for (const auto& b : plan) EXPECT_LE(static_cast<int64_t>(b.end - b.begin) * b.padded_length, limits.max_batch_tokens);
  limits.max_batch_requests = 1;
  EXPECT_EQ(BatchScheduler::plan_batches(lengths, limits).size(), lengths.size());
  // A row over the budget runs alone rather than never.
  limits = BatchLimits{};
  limits.max_batch_tokens = 4;
  plan = BatchScheduler::plan_batches({9, 3, 1}, limits);
  const std::vector<PlannedBatch> alone{{0, 1, 9}, {1, 2, 3}, {2, 3, 1}};
  EXPECT_EQ(plan, alone);
}

TEST(BatchScheduler, ARowMuchShorterThanTheBatchStartsTheNext) {
  BatchLimits limits;
  limits.max_batch_tokens = 100000;
  const std::vector<PlannedBatch> want{{0, 2, 100}, {2, 4, 40}, {4, 6, 12}};
  EXPECT_EQ(BatchScheduler::plan_batches({100, 90, 40, 30, 12, 3}, limits), want);
}

TEST(BatchScheduler, ShapeBucketsRoundLengthsUpAndRowsDownToPowersOfTwo) {
  EXPECT_EQ(bucketed_length(1, 512), 16);
  EXPECT_EQ(bucketed_length(16, 512), 16);
  EXPECT_EQ(bucketed_length(17, 512), 32);
  EXPECT_EQ(bucketed_length(33, 512), 64);
  EXPECT_EQ(bucketed_length(300, 512), 512);
  EXPECT_EQ(bucketed_length(60, 62), 62) << "never past the positions";
  EXPECT_EQ(bucketed_length(70, 62), 70) << "never below the row (an over-long row is the pipeline's error)";
  std::set<int64_t> buckets;
  for (int64_t n = 1; n <= 512; ++n) {
    const int64_t b = bucketed_length(n, 512);
    EXPECT_GE(b, n);
    EXPECT_LT(b, 2 * std::max<int64_t>(n, 16)) << n;
    buckets.insert(b);
  }
  EXPECT_EQ(buckets.size(), 6u);

  BatchLimits limits;
  limits.max_batch_tokens = 1000;
  limits.bucket_lengths_up_to = 512;
  const std::vector<int64_t> lengths(13, 20);  // 13 rows of 20 → padded to 32; 31 would fit, 13 remain
  const auto plan = BatchScheduler::plan_batches(lengths, limits);
  const std::vector<PlannedBatch> want{{0, 8, 32}, {8, 12, 32}, {12, 13, 32}};
  EXPECT_EQ(plan, want);
}

TEST(BatchScheduler, EveryRequestGetsItsOwnRowsInItsOrder) {
  std::atomic<int> batches{0};
  std::atomic<int64_t> max_padded{0};
  BatchLimits limits;
  limits.max_batch_tokens = 64;
  BatchScheduler scheduler(
      [&](const std::vector<EncodedExample>& ex, int64_t padded) {
        ++batches;
        EXPECT_EQ(padded, ex.front().length());
        // Sorted longest first within a batch.
        for (size_t i = 1; i < ex.size(); ++i) EXPECT_GE(ex[i - 1].length(), ex[i].length());
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return fake_logits(ex);
      },
      2, limits, [&](const BatchRecord& b) {
        int64_t m = max_padded.load();
        while (b.padded_tokens > m && !max_padded.compare_exchange_weak(m, b.padded_tokens)) {
        }
      });
  constexpr int kClients = 16, kRequests = 20;
  std::vector<std::thread> clients;
  std::atomic<int> wrong{0}, answered{0};
  for (int c = 0; c < kClients; ++c)
    clients.emplace_back([&, c] {
      for (int r = 0; r < kRequests; ++r) {
        std::vector<EncodedExample> rows;
        const int n = 1 + (c + r) % 5;
        for (int i = 0; i < n; ++i) rows.push_back(row_of(c * 1000 + r * 10 + i, 1 + (c * 7 + r * 3 + i * 5) % 30));
        auto result = scheduler.submit(rows).get();
        ++answered;
        for (int i = 0; i < n; ++i)
          if (result.logits[2 * i] != static_cast<float>(rows[i].input_ids[0]) ||
              result.logits[2 * i + 1] != static_cast<float>(rows[i].length()))
            ++wrong;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(answered.load(), kClients * kRequests);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(max_padded.load(), 64);
  // Concurrent requests shared forward passes.
  EXPECT_LT(batches.load(), kClients * kRequests);
}

TEST(BatchScheduler, AFailedForwardPassFailsOnlyItsRequests) {
  BatchLimits limits;
  limits.max_batch_requests = 1;  // one row per pass: the poisoned row's request alone fails
  BatchScheduler scheduler(
      [](const std::vector<EncodedExample>& ex, int64_t) {
        if (ex[0].input_ids[0] == 666) fail("NaN logits");
        return fake_logits(ex);
      },
      2, limits);
  auto bad = scheduler.submit({row_of(1, 3), row_of(666, 2)});
  auto good = scheduler.submit({row_of(5, 4)});
  EXPECT_THROW(bad.get(), Error);
  auto g = good.get();
  EXPECT_EQ(g.logits, (std::vector<float>{5, 4}));
}

TEST(BatchScheduler, ShutdownAnswersWhatIsQueuedThenRefuses) {
  std::atomic<bool> release{false};
  BatchScheduler scheduler(
      [&](const std::vector<EncodedExample>& ex, int64_t) {
        while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return fake_logits(ex);
      },
      2, BatchLimits{});
  std::vector<std::future<BatchScheduler::Result>> answers;
  for (int i = 0; i < 10; ++i) answers.push_back(scheduler.submit({row_of(i, 3)}));
  std::thread stopper([&] { scheduler.shutdown(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  release = true;
  stopper.join();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(answers[i].get().logits[0], static_cast<float>(i));
  EXPECT_THROW(scheduler.submit({row_of(1, 1)}), Error);
}
