// Dropout mask statistics and reproducibility: the kept fraction lies within binomial bounds, the same
// (seed, counter) gives the same mask, another counter or seed gives another one, kept values are scaled 1/(1−p).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "ops/dropout.h"

using namespace accent;

namespace {
const OpContext kCpu{Backend::Cpu, Precision::F32};

int64_t count_kept(const std::vector<uint8_t>& m) {
  int64_t k = 0;
  for (uint8_t v : m) k += v;
  return k;
}
}  // namespace

TEST(Dropout, KeptFractionWithinBinomialBounds) {
  const int64_t n = 200000;
  std::vector<float> x(n, 1.0f), y(n);
  std::vector<uint8_t> mask(n);
  for (float p : {0.1f, 0.5f, 0.9f}) {
    dropout_forward(kCpu, x.data(), y.data(), mask.data(), n, p, 42, 0);
    const double kept = static_cast<double>(count_kept(mask));
    const double mean = n * (1.0 - p), sd = std::sqrt(n * p * (1.0 - p));
    EXPECT_LT(std::fabs(kept - mean), 5.0 * sd) << "p=" << p << " kept " << kept << " expected " << mean;
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(y[i], mask[i] ? 1.0f / (1.0f - p) : 0.0f);
    }
  }
}

TEST(Dropout, NoLongRunsOrNeighbourCorrelation) {
  // Adjacent mask bits of a good generator are independent: P(keep_i and keep_{i+1}) ≈ (1−p)².
  const int64_t n = 200000;
  const float p = 0.5f;
  std::vector<float> x(n, 1.0f), y(n);
  std::vector<uint8_t> mask(n);
  dropout_forward(kCpu, x.data(), y.data(), mask.data(), n, p, 3, 0);
  int64_t both = 0;
  for (int64_t i = 0; i + 1 < n; ++i) both += mask[i] & mask[i + 1];
  const double expected = (n - 1) * 0.25, sd = std::sqrt((n - 1) * 0.25 * 0.75);
  EXPECT_LT(std::fabs(both - expected), 6.0 * sd);
}

TEST(Dropout, SameSeedAndCounterSameMaskOtherwiseDifferent) {
  const int64_t n = 10000;
  std::vector<float> x(n, 1.0f), y(n);
  std::vector<uint8_t> a(n), b(n), c(n), d(n);
  Rng r1(5, 100), r2(5, 100);
  dropout_forward(kCpu, x.data(), y.data(), a.data(), n, 0.1f, r1);
  dropout_forward(kCpu, x.data(), y.data(), b.data(), n, 0.1f, r2);
  EXPECT_EQ(a, b);
  EXPECT_EQ(r1.counter(), 100u + n);  // the stream advanced by one draw per element
  dropout_forward(kCpu, x.data(), y.data(), c.data(), n, 0.1f, r1);  // next counter range
  EXPECT_NE(a, c);
  Rng other_seed(6, 100);
  dropout_forward(kCpu, x.data(), y.data(), d.data(), n, 0.1f, other_seed);
  EXPECT_NE(a, d);
  // A mask is a pure function of (seed, counter): element i of a call at base b equals element 0 at base b + i.
  std::vector<uint8_t> one(1);
  dropout_forward(kCpu, x.data(), y.data(), one.data(), 1, 0.1f, 5, 100 + 777);
  EXPECT_EQ(one[0], a[777]);
}

TEST(Dropout, ExtremeProbabilities) {
  const int64_t n = 1000;
  std::vector<float> x(n, 2.0f), y(n);
  std::vector<uint8_t> mask(n);
  dropout_forward(kCpu, x.data(), y.data(), mask.data(), n, 0.0f, 1, 0);
  for (float v : y) ASSERT_EQ(v, 2.0f);
  dropout_forward(kCpu, x.data(), y.data(), mask.data(), n, 1.0f, 1, 0);
  for (float v : y) ASSERT_EQ(v, 0.0f);
  EXPECT_THROW(dropout_forward(kCpu, x.data(), y.data(), mask.data(), n, 1.5f, 1, 0), Error);
}
