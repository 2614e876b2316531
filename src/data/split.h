// data/split.h — train/validation splits identical to scikit-learn's `train_test_split`.
//
// train_test_split(n, test_size, random_state) returns the same row indices, in the same order, as
//   sklearn.model_selection.train_test_split(range(n), test_size=test_size, random_state=random_state)
// i.e. ShuffleSplit: perm = RandomState(random_state).permutation(n); n_test = ceil(test_size * n) (computed in
// double, like Python); test = perm[:n_test]; train = perm[n_test : n_test + n_train] with n_train = n - n_test.
//
// With `stratify` (one class id per row) it reproduces StratifiedShuffleSplit (scikit-learn 1.2):
// per-class counts of train/test rows by `_approximate_mode` (floor of the proportional share, leftovers given to
// the largest remainders, ties broken by `rng.choice(..., replace=False)`), then per class (in sorted class order)
// a permutation of that class's rows (ascending row order), then a final permutation of the train list and of the
// test list. Same generator, same draw order, so the same indices as
//   train_test_split(range(n), test_size=..., random_state=..., stratify=y)
// whenever the class ids sort like sklearn sorts y (true for label ids from LabelMap, which are assigned in sorted
// label order). Checked against scikit-learn 1.2.1 in tests/unit/data_split_test.cpp.
//
// Errors (accent::Error) mirror sklearn's ValueErrors: empty train or test set, a class with fewer than 2 rows
// (stratified), fewer train/test rows than classes (stratified).
#pragma once
#include <cstdint>
#include <vector>

namespace accent {

struct SplitIndices {
  std::vector<int64_t> train;  // row indices into the dataset, in sklearn's order
  std::vector<int64_t> test;
};

// (n_train, n_test) as sklearn's _validate_shuffle_split computes them for a float test_size in (0, 1) and no
// train_size: n_test = ceil(test_size * n), n_train = n - n_test.
std::pair<int64_t, int64_t> split_sizes(int64_t n, double test_size);

SplitIndices train_test_split(int64_t n, double test_size, uint32_t random_state,
                              const std::vector<int64_t>* stratify = nullptr);

}  // namespace accent
