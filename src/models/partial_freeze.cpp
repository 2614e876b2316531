#include "models/partial_freeze.h"

#include <algorithm>
#include <regex>

#include "core/error.h"
#include "nn/freeze.h"

namespace accent {

namespace {

// BERT-like families keep their embeddings under "*.embeddings.*"; GPT-2 has "transformer.wte" (tokens) and
// "transformer.wpe" (positions).
bool is_embedding_parameter(const std::string& name) {
  static const std::regex gpt2_re(R"((^|\.)(wte|wpe)\.)");
  return name.find("embeddings.") != std::string::npos || std::regex_search(name, gpt2_re);
}

}  // namespace

int64_t apply_freezing(SequenceClassifier& model, const FreezeOptions& options) {
  ACCENT_CHECK(options.layers >= 0, "--freeze-layers must be ≥ 0, got ", options.layers);
  if (!options.embeddings && options.layers == 0) return 0;
  static const std::regex layer_re(R"((^|\.)(layer|h|layers)\.(\d+)\.)");
  int64_t num_layers = 0, frozen = 0;
  const ParameterList params = model.parameters();
  for (const Parameter* p : params) {
    std::smatch m;
    if (std::regex_search(p->name, m, layer_re)) num_layers = std::max<int64_t>(num_layers, std::stoll(m[3]) + 1);
  }
  ACCENT_CHECK(options.layers <= num_layers, "--freeze-layers ", options.layers, " but the model has ", num_layers,
               " layers");
  for (Parameter* p : params) {
    bool freeze_it = options.embeddings && is_embedding_parameter(p->name);
    std::smatch m;
    if (std::regex_search(p->name, m, layer_re) && std::stoll(m[3]) < options.layers) freeze_it = true;
    if (freeze_it) {
      freeze(*p);
      ++frozen;
    }
  }
  return frozen;
}

}  // namespace accent
