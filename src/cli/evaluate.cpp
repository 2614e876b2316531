// cli/evaluate.cpp — `accent evaluate --model DIR --data FILE`: metrics of a saved model on labelled data, as JSON.
#include <iostream>

#include "cli/data_options.h"
#include "cli/flag_checks.h"
#include "cli/verb.h"
#include "train/finetune.h"

namespace accent::cli {
namespace {

struct EvaluateOptions {
  ModelArguments model;
  std::string data;
  ReadOptions read;
  int64_t max_length = 128;
  int64_t batch_size = 32;
  bool report = false;
};

VerbRegistration reg{"evaluate", "Score a saved model on a labelled file; prints metrics as JSON",
  [](CLI::App& app) -> std::function<int()> {
    auto o = std::make_shared<EvaluateOptions>();
    app.add_option("--model,-m", o->model.model, "Model directory or hub id")->required();
    app.add_option("--data,-d", o->data, "Labelled data file")->required()->check(CLI::ExistingFile);
    add_read_options(app, o->read);
    app.add_option("--max-length", o->max_length, "Truncate inputs to this many tokens")->capture_default_str()->check(integer_in(1, kMaxFlagInt));
    app.add_option("--per-device-eval-batch-size,--batch-size,-b", o->batch_size)->capture_default_str()->check(integer_in(1, kMaxFlagInt));
    app.add_flag("--report", o->report, "Include per-class precision/recall/F1 and the confusion matrix");
    app.add_flag("--offline", o->model.offline, "Use only the Hugging Face cache");
    app.add_option("--base-model", o->model.base_model, "Base model of a LoRA adapter --model (default: its adapter_config.json base_model_name_or_path)");
    return [o] {
      EvalResult r = run_evaluate(o->model, o->data, o->read, o->max_length, o->batch_size);
      nlohmann::json out = r.metrics;
      if (o->report) out["report"] = r.report;
      std::cout << out.dump(2) << "\n";
      return 0;
    };
  }};

}  // namespace
}  // namespace accent::cli
