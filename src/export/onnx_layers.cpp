#include "export/onnx_layers.h"

#include <cmath>

#include "core/error.h"
#include "ops/attention_softmax.h"

namespace accent {

namespace {
// The constants of ops/activation_math.h (internal to ops/), the same float values.
constexpr float kSqrtHalf = 0.70710678118654752440f;     // 1/√2
constexpr float kSqrt2OverPi = 0.79788456080286535588f;  // √(2/π)
constexpr float kGeluCubic = 0.044715f;
}  // namespace

NamedWeights::NamedWeights(const ParameterList& params) {
  for (const Parameter* p : params) {
    order_.push_back(p->name);
    by_name_[p->name] = &p->value;
  }
}

const Tensor& NamedWeights::at(const std::string& name) {
  const auto it = by_name_.find(name);
  ACCENT_CHECK(it != by_name_.end(), "export: the model has no parameter \"", name, "\"");
  used_.insert(name);
  return *it->second;
}

std::vector<std::string> NamedWeights::unused() const {
  std::vector<std::string> out;
  for (const auto& name : order_)
    if (!used_.count(name)) out.push_back(name);
  return out;
}

std::string onnx_linear(OnnxGraph& g, NamedWeights& w, const std::string& module, const std::string& x, bool bias) {
  const std::string wt = g.weight_transposed(module + ".weight", w.at(module + ".weight"));  // (in, out)
  const std::string xw = g.op("MatMul", {x, wt}, module + "/matmul");
  if (!bias) return xw;
  const std::string b = g.weight(module + ".bias", w.at(module + ".bias"));
  return g.op("Add", {xw, b}, module + "/out");
}

std::string onnx_conv1d(OnnxGraph& g, NamedWeights& w, const std::string& module, const std::string& x) {
  const std::string weight = g.weight(module + ".weight", w.at(module + ".weight"));  // (in, out) as stored
  const std::string b = g.weight(module + ".bias", w.at(module + ".bias"));
  return g.op("Add", {g.op("MatMul", {x, weight}, module + "/matmul"), b}, module + "/out");
}

std::string onnx_layer_norm(OnnxGraph& g, NamedWeights& w, const std::string& module, const std::string& x,
                            float eps) {
  const std::string gamma = g.weight(module + ".weight", w.at(module + ".weight"));
  const std::string beta = g.weight(module + ".bias", w.at(module + ".bias"));
  // LayerNormalization (opset 17) normalises over axes [axis, rank) with the biased variance, as torch does.
  return g.op("LayerNormalization", {x, gamma, beta}, module + "/out",
              {OnnxAttribute::integer("axis", -1), OnnxAttribute::real("epsilon", eps)});
}

std::string onnx_activation(OnnxGraph& g, Activation act, const std::string& x, const std::string& stem) {
  switch (act) {
    case Activation::Gelu: {
      // x·½·(1 + erf(x·√½)), the factors in ops/activation_math.h's order.
      const std::string e = g.op("Erf", {g.op("Mul", {x, g.constant_f32("sqrt_half", kSqrtHalf)}, stem + "/scaled")},
                                 stem + "/erf");
      const std::string one_plus = g.op("Add", {e, g.constant_f32("one", 1.0f)}, stem + "/one_plus_erf");
      const std::string half_x = g.op("Mul", {x, g.constant_f32("half", 0.5f)}, stem + "/half_x");
      return g.op("Mul", {half_x, one_plus}, stem + "/gelu");
    }
    case Activation::GeluTanh: {
      // ½x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      const std::string x3 = g.op("Mul", {g.op("Mul", {x, x}, stem + "/x2"), x}, stem + "/x3");
      const std::string inner =
          g.op("Add", {x, g.op("Mul", {x3, g.constant_f32("gelu_cubic", kGeluCubic)}, stem + "/cubic")},
               stem + "/inner");
      const std::string t =
          g.op("Tanh", {g.op("Mul", {inner, g.constant_f32("sqrt_2_over_pi", kSqrt2OverPi)}, stem + "/scaled")},
               stem + "/tanh");
      const std::string half_x = g.op("Mul", {x, g.constant_f32("half", 0.5f)}, stem + "/half_x");
      return g.op("Mul", {half_x, g.op("Add", {t, g.constant_f32("one", 1.0f)}, stem + "/one_plus_tanh")},
                  stem + "/gelu_tanh");
    }
    case Activation::QuickGelu:
      return g.op("Mul",
                  {x, g.op("Sigmoid", {g.op("Mul", {x, g.constant_f32("quick_gelu_k", 1.702f)}, stem + "/scaled")},
                           stem + "/sigmoid")},
                  stem + "/quick_gelu");
    case Activation::Relu: return g.op("Relu", {x}, stem + "/relu");
    case Activation::Silu: return g.op("Mul", {x, g.op("Sigmoid", {x}, stem + "/sigmoid")}, stem + "/silu");
    case Activation::Tanh: return g.op("Tanh", {x}, stem + "/tanh");
  }
  fail("export: activation ", activation_name(act), " has no ONNX form");
}

std::string onnx_additive_key_mask(OnnxGraph& g, const std::string& attention_mask) {
  const std::string m = g.op("Cast", {attention_mask}, "mask/float", {OnnxAttribute::integer("to", onnx::TensorProto::FLOAT)});
  const std::string inverted = g.op("Sub", {g.constant_f32("one", 1.0f), m}, "mask/inverted");
  const std::string add = g.op("Mul", {inverted, g.constant_f32("finfo_min", kAttentionMaskMin)}, "mask/additive");
  return g.op("Unsqueeze", {add, g.constant_i64("axes", {1, 2})}, "mask/additive_b11t");  // (B, 1, 1, T)
}

namespace {

// (B, T, NH·D) → (B, NH, T, D), or with perm {0, 2, 3, 1} → (B, NH, D, T).
std::string split_heads(OnnxGraph& g, const std::string& x, int64_t NH, int64_t D, std::vector<int64_t> perm,
                        const std::string& stem) {
  const std::string r = g.op("Reshape", {x, g.constant_i64("shape_bt_nh_d", {0, 0, NH, D})}, stem + "/split");
  return g.op("Transpose", {r}, stem + "/heads", {OnnxAttribute::integers("perm", std::move(perm))});
}

}  // namespace

std::string onnx_attention(OnnxGraph& g, const std::string& q, const std::string& k, const std::string& v,
                           const std::string& mask_add, int64_t NH, int64_t D, float scale_divisor,
                           const std::string& stem) {
  const std::string qh = split_heads(g, q, NH, D, {0, 2, 1, 3}, stem + "/q");   // (B, NH, T, D)
  const std::string kt = split_heads(g, k, NH, D, {0, 2, 3, 1}, stem + "/k");   // (B, NH, D, T)
  const std::string vh = split_heads(g, v, NH, D, {0, 2, 1, 3}, stem + "/v");   // (B, NH, T, D)
  std::string scores = g.op("MatMul", {qh, kt}, stem + "/qk");                   // (B, NH, T, T)
  if (scale_divisor != 1.0f) scores = g.op("Div", {scores, g.constant_f32("scale", scale_divisor)}, stem + "/scaled");
  if (!mask_add.empty()) scores = g.op("Add", {scores, mask_add}, stem + "/masked");
  const std::string probs = g.op("Softmax", {scores}, stem + "/probs", {OnnxAttribute::integer("axis", -1)});
  const std::string context = g.op("MatMul", {probs, vh}, stem + "/context_heads");  // (B, NH, T, D)
  const std::string merged = g.op("Transpose", {context}, stem + "/context_btnd",
                                  {OnnxAttribute::integers("perm", {0, 2, 1, 3})});
  return g.op("Reshape", {merged, g.constant_i64("shape_bt_h", {0, 0, NH * D})}, stem + "/context");  // (B, T, H)
}

std::string onnx_dim(OnnxGraph& g, const std::string& input, int64_t axis, const std::string& stem) {
  const std::string shape = g.op("Shape", {input}, stem + "/shape");
  return g.op("Gather", {shape, g.constant_i64("axis_index", {axis}, /*scalar=*/true)}, stem);
}

std::string onnx_range(OnnxGraph& g, const std::string& n, const std::string& stem) {
  return g.op("Range", {g.constant_i64("zero", {0}, true), n, g.constant_i64("one", {1}, true)}, stem);
}

std::string onnx_token_at(OnnxGraph& g, const std::string& x, int64_t index, const std::string& stem) {
  return g.op("Gather", {x, g.constant_i64("token_index", {index}, true)}, stem, {OnnxAttribute::integer("axis", 1)});
}

}  // namespace accent
