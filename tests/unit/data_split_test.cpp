// Split equality with numpy / scikit-learn: RandomState permutations, train_test_split, stratified splits.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "data/numpy_random.h"
#include "data/split.h"
#include "data_test_util.h"

namespace accent {
namespace {

using nlohmann::json;

TEST(NumpyRandomState, FirstDrawsMatchReferenceMt19937) {
  // The MT19937 reference output for init_genrand(5489) starts 3499211612, 581869302 (mt19937ar.c), and
  // numpy's RandomState(5489) uses the same seeding, so its first uint32 draws are these.
  NumpyRandomState rng(5489);
  EXPECT_EQ(rng.next_uint32(), 3499211612U);
  EXPECT_EQ(rng.next_uint32(), 581869302U);
}

class SplitOracle : public ::testing::Test {
 protected:
  // Runs all cases through tests/reference/split_oracle.py in one Python process.
  static json run(const json& cases) {
    testing::TempDir dir("split");
    write_file_atomic(dir.file("cases.json"), cases.dump());
    testing::run_python_oracle("split_oracle.py", dir.file("cases.json") + " " + dir.file("out.json"));
    return json::parse(read_file(dir.file("out.json")));
  }
};

TEST_F(SplitOracle, PermutationsTrainTestSplitAndStratifiedMatchNumpyAndSklearn) {
  json cases = json::array();
  const std::vector<int64_t> ns = {0, 1, 2, 3, 7, 10, 30, 100, 1000, 1001, 7600, 67349};
  const std::vector<uint32_t> seeds = {0, 1, 42, 1234, 4294967295U};
  for (int64_t n : ns)
    for (uint32_t s : seeds) cases.push_back({{"kind", "permutation"}, {"n", n}, {"seed", s}});
  const std::vector<double> sizes = {0.07, 0.1, 0.2, 0.25, 0.3333};
  for (int64_t n : std::vector<int64_t>{2, 3, 10, 30, 100, 101, 1000, 7600})
    for (uint32_t s : seeds)
      for (double f : sizes) cases.push_back({{"kind", "split"}, {"n", n}, {"test_size", f}, {"seed", s}});
  // Stratified: balanced, skewed, many classes with ties in the remainders, a class with one row (error).
  std::vector<std::vector<int64_t>> ys;
  {
    std::vector<int64_t> y;
    for (int i = 0; i < 100; ++i) y.push_back(i % 2);
    ys.push_back(y);
    y.clear();
    for (int i = 0; i < 57; ++i) y.push_back(i < 40 ? 0 : (i < 50 ? 1 : 2));
    ys.push_back(y);
    y.clear();
    for (int i = 0; i < 333; ++i) y.push_back((i * 7919) % 7);
    ys.push_back(y);
    y.clear();
    for (int i = 0; i < 7600; ++i) y.push_back((i * 31) % 4 + 1);
    ys.push_back(y);
    ys.push_back({0, 0, 1, 1, 1, 2});  // class 2 has one row
    y.clear();
    for (int i = 0; i < 45; ++i) y.push_back(i % 5);  // 5 classes x 9: remainders tie everywhere
    ys.push_back(y);
  }
  for (const auto& y : ys)
    for (uint32_t s : seeds)
      for (double f : {0.1, 0.2, 0.3333})
        cases.push_back({{"kind", "stratified"}, {"y", y}, {"test_size", f}, {"seed", s}});

  const json out = run(cases);
  ASSERT_EQ(out.size(), cases.size());
  size_t sklearn_checked = 0;
  for (size_t k = 0; k < cases.size(); ++k) {
    const json& c = cases[k];
    const json& o = out[k];
    SCOPED_TRACE(c.dump().substr(0, 200));
    const auto seed = c["seed"].get<uint32_t>();
    if (c["kind"] == "permutation") {
      NumpyRandomState rng(seed);
      EXPECT_EQ(rng.permutation(c["n"].get<int64_t>()), o["perm"].get<std::vector<int64_t>>());
      continue;
    }
    std::vector<int64_t> y;
    int64_t n = 0;
    if (c["kind"] == "stratified") {
      y = c["y"].get<std::vector<int64_t>>();
      n = static_cast<int64_t>(y.size());
    } else {
      n = c["n"].get<int64_t>();
    }
    if (o.contains("error")) {
      ASSERT_NE(o.value("oracle", ""), "none") << "scikit-learn missing: install Debian python3-sklearn";
      EXPECT_THROW(train_test_split(n, c["test_size"].get<double>(), seed, y.empty() ? nullptr : &y), Error)
          << "sklearn raised: " << o["error"];
      continue;
    }
    if (o["oracle"] == "sklearn") ++sklearn_checked;
    const SplitIndices s = train_test_split(n, c["test_size"].get<double>(), seed, y.empty() ? nullptr : &y);
    EXPECT_EQ(s.train, o["train"].get<std::vector<int64_t>>());
    EXPECT_EQ(s.test, o["test"].get<std::vector<int64_t>>());
  }
  std::printf("split cases: %zu (%zu checked against scikit-learn)\n", cases.size(), sklearn_checked);
}

TEST(Split, SizesFollowPythonFloatCeil) {
  EXPECT_EQ(split_sizes(100, 0.07), (std::pair<int64_t, int64_t>{92, 8}));  // 0.07*100 = 7.000000000000001
  EXPECT_EQ(split_sizes(7600, 0.1), (std::pair<int64_t, int64_t>{6840, 760}));
  EXPECT_THROW(split_sizes(1, 0.1), Error);
  EXPECT_THROW(split_sizes(10, 1.5), Error);
}

}  // namespace
}  // namespace accent
