#include "export/onnx_gpt2_graph.h"

#include <cmath>

#include "core/error.h"
#include "ops/attention_softmax.h"

namespace accent {

namespace {

bool extra_bool(const ModelConfig& c, const char* key, bool fallback) {
  const auto it = c.extra.find(key);
  return it != c.extra.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// The (B, 1, T, T) additive mask: 0 where query i may see key j (j ≤ i and attention_mask[b, j] = 1), else
// finfo.min. One Where instead of causal fill + padding add, so no entry sums two minima to −inf (a fully masked
// row then stays finite, as in accent, instead of turning into NaN).
std::string causal_key_mask(OnnxGraph& g, const std::string& attention_mask, const std::string& positions) {
  const std::string query = g.op("Unsqueeze", {positions, g.constant_i64("axes", {1})}, "mask/query_positions");  // (T, 1)
  const std::string causal = g.op("LessOrEqual", {positions, query}, "mask/causal");  // (T, T): j ≤ i
  const std::string key_kept = g.op("Cast", {attention_mask}, "mask/key_kept",
                                    {OnnxAttribute::integer("to", onnx::TensorProto::BOOL)});  // (B, T)
  const std::string key_b11t = g.op("Unsqueeze", {key_kept, g.constant_i64("axes", {1, 2})}, "mask/key_b11t");
  const std::string kept = g.op("And", {causal, key_b11t}, "mask/kept");  // (B, 1, T, T)
  return g.op("Where", {kept, g.constant_f32("zero", 0.0f), g.constant_f32("finfo_min", kAttentionMaskMin)},
              "mask/additive");
}

}  // namespace

std::vector<std::string> build_gpt2_graph(OnnxGraph& g, NamedWeights& w, const ModelConfig& config) {
  const int64_t H = config.hidden_size, NH = config.num_attention_heads, L = config.num_hidden_layers;
  const int64_t C = config.num_labels();
  ACCENT_CHECK(H > 0 && NH > 0 && H % NH == 0, "config.json: n_embd ", H, " is not a multiple of n_head ", NH);
  ACCENT_CHECK(config.pad_token_id.has_value(), "config.json: GPT-2 needs pad_token_id to pool the last token");
  const int64_t D = H / NH, pad = *config.pad_token_id;
  const float eps = static_cast<float>(config.layer_norm_eps);
  const Activation act = activation_from_name(config.hidden_act);
  const bool scale_weights = extra_bool(config, "scale_attn_weights", true);
  const bool scale_by_layer = extra_bool(config, "scale_attn_by_inverse_layer_idx", false);

  const std::vector<std::string> inputs = {"input_ids", "attention_mask"};
  for (const auto& in : inputs) g.add_input(in, onnx::TensorProto::INT64, {-1, -1}, {"batch_size", "sequence_length"});
  g.add_output("logits", onnx::TensorProto::FLOAT, {-1, C}, {"batch_size", ""});

  const std::string T = onnx_dim(g, "input_ids", 1, "T");
  const std::string positions = onnx_range(g, T, "positions");  // (T) 0..T−1, padding not skipped (as HF GPT-2)
  std::string x = g.op("Add",
                       {g.op("Gather", {g.weight("transformer.wte.weight", w.at("transformer.wte.weight")), "input_ids"},
                             "embeddings/word"),
                        g.op("Gather", {g.weight("transformer.wpe.weight", w.at("transformer.wpe.weight")), positions},
                             "embeddings/position")},
                       "embeddings/sum");  // (B, T, H)
  const std::string mask_add = causal_key_mask(g, "attention_mask", positions);
  for (int64_t l = 0; l < L; ++l) {
    const std::string p = "transformer.h." + std::to_string(l) + ".";
    const std::string a = onnx_layer_norm(g, w, p + "ln_1", x, eps);
    const std::string qkv = onnx_conv1d(g, w, p + "attn.c_attn", a);  // (B, T, 3H) = q | k | v
    // q, k, v = qkv[..., 0:H], qkv[..., H:2H], qkv[..., 2H:3H] (Slice: every helper stays single-output).
    auto part = [&](int64_t i, const char* name) {
      return g.op("Slice", {qkv, g.constant_i64("start", {i * H}), g.constant_i64("end", {(i + 1) * H}),
                            g.constant_i64("axis", {2})},
                  p + "attn/" + name);
    };
    const float divisor = (scale_weights ? std::sqrt(static_cast<float>(D)) : 1.0f) *
                          (scale_by_layer ? static_cast<float>(l + 1) : 1.0f);
    const std::string context =
        onnx_attention(g, part(0, "q"), part(1, "k"), part(2, "v"), mask_add, NH, D, divisor, p + "attn");
    const std::string h1 = g.op("Add", {x, onnx_conv1d(g, w, p + "attn.c_proj", context)}, p + "attn/residual");
    const std::string m = onnx_layer_norm(g, w, p + "ln_2", h1, eps);
    const std::string inner = onnx_activation(g, act, onnx_conv1d(g, w, p + "mlp.c_fc", m), p + "mlp/act");
    x = g.op("Add", {h1, onnx_conv1d(g, w, p + "mlp.c_proj", inner)}, p + "mlp/residual");
  }

  // last_b = argmax_t(t·[id ≠ pad]) (ArgMax keeps the first maximum: 0 for an all-pad row), then row b·T + last_b
  // of the (B·T, H) hidden states.
  const std::string is_pad = g.op("Equal", {"input_ids", g.constant_i64("pad", {pad}, true)}, "pool/is_pad");
  const std::string token = g.op("Cast", {g.op("Not", {is_pad}, "pool/is_token")}, "pool/token_mask",
                                 {OnnxAttribute::integer("to", onnx::TensorProto::INT64)});
  const std::string weighted = g.op("Cast", {g.op("Mul", {token, positions}, "pool/token_positions")},
                                    "pool/token_positions_f", {OnnxAttribute::integer("to", onnx::TensorProto::FLOAT)});
  const std::string last = g.op("ArgMax", {weighted}, "pool/last",
                                {OnnxAttribute::integer("axis", 1), OnnxAttribute::integer("keepdims", 0)});  // (B)
  const std::string B = onnx_dim(g, "input_ids", 0, "B");
  const std::string row_start = g.op("Mul", {onnx_range(g, B, "pool/batch_index"), T}, "pool/row_start");
  const std::string rows = g.op("Add", {row_start, last}, "pool/rows");
  const std::string flat = g.op("Reshape", {x, g.constant_i64("shape_rows_h", {-1, H})}, "pool/hidden_rows");
  const std::string pooled = g.op("Gather", {flat, rows}, "pool/pooled");  // (B, H)
  const std::string normed = onnx_layer_norm(g, w, "transformer.ln_f", pooled, eps);
  g.op_into("Identity", {onnx_linear(g, w, "score", normed, /*bias=*/false)}, "logits");
  return inputs;
}

}  // namespace accent
