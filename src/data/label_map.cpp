#include "data/label_map.h"

#include <algorithm>
#include <set>

#include "core/error.h"

namespace accent {

int64_t LabelMap::id(const std::string& name) const {
  auto it = label2id.find(name);
  return it == label2id.end() ? -1 : it->second;
}

LabelMap LabelMap::from_names(std::vector<std::string> names) {
  LabelMap m;
  for (size_t i = 0; i < names.size(); ++i) {
    ACCENT_CHECK(m.label2id.emplace(names[i], static_cast<int64_t>(i)).second, "duplicate label '", names[i],
                 "' in the label list");
  }
  m.id2label = std::move(names);
  return m;
}

namespace {

bool is_canonical_integer(const std::string& s, int64_t* v) {
  if (s.empty()) return false;
  try {
    size_t used = 0;
    const long long x = std::stoll(s, &used);
    if (used != s.size() || std::to_string(x) != s) return false;
    *v = x;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

std::string known_labels(const LabelMap& map) {
  std::string out;
  const size_t show = std::min<size_t>(map.id2label.size(), 20);
  for (size_t i = 0; i < show; ++i) out += (i ? ", " : "") + ("'" + map.id2label[i] + "'");
  if (map.id2label.size() > show) out += ", ... (" + std::to_string(map.id2label.size()) + " in all)";
  return out;
}

int64_t lookup(const Dataset& data, size_t row, const LabelMap& map, const std::string& name) {
  const int64_t id = map.id(name);
  ACCENT_CHECK(id >= 0, data.where(row), ": label '", name, "' was not seen in the training data (known labels: ",
               known_labels(map), ")");
  return id;
}

}  // namespace

LabelMap build_label_map(const Dataset& train) {
  ACCENT_CHECK(train.label_kind == LabelKind::Integer || train.label_kind == LabelKind::String ||
                   train.label_kind == LabelKind::MultiLabel,
               train.path, ": a label map needs class labels, but the labels are ", label_kind_name(train.label_kind));
  std::set<std::string> distinct;
  for (const Example& ex : train.rows) distinct.insert(ex.label.names.begin(), ex.label.names.end());
  std::vector<std::string> names(distinct.begin(), distinct.end());  // code point order
  // Integer labels sort as numbers (Python sorts a list of ints numerically).
  std::vector<std::pair<int64_t, std::string>> numeric;
  for (const std::string& n : names) {
    int64_t v;
    if (train.label_kind != LabelKind::Integer || !is_canonical_integer(n, &v)) break;
    numeric.emplace_back(v, n);
  }
  if (train.label_kind == LabelKind::Integer && numeric.size() == names.size()) {
    std::sort(numeric.begin(), numeric.end());
    for (size_t i = 0; i < names.size(); ++i) names[i] = numeric[i].second;
  }
  ACCENT_CHECK(!names.empty(), train.path, ": no labels found");
  return LabelMap::from_names(std::move(names));
}

std::vector<int64_t> encode_class_labels(const Dataset& data, const LabelMap& map) {
  ACCENT_CHECK(data.label_kind == LabelKind::Integer || data.label_kind == LabelKind::String, data.path,
               ": single-label classes expected, but the labels are ", label_kind_name(data.label_kind));
  std::vector<int64_t> ids(data.rows.size());
  for (size_t r = 0; r < data.rows.size(); ++r) ids[r] = lookup(data, r, map, data.rows[r].label.names.at(0));
  return ids;
}

std::vector<float> encode_multi_labels(const Dataset& data, const LabelMap& map) {
  ACCENT_CHECK(data.label_kind != LabelKind::None && data.label_kind != LabelKind::Float, data.path,
               ": class labels expected, but the labels are ", label_kind_name(data.label_kind));
  const auto C = static_cast<size_t>(map.size());
  std::vector<float> targets(data.rows.size() * C, 0.0f);  // (N, C)
  for (size_t r = 0; r < data.rows.size(); ++r)
    for (const std::string& name : data.rows[r].label.names)
      targets[r * C + static_cast<size_t>(lookup(data, r, map, name))] = 1.0f;
  return targets;
}

std::vector<float> regression_targets(const Dataset& data) {
  ACCENT_CHECK(data.label_kind == LabelKind::Float || data.label_kind == LabelKind::Integer, data.path,
               ": numeric labels expected for regression, but the labels are ", label_kind_name(data.label_kind));
  std::vector<float> y(data.rows.size());
  for (size_t r = 0; r < data.rows.size(); ++r) y[r] = static_cast<float>(data.rows[r].label.value);
  return y;
}

std::pair<Dataset, Dataset> split_dataset(const Dataset& data, double test_size, uint32_t seed,
                                          const LabelMap* stratify_by) {
  std::vector<int64_t> classes;
  if (stratify_by != nullptr) classes = encode_class_labels(data, *stratify_by);
  const SplitIndices idx = train_test_split(static_cast<int64_t>(data.rows.size()), test_size, seed,
                                            stratify_by != nullptr ? &classes : nullptr);
  auto subset = [&](const std::vector<int64_t>& rows) {
    Dataset d;
    d.path = data.path;
    d.format = data.format;
    d.label_kind = data.label_kind;
    d.lines_are_records = data.lines_are_records;
    d.summary = data.summary;
    d.rows.reserve(rows.size());
    for (int64_t r : rows) d.rows.push_back(data.rows[static_cast<size_t>(r)]);
    return d;
  };
  return {subset(idx.train), subset(idx.test)};
}

}  // namespace accent
