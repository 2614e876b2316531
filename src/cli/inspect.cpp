// cli/inspect.cpp — `accent inspect PATH_OR_ID`: config summary, parameter count, tensors (table or --json).
#include <iostream>
#include <memory>

#include <filesystem>

#include "cli/verb.h"
#include "io/hub.h"
#include "io/model_summary.h"
#include "io/safetensors.h"
#include "models/peft_adapter.h"

namespace {
struct InspectOptions {
  std::string model;
  bool json = false;
  std::string revision = "main";
  bool offline = false;
};

// A PEFT LoRA adapter directory: its adapter_config.json and the tensors of adapter_model.safetensors (the base
// model is described by `accent inspect BASE`).
int inspect_adapter(const std::string& dir, bool json) {
  const accent::LoraConfig c = accent::read_adapter_config(dir);
  const std::string weights = (std::filesystem::path(dir) / "adapter_model.safetensors").string();
  auto file = accent::SafetensorsFile::open(weights);
  int64_t parameters = 0;
  nlohmann::json tensors = nlohmann::json::array();
  for (const std::string& name : file->names()) {
    const auto& e = file->entry(name);
    parameters += accent::shape_numel(e.shape);
    tensors.push_back({{"name", name}, {"dtype", e.dtype_string}, {"shape", e.shape}});
  }
  nlohmann::json j{{"adapter", true},
                   {"peft_type", "LORA"},
                   {"base_model_name_or_path", c.base_model_name_or_path},
                   {"r", c.hyper.r},
                   {"lora_alpha", c.hyper.alpha},
                   {"lora_dropout", c.hyper.dropout},
                   {"use_rslora", c.hyper.use_rslora},
                   {"target_modules", c.target_modules},
                   {"modules_to_save", c.modules_to_save},
                   {"bias", c.bias},
                   {"num_parameters", parameters},
                   {"tensors", tensors}};
  if (json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "LoRA adapter (PEFT) " << dir << "\n"
            << "  base model        " << c.base_model_name_or_path << "\n"
            << "  r / lora_alpha    " << c.hyper.r << " / " << c.hyper.alpha << (c.hyper.use_rslora ? " (rsLoRA)" : "")
            << "\n"
            << "  target_modules    " << j["target_modules"].dump() << "\n"
            << "  modules_to_save   " << j["modules_to_save"].dump() << "\n"
            << "  bias              " << c.bias << "\n"
            << "  parameters        " << parameters << " in " << tensors.size() << " tensors\n";
  for (const auto& t : tensors)
    std::cout << "    " << t["name"].get<std::string>() << "  " << t["dtype"].get<std::string>() << " "
              << t["shape"].dump() << "\n";
  return 0;
}

int run_inspect(const InspectOptions& o) {
  if (std::filesystem::is_directory(o.model) && accent::is_adapter_dir(o.model)) return inspect_adapter(o.model, o.json);
  accent::HubOptions hub = accent::HubOptions::from_env();
  hub.revision = o.revision;
  hub.offline = hub.offline || o.offline;
  const std::string dir = accent::resolve_pretrained(o.model, accent::default_pretrained_files(), hub);
  const accent::ModelSummary summary = accent::summarize_model_dir(dir);
  if (o.json)
    std::cout << accent::summary_to_json(summary).dump(2) << "\n";
  else
    std::cout << accent::format_summary_table(summary);
  return 0;
}

accent::cli::VerbRegistration reg{
    "inspect", "Show a model's config, parameter count and tensors (local directory or Hugging Face id)",
    [](CLI::App& app) -> std::function<int()> {
      auto opts = std::make_shared<InspectOptions>();
      app.add_option("model", opts->model, "model directory, or a Hugging Face id such as bert-base-uncased")
          ->required();
      app.add_flag("--json", opts->json, "print JSON instead of a table");
      app.add_option("--revision", opts->revision, "hub revision (branch, tag or commit)")->capture_default_str();
      app.add_flag("--offline", opts->offline, "use the local cache only (like HF_HUB_OFFLINE=1)");
      return [opts] { return run_inspect(*opts); };
    }};
}  // namespace
