// cli/inspect.cpp — `accent inspect PATH_OR_ID`: config summary, parameter count, tensors (table or --json).
#include <iostream>
#include <memory>

#include "cli/verb.h"
#include "io/hub.h"
#include "io/model_summary.h"

namespace {
struct InspectOptions {
  std::string model;
  bool json = false;
  std::string revision = "main";
  bool offline = false;
};

int run_inspect(const InspectOptions& o) {
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
