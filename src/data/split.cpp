#include "data/split.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "core/error.h"
#include "data/numpy_random.h"

namespace accent {

std::pair<int64_t, int64_t> split_sizes(int64_t n, double test_size) {
  ACCENT_CHECK(test_size > 0.0 && test_size < 1.0, "test_size must be in (0, 1), got ", test_size);
  // Python: n_test = ceil(test_size * n_samples); the product is an IEEE double, e.g. 0.1 * 30 = 3.0000000000000004
  // gives 4, exactly as sklearn does.
  const auto n_test = static_cast<int64_t>(std::ceil(test_size * static_cast<double>(n)));
  const int64_t n_train = n - n_test;
  ACCENT_CHECK(n_train > 0, "with n_samples=", n, " and test_size=", test_size,
               " the training set would be empty; use more rows or a smaller validation fraction");
  return {n_train, n_test};
}

namespace {

// sklearn.model_selection._split._approximate_mode: how many rows of each class to draw so the draw follows
// the class proportions; ties among equal remainders are broken with rng.choice(inds, add_now, replace=False).
std::vector<int64_t> approximate_mode(const std::vector<int64_t>& class_counts, int64_t n_draws,
                                      NumpyRandomState& rng) {
  const size_t k = class_counts.size();
  int64_t total = 0;
  for (int64_t c : class_counts) total += c;
  std::vector<double> continuous(k), floored(k);
  double floored_sum = 0;
  for (size_t i = 0; i < k; ++i) {
    // numpy: class_counts / class_counts.sum() * n_draws, left to right.
    continuous[i] = static_cast<double>(class_counts[i]) / static_cast<double>(total) * static_cast<double>(n_draws);
    floored[i] = std::floor(continuous[i]);
    floored_sum += floored[i];  // integers in double: exact in any order
  }
  auto need_to_add = static_cast<int64_t>(static_cast<double>(n_draws) - floored_sum);
  if (need_to_add > 0) {
    std::vector<double> remainder(k);
    for (size_t i = 0; i < k; ++i) remainder[i] = continuous[i] - floored[i];
    std::vector<double> values = remainder;
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    std::reverse(values.begin(), values.end());
    for (double value : values) {
      std::vector<int64_t> inds;
      for (size_t i = 0; i < k; ++i)
        if (remainder[i] == value) inds.push_back(static_cast<int64_t>(i));
      const int64_t add_now = std::min<int64_t>(static_cast<int64_t>(inds.size()), need_to_add);
      for (int64_t i : rng.choice_without_replacement(inds, add_now)) floored[i] += 1;
      need_to_add -= add_now;
      if (need_to_add == 0) break;
    }
  }
  std::vector<int64_t> out(k);
  for (size_t i = 0; i < k; ++i) out[i] = static_cast<int64_t>(floored[i]);
  return out;
}

SplitIndices stratified_split(int64_t n, int64_t n_train, int64_t n_test, uint32_t random_state,
                              const std::vector<int64_t>& y) {
  ACCENT_CHECK(static_cast<int64_t>(y.size()) == n, "stratify: expected ", n, " class ids, got ", y.size());
  // np.unique(y, return_inverse=True): classes in sorted order; class_indices[c] = rows of class c ascending
  // (argsort(y_indices, kind="mergesort") is stable).
  std::map<int64_t, std::vector<int64_t>> rows_by_class;
  for (int64_t i = 0; i < n; ++i) rows_by_class[y[i]].push_back(i);
  std::vector<std::vector<int64_t>> class_indices;
  std::vector<int64_t> class_counts;
  for (auto& [cls, rows] : rows_by_class) {
    ACCENT_CHECK(rows.size() >= 2, "stratified split: class ", cls, " has only ", rows.size(),
                 " row; every class needs at least 2 rows (sklearn raises the same error)");
    class_counts.push_back(static_cast<int64_t>(rows.size()));
    class_indices.push_back(std::move(rows));
  }
  const auto n_classes = static_cast<int64_t>(class_counts.size());
  ACCENT_CHECK(n_train >= n_classes, "stratified split: the train size ", n_train,
               " should be greater or equal to the number of classes ", n_classes);
  ACCENT_CHECK(n_test >= n_classes, "stratified split: the test size ", n_test,
               " should be greater or equal to the number of classes ", n_classes);

  NumpyRandomState rng(random_state);
  const std::vector<int64_t> n_i = approximate_mode(class_counts, n_train, rng);
  std::vector<int64_t> remaining(class_counts.size());
  for (size_t c = 0; c < class_counts.size(); ++c) remaining[c] = class_counts[c] - n_i[c];
  const std::vector<int64_t> t_i = approximate_mode(remaining, n_test, rng);

  std::vector<int64_t> train, test;
  for (size_t c = 0; c < class_counts.size(); ++c) {
    const std::vector<int64_t> perm = rng.permutation(class_counts[c]);
    // class_indices[c].take(permutation, mode="clip"); perm values are always in range.
    for (int64_t k = 0; k < n_i[c]; ++k) train.push_back(class_indices[c][perm[k]]);
    for (int64_t k = n_i[c]; k < n_i[c] + t_i[c] && k < class_counts[c]; ++k)
      test.push_back(class_indices[c][perm[k]]);
  }
  // rng.permutation(list): shuffles a copy.
  rng.shuffle(train);
  rng.shuffle(test);
  return {std::move(train), std::move(test)};
}

}  // namespace

SplitIndices train_test_split(int64_t n, double test_size, uint32_t random_state, const std::vector<int64_t>* stratify) {
  const auto [n_train, n_test] = split_sizes(n, test_size);
  if (stratify != nullptr) return stratified_split(n, n_train, n_test, random_state, *stratify);
  NumpyRandomState rng(random_state);
  const std::vector<int64_t> perm = rng.permutation(n);
  SplitIndices out;
  out.test.assign(perm.begin(), perm.begin() + n_test);
  out.train.assign(perm.begin() + n_test, perm.begin() + n_test + n_train);
  return out;
}

}  // namespace accent
