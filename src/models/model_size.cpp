// models/model_size.cpp — see model_size.h.
#include "models/model_size.h"

#include <unistd.h>

#include <cstdio>

#include "core/error.h"

namespace accent {

double estimated_parameter_count(const ModelConfig& c) {
  const double V = static_cast<double>(c.vocab_size), H = static_cast<double>(c.hidden_size);
  const double E = static_cast<double>(c.embedding_size.value_or(c.hidden_size));
  const double P = static_cast<double>(c.max_position_embeddings), T = static_cast<double>(c.type_vocab_size);
  const double I = static_cast<double>(c.intermediate_size), L = static_cast<double>(c.num_hidden_layers);
  const double C = static_cast<double>(c.num_labels());
  const double embeddings = (V + P + T) * E + 2 * E + (E != H ? E * H + H : 0);
  double block = 4 * (H * H + H) + 2 * H + (H * I + I) + (I * H + H) + 2 * H;
  if (c.model_type == "qwen2" || c.model_type == "llama") {  // grouped K/V heads, a gated MLP of three matrices
    const double NH = static_cast<double>(c.num_attention_heads);
    auto extra = [&](const char* key, double fallback) {
      const auto it = c.extra.find(key);
      return it != c.extra.end() && it->is_number() ? it->get<double>() : fallback;
    };
    const double D = extra("head_dim", NH > 0 ? H / NH : H), NKV = extra("num_key_value_heads", NH);
    block = 2 * H * NH * D + 2 * H * NKV * D + 3 * H * I + 2 * H;
  }
  if (c.model_type == "modernbert") block = 4 * H * H + 3 * H * I + 2 * H;  // fused Wqkv, Wi of 2I rows, no biases
  const double head = (H * H + H) + (C * H + C);
  return embeddings + L * block + head;
}

void check_model_size(const ModelConfig& c, const std::string& origin) {
  for (const auto& [key, v] : {std::pair<const char*, int64_t>{"vocab_size", c.vocab_size},
                               {"hidden_size", c.hidden_size},
                               {"num_hidden_layers", c.num_hidden_layers},
                               {"num_attention_heads", c.num_attention_heads},
                               {"intermediate_size", c.intermediate_size},
                               {"max_position_embeddings", c.max_position_embeddings}})
    ACCENT_CHECK(v >= 1, origin, ": ", key, " is ", v, "; it must be a positive integer");
  const double params = estimated_parameter_count(c);
  const double bytes = 4 * params;  // fp32 weights, before gradients, optimizer state and activations
  const double memory = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE));
  if (memory > 0 && bytes > memory) {
    char size[64], mem[64];
    std::snprintf(size, sizeof size, "%.3g GB", bytes / 1e9);
    std::snprintf(mem, sizeof mem, "%.3g GB", memory / 1e9);
    fail(origin, ": the model this config describes has about ", static_cast<long double>(params),
         " parameters, ", size, " for its fp32 weights alone, more than this machine's ", mem,
         " of memory (vocab_size ", c.vocab_size, ", hidden_size ", c.hidden_size, ", num_hidden_layers ",
         c.num_hidden_layers, ", intermediate_size ", c.intermediate_size, ", max_position_embeddings ",
         c.max_position_embeddings, ", num_labels ", c.num_labels(), "); the config is wrong or the model too large");
  }
}

}  // namespace accent
