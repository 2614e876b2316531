#include "models/weight_loading.h"

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
  return ends_with(key, "embeddings.position_ids") || ends_with(key, "embeddings.token_type_ids") ||
         ends_with(key, ".attn.bias") || ends_with(key, ".attn.masked_bias") || key == "attn.bias" ||
         key == "attn.masked_bias" || ends_with(key, "rotary_emb.inv_freq");  // the last: older Llama/Qwen2 files
}

}  // namespace

void load_weights(const ParameterList& params, const CheckpointTensors& checkpoint, const std::string& dir,
                  const WeightLoadSpec& spec, const LoadOptions& options, LoadReport& report) {
  const std::string prefix = spec.base_prefix + ".";
  const std::vector<std::string> names = checkpoint.names();
  const bool has_prefix = std::any_of(names.begin(), names.end(),
                                      [&](const std::string& k) { return starts_with(fix_legacy_name(k), prefix); });

  // Model parameter by its name in the checkpoint's key space.
  std::map<std::string, Parameter*> by_key;
  std::string word_key;
  for (Parameter* p : params) {
    const std::string key = (!has_prefix && starts_with(p->name, prefix)) ? p->name.substr(prefix.size()) : p->name;
    by_key[key] = p;
    if (p->name == spec.word_embeddings) word_key = key;
  }

  // Vocabulary check first: a tokenizer/config/weights mismatch deserves its own message.
  for (const std::string& raw : names) {
    if (word_key.empty() || fix_legacy_name(raw) != word_key) continue;
    const Shape s = checkpoint.shape(raw);
    ACCENT_CHECK(s.size() == 2 && s[0] == spec.vocab_size, dir, ": ", raw, " has shape ", shape_str(s),
                 " but config.json has vocab_size ", spec.vocab_size, " (hidden_size ", spec.hidden_size,
                 "): the config does not describe these weights");
  }

  // Shape errors in the model's parameter order (weight before bias), whatever order the file lists tensors in.
  if (!options.ignore_mismatched_sizes) {
    std::map<std::string, std::string> raw_by_key;
    for (const std::string& raw : names) raw_by_key.emplace(fix_legacy_name(raw), raw);
    for (Parameter* p : params) {
      const std::string key = (!has_prefix && starts_with(p->name, prefix)) ? p->name.substr(prefix.size()) : p->name;
      auto it = raw_by_key.find(key);
      if (it == raw_by_key.end()) continue;
      const Shape s = checkpoint.shape(it->second);
      ACCENT_CHECK(s == p->value.shape(), dir, ": size mismatch for ", p->name, ": copying a param with shape ",
                   shape_str(s), " from checkpoint, the shape in current model is ", shape_str(p->value.shape()),
                   ". (Train with --ignore-mismatched-sizes to re-initialise it, e.g. a classifier head with another "
                   "num_labels.)");
    }
  }

  std::map<Parameter*, bool> loaded;
  for (const std::string& raw : names) {
    const std::string key = fix_legacy_name(raw);
    auto it = by_key.find(key);
    if (it == by_key.end()) {
      const bool ignored = std::any_of(spec.ignore_unexpected.begin(), spec.ignore_unexpected.end(),
                                       [&](const std::string& part) { return key.find(part) != std::string::npos; });
      if (is_ignored_buffer(key) || ignored) {
        report.ignored_buffers.push_back(raw);
      } else {
        report.unexpected_keys.push_back(raw);
      }
      continue;
    }
    Parameter* p = it->second;
    ACCENT_CHECK(!loaded.count(p), dir, ": tensor ", raw, " maps to parameter ", p->name,
                 " which another tensor already filled (both legacy and current names present?)");
    const Shape s = checkpoint.shape(raw);
    if (s != p->value.shape()) {
      ACCENT_CHECK(options.ignore_mismatched_sizes, dir, ": size mismatch for ", p->name, ": copying a param with shape ",
                   shape_str(s), " from checkpoint, the shape in current model is ", shape_str(p->value.shape()),
                   ". (Train with --ignore-mismatched-sizes to re-initialise it, e.g. a classifier head with another "
                   "num_labels.)");
      report.mismatched_keys.push_back({p->name, s, p->value.shape()});
      continue;
    }
    const Tensor t = checkpoint.load_f32(raw);
    std::memcpy(p->value.data(), t.data(), p->value.nbytes());
    loaded[p] = true;
  }

  // Parameters nothing filled: fresh HF-style initialisation from the seeded Rng (in state-dict order).
  const Rng init_rng(options.seed);
  for (size_t i = 0; i < params.size(); ++i) {
    Parameter* p = params[i];
    if (loaded.count(p)) continue;
    spec.init(*p, init_rng.fork(i));
    const bool mismatched = std::any_of(report.mismatched_keys.begin(), report.mismatched_keys.end(),
                                        [&](const MismatchedKey& m) { return m.name == p->name; });
    if (!mismatched) report.missing_keys.push_back(p->name);
  }
  std::sort(report.missing_keys.begin(), report.missing_keys.end());
  std::sort(report.mismatched_keys.begin(), report.mismatched_keys.end(),
            [](const MismatchedKey& a, const MismatchedKey& b) { return a.name < b.name; });
}

}  // namespace accent
