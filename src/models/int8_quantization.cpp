#include "models/int8_quantization.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "io/model_dir_save.h"
#include "models/peft_adapter.h"
#include "models/registry.h"
#include "text/tokenizer.h"

namespace accent {

std::vector<std::string> quantize_dynamic_int8(SequenceClassifier& model) {
  const OpContext ctx = model.op_context();
  ACCENT_CHECK(ctx.backend != Backend::Cuda, "int8 inference runs on the CPU only (the GPU backend has no int8 "
               "matmul); quantize with the model on the CPU");
  std::vector<std::string> names;
  for (const NamedLinear& m : model.linear_modules()) {
    if (m.head) continue;
    if (m.int8_weight().empty())
      m.set_int8_weight(Int8Weight::quantize(std::as_const(m.weight().value), m.weight_out_major()));
    names.push_back(m.name);
  }
  ACCENT_CHECK(!names.empty(), "this model exposes no linear layers to quantize");
  return names;
}

std::vector<std::string> int8_module_names(SequenceClassifier& model) {
  std::vector<std::string> names;
  for (const NamedLinear& m : model.linear_modules())
    if (!m.int8_weight().empty()) names.push_back(m.name);
  return names;
}

std::vector<std::string> int8_modules_of(const ModelConfig& config, const std::string& origin) {
  auto it = config.extra.find("quantization_config");
  if (it == config.extra.end()) return {};
  const nlohmann::json& q = *it;
  const std::string method = q.is_object() && q.contains("quant_method") && q["quant_method"].is_string()
                                 ? q["quant_method"].get<std::string>()
                                 : std::string();
  ACCENT_CHECK(method == kInt8QuantMethod, origin, ": quantization_config.quant_method is \"", method,
               "\"; accent runs only its own \"", kInt8QuantMethod, "\" (made by `accent quantize`) — use the "
               "full-precision model");
  ACCENT_CHECK(q.contains("modules") && q["modules"].is_array() && !q["modules"].empty(), origin,
               ": quantization_config.modules must list the int8 modules");
  std::vector<std::string> modules;
  for (const nlohmann::json& m : q["modules"]) {
    ACCENT_CHECK(m.is_string(), origin, ": quantization_config.modules holds a non-string entry ", m.dump());
    modules.push_back(m.get<std::string>());
  }
  return modules;
}

void set_int8_modules(ModelConfig& config, const std::vector<std::string>& modules) {
  if (modules.empty()) {
    config.extra.erase("quantization_config");
    return;
  }
  config.extra["quantization_config"] = {{"quant_method", kInt8QuantMethod},
                                         {"bits", 8},
                                         {"weights", "symmetric per output channel"},
                                         {"activations", "symmetric per token, dynamic"},
                                         {"modules", modules}};
}

std::string int8_scale_name(const std::string& module) { return module + ".weight_scale"; }

void load_int8_weights(SequenceClassifier& model, const CheckpointTensors& checkpoint,
                       const std::vector<std::string>& modules, const std::string& dir) {
  if (modules.empty()) return;
  ACCENT_CHECK(model.op_context().backend != Backend::Cuda, dir, ": an int8 model runs on the CPU only");
  const std::vector<NamedLinear> linears = model.linear_modules();
  const std::vector<std::string> names = checkpoint.names();
  const std::set<std::string> present(names.begin(), names.end());
  for (const std::string& module : modules) {
    auto it = std::find_if(linears.begin(), linears.end(), [&](const NamedLinear& m) { return m.name == module; });
    ACCENT_CHECK(it != linears.end(), dir, ": config.json names int8 module ", module, ", which the model does not have");
    const std::string weight = module + ".weight", scale = int8_scale_name(module);
    ACCENT_CHECK(present.count(weight) && present.count(scale), dir, ": int8 module ", module, " needs tensors ",
                 weight, " (I8) and ", scale, " (F32) in the checkpoint");
    Tensor values = checkpoint.load_stored(weight);
    Parameter& w = it->weight();
    ACCENT_CHECK(values.shape() == w.value.shape(), dir, ": ", weight, " has shape ", shape_str(values.shape()),
                 ", the model's is ", shape_str(w.value.shape()));
    Int8Weight q = Int8Weight::from_tensors(std::move(values), checkpoint.load_f32(scale), it->weight_out_major(),
                                            dir + ": " + module);
    const Tensor fp32 = q.dequantized();
    std::copy_n(fp32.f32(), fp32.numel(), w.value.f32());  // in place: the parameter's storage stays the same
    it->set_int8_weight(std::move(q));
  }
}

std::vector<std::string> quantize_model_to_dir(const std::string& model_dir, const std::string& output_dir) {
  namespace fs = std::filesystem;
  ACCENT_CHECK(!is_adapter_dir(model_dir), model_dir, ": a LoRA adapter; fold it into its base model with `accent "
               "merge` first, then quantize the merged model");
  ACCENT_CHECK(fs::weakly_canonical(output_dir) != fs::weakly_canonical(model_dir), output_dir,
               ": the int8 model must not overwrite the model it is made from; choose another --output-dir");
  recover_interrupted_save(model_dir);
  LoadOptions load;
  load.require_all_weights = true;  // quantizing random weights is never what was meant
  std::unique_ptr<SequenceClassifier> model = load_sequence_classifier(model_dir, load);
  std::vector<std::string> modules = quantize_dynamic_int8(*model);
  ModelDirSave save(output_dir);
  model->save_pretrained(save.staging_dir());
  Tokenizer::from_pretrained(model_dir).save_pretrained(save.staging_dir());
  save.commit();
  return modules;
}

namespace {
std::atomic<bool> g_int8_inference{false};
}  // namespace

void set_int8_inference(bool enabled) { g_int8_inference.store(enabled); }
bool int8_inference() { return g_int8_inference.load(); }

void prepare_for_inference(SequenceClassifier& model) {
  model.set_op_context(default_op_context());
  if (int8_inference()) quantize_dynamic_int8(model);
}

}  // namespace accent
