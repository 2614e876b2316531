// data/label_map.h — class names <-> ids (config.json id2label / label2id), and labels turned into model targets.
//
// build_label_map follows transformers' run_glue.py / run_classification.py for a user file:
//   label_list = sorted(set(train labels)); label2id = {label: i for i, label in enumerate(label_list)}
// Integer labels sort numerically (Python sorts ints), so labels 0..n-1 keep their values and other integers
// (e.g. AG News 1..4) map to their rank (1 -> 0, ..., 4 -> 3) with id2label holding the original values ("1").
// String labels sort by code point (Python's str order = UTF-8 byte order). Multi-label maps are the sorted union
// of all names, by code point (also for JSON lists of integers: [1, 10, 2] order; give the names explicitly with
// LabelMap::from_names when that matters).
//
// A label in a validation/test set that the map does not contain is an accent::Error naming file:line and the
// known labels ("label 'x' was not seen in the training data").
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/split.h"

namespace accent {

struct LabelMap {
  std::vector<std::string> id2label;       // (C)
  std::map<std::string, int64_t> label2id;

  int64_t size() const { return static_cast<int64_t>(id2label.size()); }
  int64_t id(const std::string& name) const;  // -1 when absent
  static LabelMap from_names(std::vector<std::string> id2label);  // e.g. from a pretrained config or classes.txt
};

// Sorted distinct labels of a classification dataset (Integer, String or MultiLabel kind).
LabelMap build_label_map(const Dataset& train);

// Single-label class ids, (N). Throws naming file:line for a label not in the map.
std::vector<int64_t> encode_class_labels(const Dataset& data, const LabelMap& map);
// Multi-label 0/1 targets, (N, C) row-major. Throws naming file:line for a label not in the map.
std::vector<float> encode_multi_labels(const Dataset& data, const LabelMap& map);
// Regression targets, (N). Works for Float and Integer labels.
std::vector<float> regression_targets(const Dataset& data);

// Splits `data` into (train, validation) rows exactly as sklearn's
// train_test_split(rows, test_size=test_size, random_state=seed[, stratify=class ids]) orders them. Stratification
// needs single-label classes (the map gives the ids; sklearn's sorted classes give the same groups).
std::pair<Dataset, Dataset> split_dataset(const Dataset& data, double test_size, uint32_t seed,
                                          const LabelMap* stratify_by = nullptr);

}  // namespace accent
