// data/numpy_random.h — numpy's legacy `np.random.RandomState`, only the parts scikit-learn's splitters use.
//
// Why: HF users split with `sklearn.model_selection.train_test_split(..., random_state=42)`, which draws from
// `np.random.RandomState(42)`. Reproducing the same train/validation rows needs the same generator bit for bit:
//   - MT19937 (Matsumoto & Nishimura 1998), seeded from an integer exactly like numpy's `mt19937_seed`
//     (Knuth's multiplier 1812433253; numpy does NOT use init_by_array for a scalar integer seed);
//   - `random_interval(max)`: rejection sampling of `next_uint32() & mask` (mask = smallest 2^k-1 >= max);
//   - `shuffle`: Fisher–Yates from the back, `for i = n-1 .. 1: j = random_interval(i); swap(x[i], x[j])`;
//   - `permutation(n)` = shuffle(arange(n)); `choice(a, k, replace=False)` = a[permutation(len(a))[:k]].
// Checked against numpy 1.24 in tests/unit/data_split_test.cpp.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace accent {

class NumpyRandomState {
 public:
  // np.random.RandomState(seed) for an integer seed in [0, 2^32 - 1].
  explicit NumpyRandomState(uint32_t seed);

  uint32_t next_uint32();                        // MT19937 genrand_int32
  uint64_t random_interval(uint64_t max);        // uniform in [0, max] (inclusive), numpy's rejection method
  void shuffle(std::vector<int64_t>& x);         // in place, legacy RandomState.shuffle
  std::vector<int64_t> permutation(int64_t n);   // RandomState.permutation(n)
  // RandomState.choice(a, size, replace=False) without p: a[permutation(len(a))[:size]].
  std::vector<int64_t> choice_without_replacement(const std::vector<int64_t>& a, int64_t size);

 private:
  void regenerate();  // refills the 624-word state (the "twist")
  std::array<uint32_t, 624> key_{};
  int pos_ = 624;
};

}  // namespace accent
