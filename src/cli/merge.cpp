// cli/merge.cpp — `accent merge --adapter DIR --output-dir OUT`: a LoRA adapter folded into its base model
// (PEFT merge_and_unload: W + scale·B·A), saved as a plain Hugging Face model directory.
#include <iostream>

#include "cli/verb.h"
#include "models/peft_adapter.h"

namespace accent::cli {
namespace {

struct MergeOptions {
  std::string adapter, output_dir, base_model;
  bool offline = false;
};

VerbRegistration reg{"merge", "Fold a LoRA adapter into its base model and save a plain HF model directory",
  [](CLI::App& app) -> std::function<int()> {
    auto o = std::make_shared<MergeOptions>();
    app.add_option("--adapter,-a", o->adapter, "LoRA adapter directory (adapter_config.json + adapter_model.safetensors)")->required()->check(CLI::ExistingDirectory);
    app.add_option("--output-dir,-o", o->output_dir, "Where the merged model goes")->required();
    app.add_option("--base-model", o->base_model, "Base model (default: adapter_config.json base_model_name_or_path)");
    app.add_flag("--offline", o->offline, "Use only the Hugging Face cache");
    return [o] {
      const std::string base = resolve_adapter_base(o->adapter, o->base_model, o->offline);
      merge_adapter_to_dir(o->adapter, base, o->output_dir);
      std::cout << "merged " << o->adapter << " into " << base << ": saved to " << o->output_dir << "\n";
      return 0;
    };
  }};

}  // namespace
}  // namespace accent::cli
