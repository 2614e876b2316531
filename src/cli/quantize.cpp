// cli/quantize.cpp — `accent quantize --model DIR --output-dir OUT`: a fine-tuned model with its transformer layers
// in int8 (weights per output channel, activations per token at run time), saved in accent's documented int8
// layout (models/int8_quantization.h) that predict / evaluate / serve load as any model directory.
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/verb.h"
#include "io/hub.h"
#include "models/int8_quantization.h"

namespace accent::cli {
namespace {

struct QuantizeOptions {
  std::string model, output_dir;
  bool offline = false;
};

// Bytes of the weight files in `dir` (model.safetensors, or its shards).
uintmax_t weights_bytes(const std::string& dir) {
  uintmax_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.rfind("model", 0) == 0 && e.path().extension() == ".safetensors")
      total += e.file_size();
  }
  return total;
}

VerbRegistration reg{"quantize", "Save a fine-tuned model with int8 transformer layers (dynamic quantization) for "
                     "faster CPU inference",
  [](CLI::App& app) -> std::function<int()> {
    auto o = std::make_shared<QuantizeOptions>();
    app.add_option("--model,-m", o->model, "Fine-tuned model directory or Hugging Face model id")->required();
    app.add_option("--output-dir,-o", o->output_dir, "Where the int8 model goes")->required();
    app.add_flag("--offline", o->offline, "Use only the Hugging Face cache");
    return [o] {
      HubOptions hub = HubOptions::from_env();
      if (o->offline) hub.offline = true;
      const std::string dir = resolve_pretrained(o->model, default_pretrained_files(), hub);
      const std::vector<std::string> modules = quantize_model_to_dir(dir, o->output_dir);
      const nlohmann::json summary = {{"model", o->model},
                                      {"output_dir", o->output_dir},
                                      {"quant_method", kInt8QuantMethod},
                                      {"int8_modules", modules.size()},
                                      {"weights_bytes", weights_bytes(dir)},
                                      {"int8_weights_bytes", weights_bytes(o->output_dir)}};
      std::cout << summary.dump() << "\n";
      std::cerr << "quantized " << modules.size() << " layers to int8: saved to " << o->output_dir << "\n";
      return 0;
    };
  }};

}  // namespace
}  // namespace accent::cli
