#include "models/bert_checkpoint.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "core/error.h"

namespace accent {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// transformers' _fix_state_dict_key_on_load for LayerNorm parameters.
std::string fix_legacy_name(const std::string& key) {
  if (ends_with(key, "LayerNorm.gamma")) return key.substr(0, key.size() - 5) + "weight";
  if (ends_with(key, "LayerNorm.beta")) return key.substr(0, key.size() - 4) + "bias";
  return key;
}

bool is_ignored_buffer(const std::string& key) {
  return ends_with(key, "embeddings.position_ids") || ends_with(key, "embeddings.token_type_ids");
}

}  // namespace

void load_bert_weights(BertForSequenceClassification& model, const SafetensorsCheckpoint& checkpoint,
                       const std::string& dir, const LoadOptions& options, LoadReport& report) {
  const std::string prefix = std::string(BertForSequenceClassification::kBasePrefix) + ".";
  const std::vector<std::string> names = checkpoint.names();
  const bool has_prefix =
      std::any_of(names.begin(), names.end(), [&](const std::string& k) { return starts_with(fix_legacy_name(k), prefix); });

  // Model parameter by its name in the checkpoint's key space.
  std::map<std::string, Parameter*> by_key;
  for (Parameter* p : model.parameters()) {
    const std::string key = (!has_prefix && starts_with(p->name, prefix)) ? p->name.substr(prefix.size()) : p->name;
    by_key[key] = p;
  }

  // Vocabulary check first: a tokenizer/config/weights mismatch deserves its own message.
  const std::string word_key = (has_prefix ? prefix : "") + "embeddings.word_embeddings.weight";
  for (const std::string& raw : names) {
    if (fix_legacy_name(raw) != word_key) continue;
    const SafetensorsEntry& e = checkpoint.entry(raw);
    const int64_t V = model.dims().V;
    ACCENT_CHECK(e.shape.size() == 2 && e.shape[0] == V, dir, ": ", raw, " has shape ", shape_str(e.shape),
                 " but config.json has vocab_size ", V, " (hidden_size ", model.dims().H,
                 "): the config does not describe these weights");
  }

  std::map<Parameter*, bool> loaded;
  for (const std::string& raw : names) {
    const std::string key = fix_legacy_name(raw);
    auto it = by_key.find(key);
    if (it == by_key.end()) {
      if (is_ignored_buffer(key)) {
        report.ignored_buffers.push_back(raw);
      } else {
        report.unexpected_keys.push_back(raw);
      }
      continue;
    }
    Parameter* p = it->second;
    ACCENT_CHECK(!loaded.count(p), dir, ": tensor ", raw, " maps to parameter ", p->name,
                 " which another tensor already filled (both legacy and current names present?)");
    const SafetensorsEntry& e = checkpoint.entry(raw);
    if (e.shape != p->value.shape()) {
      ACCENT_CHECK(options.ignore_mismatched_sizes, dir, ": size mismatch for ", p->name, ": copying a param with shape ",
                   shape_str(e.shape), " from checkpoint, the shape in current model is ", shape_str(p->value.shape()),
                   ". (Pass ignore_mismatched_sizes to re-initialise it, e.g. a classifier head with another "
                   "num_labels.)");
      report.mismatched_keys.push_back({p->name, e.shape, p->value.shape()});
      continue;
    }
    const Tensor t = checkpoint.load(raw, DType::F32);
    std::memcpy(p->value.data(), t.data(), p->value.nbytes());
    loaded[p] = true;
  }

  // Parameters nothing filled: fresh HF-style initialisation from the seeded Rng (in state-dict order).
  const Rng init_rng(options.seed);
  ParameterList params = model.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    Parameter* p = params[i];
    if (loaded.count(p)) continue;
    model.init_parameter(*p, init_rng.fork(i));
    const bool mismatched = std::any_of(report.mismatched_keys.begin(), report.mismatched_keys.end(),
                                        [&](const MismatchedKey& m) { return m.name == p->name; });
    if (!mismatched) report.missing_keys.push_back(p->name);
  }
  std::sort(report.missing_keys.begin(), report.missing_keys.end());
  std::sort(report.mismatched_keys.begin(), report.mismatched_keys.end(),
            [](const MismatchedKey& a, const MismatchedKey& b) { return a.name < b.name; });
}

}  // namespace accent
