#include "train/training_args.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/fs.h"
#include "core/json_number.h"
#include "core/json_parse.h"
#include "train/lr_schedule.h"

namespace accent {

namespace {
bool is_interval(const std::string& s) { return s == "no" || s == "steps" || s == "epoch"; }

// Integer-valued step counts given as doubles (HF's float fields: ratios below 1, counts otherwise).
bool is_whole(double v) { return std::floor(v) == v; }

// "a,b,,c" → {"a", "b", "", "c"}: empty items are kept (so that "html," is refused, not read as "html").
std::vector<std::string> comma_items(const std::string& list) {
  std::vector<std::string> items;
  for (size_t start = 0; start <= list.size();) {
    const size_t end = std::min(list.find(',', start), list.size());
    items.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

}  // namespace

void TrainingArguments::validate() const {
  ACCENT_CHECK(!output_dir.empty(), "TrainingArguments.output_dir must be set");
  ACCENT_CHECK(learning_rate >= 0, "learning_rate must be >= 0, got ", learning_rate);
  ACCENT_CHECK(num_train_epochs > 0 || max_steps > 0, "num_train_epochs must be > 0 (or set max_steps), got ",
               num_train_epochs);
  ACCENT_CHECK(per_device_train_batch_size > 0, "per_device_train_batch_size must be > 0");
  ACCENT_CHECK(per_device_eval_batch_size > 0, "per_device_eval_batch_size must be > 0");
  ACCENT_CHECK(gradient_accumulation_steps > 0, "gradient_accumulation_steps must be > 0");
  ACCENT_CHECK(warmup_steps >= 0, "warmup_steps must be >= 0");
  ACCENT_CHECK(warmup_ratio >= 0 && warmup_ratio <= 1, "warmup_ratio must be in [0, 1], got ", warmup_ratio);
  ACCENT_CHECK(weight_decay >= 0, "weight_decay must be >= 0");
  ACCENT_CHECK(adam_beta1 >= 0 && adam_beta1 < 1 && adam_beta2 >= 0 && adam_beta2 < 1,
               "adam_beta1/adam_beta2 must be in [0, 1)");
  ACCENT_CHECK(adam_epsilon >= 0, "adam_epsilon must be >= 0");
  parse_lr_scheduler_type(lr_scheduler_type);
  ACCENT_CHECK(is_interval(logging_strategy), "logging_strategy must be no, steps or epoch, got \"",
               logging_strategy, "\"");
  ACCENT_CHECK(is_interval(eval_strategy), "eval_strategy must be no, steps or epoch, got \"", eval_strategy, "\"");
  ACCENT_CHECK(is_interval(save_strategy), "save_strategy must be no, steps or epoch, got \"", save_strategy, "\"");
  for (auto [name, v] : {std::pair<const char*, double>{"logging_steps", logging_steps}, {"save_steps", save_steps},
                         {"eval_steps", eval_steps.value_or(logging_steps)}}) {
    ACCENT_CHECK(v >= 0 && (v < 1 || is_whole(v)), name, " must be a whole number of steps or a ratio in (0, 1), got ",
                 v);
  }
  if (logging_strategy == "steps") ACCENT_CHECK(logging_steps > 0, "logging_strategy steps needs logging_steps > 0");
  if (save_strategy == "steps") ACCENT_CHECK(save_steps > 0, "save_strategy steps needs save_steps > 0");
  if (eval_strategy == "steps")
    ACCENT_CHECK(eval_steps.value_or(logging_steps) > 0,
                 "eval_strategy steps needs eval_steps > 0 (or logging_steps > 0, its default)");
  if (save_total_limit) ACCENT_CHECK(*save_total_limit > 0, "save_total_limit must be > 0");
  ACCENT_CHECK(ddp_timeout > 0, "ddp_timeout must be > 0 seconds, got ", ddp_timeout);
  if (ddp_bucket_cap_mb) ACCENT_CHECK(*ddp_bucket_cap_mb > 0, "ddp_bucket_cap_mb must be > 0, got ", *ddp_bucket_cap_mb);
  if (load_best_model_at_end) {
    // HF: "--load_best_model_at_end requires the save and eval strategy to match".
    ACCENT_CHECK(eval_strategy != "no", "load_best_model_at_end needs an eval_strategy (steps or epoch)");
    ACCENT_CHECK(save_strategy == eval_strategy, "load_best_model_at_end requires save_strategy (", save_strategy,
                 ") to match eval_strategy (", eval_strategy, ")");
    if (eval_strategy == "steps") {
      const double es = eval_steps.value_or(logging_steps);
      if (es >= 1 && save_steps >= 1)
        ACCENT_CHECK(std::fmod(save_steps, es) == 0, "load_best_model_at_end requires save_steps (", save_steps,
                     ") to be a multiple of eval_steps (", es, ")");
    }
  }
  if (early_stopping_patience) {
    ACCENT_CHECK(*early_stopping_patience > 0, "early_stopping_patience must be > 0");
    ACCENT_CHECK(eval_strategy != "no", "early_stopping_patience needs an eval_strategy (steps or epoch)");
    ACCENT_CHECK(best_metric_key().has_value(),
                 "early_stopping_patience needs metric_for_best_model (or load_best_model_at_end, which "
                 "defaults it to loss)");
  }
  ACCENT_CHECK(early_stopping_threshold >= 0, "early_stopping_threshold must be >= 0");
  ACCENT_CHECK(progress == "auto" || progress == "bar" || progress == "plain" || progress == "none",
               "progress must be auto, bar, plain or none, got \"", progress, "\"");
  check_report_to(report_to);
}

void check_report_to(const std::string& report_to) {
  const std::vector<std::string> items = comma_items(report_to);
  for (const std::string& item : items)
    ACCENT_CHECK(item == "html" || item == "tensorboard" || item == "all" || item == "none",
                 "report_to must be a comma-separated list of html, tensorboard, all (= both) or none, got \"",
                 report_to, "\"");
  ACCENT_CHECK(items.size() == 1 || std::find(items.begin(), items.end(), "none") == items.end(),
               "report_to: none cannot be combined with others, got \"", report_to, "\"");
}

bool TrainingArguments::reports_to(const std::string& integration) const {
  const std::vector<std::string> items = comma_items(report_to);
  return std::any_of(items.begin(), items.end(), [&](const std::string& i) { return i == integration || i == "all"; });
}

std::optional<std::string> TrainingArguments::best_metric_key() const {
  std::optional<std::string> name = metric_for_best_model;
  if (!name && load_best_model_at_end) name = "loss";
  if (name && name->rfind("eval_", 0) != 0) name = "eval_" + *name;
  return name;
}

bool TrainingArguments::best_metric_greater_is_better() const {
  if (greater_is_better) return *greater_is_better;
  const std::optional<std::string> key = best_metric_key();
  if (!key) return false;
  // HF: greater_is_better = not metric_for_best_model.endswith("loss")
  return !(key->size() >= 4 && key->compare(key->size() - 4, 4, "loss") == 0);
}

nlohmann::json to_json(const TrainingArguments& a) {
  auto opt = [](const auto& o) { return o ? nlohmann::json(*o) : nlohmann::json(nullptr); };
  nlohmann::json j;
  j["output_dir"] = a.output_dir;
  j["learning_rate"] = a.learning_rate;
  j["num_train_epochs"] = a.num_train_epochs;
  j["per_device_train_batch_size"] = a.per_device_train_batch_size;
  j["per_device_eval_batch_size"] = a.per_device_eval_batch_size;
  j["warmup_steps"] = a.warmup_steps;
  j["warmup_ratio"] = a.warmup_ratio;
  j["weight_decay"] = a.weight_decay;
  j["max_grad_norm"] = a.max_grad_norm;
  j["seed"] = a.seed;
  j["max_steps"] = a.max_steps;
  j["gradient_accumulation_steps"] = a.gradient_accumulation_steps;
  j["lr_scheduler_type"] = a.lr_scheduler_type;
  j["adam_beta1"] = a.adam_beta1;
  j["adam_beta2"] = a.adam_beta2;
  j["adam_epsilon"] = a.adam_epsilon;
  j["logging_strategy"] = a.logging_strategy;
  j["logging_steps"] = a.logging_steps;
  j["logging_first_step"] = a.logging_first_step;
  j["eval_strategy"] = a.eval_strategy;
  j["eval_steps"] = opt(a.eval_steps);
  j["save_strategy"] = a.save_strategy;
  j["save_steps"] = a.save_steps;
  j["save_total_limit"] = opt(a.save_total_limit);
  j["metric_for_best_model"] = opt(a.metric_for_best_model);
  j["greater_is_better"] = opt(a.greater_is_better);
  j["load_best_model_at_end"] = a.load_best_model_at_end;
  j["early_stopping_patience"] = opt(a.early_stopping_patience);
  j["early_stopping_threshold"] = a.early_stopping_threshold;
  j["resume_from_checkpoint"] = opt(a.resume_from_checkpoint);
  j["overwrite_output_dir"] = a.overwrite_output_dir;
  j["ddp_timeout"] = a.ddp_timeout;
  j["ddp_bucket_cap_mb"] = opt(a.ddp_bucket_cap_mb);
  j["ddp_bf16_compress"] = a.ddp_bf16_compress;
  j["disable_tqdm"] = a.disable_tqdm;
  j["progress"] = a.progress;
  j["events_jsonl"] = a.events_jsonl;
  j["report_to"] = a.report_to;
  j["logging_dir"] = a.logging_dir;
  return j;
}

TrainingArguments training_args_from_json(const nlohmann::json& j, const std::string& origin) {
  ACCENT_CHECK(j.is_object(), origin, ": training arguments must be a JSON object");
  TrainingArguments a;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const nlohmann::json& v = it.value();
    try {
      const std::string what = origin + ": key \"" + k + "\"";
      auto integer = [&] { return json_integer(v, what); };
      auto opt_int = [&](std::optional<int64_t>& f) { f = v.is_null() ? std::nullopt : std::optional(integer()); };
      auto opt_dbl = [&](std::optional<double>& f) { f = v.is_null() ? std::nullopt : std::optional(v.get<double>()); };
      auto opt_str = [&](std::optional<std::string>& f) {
        f = v.is_null() ? std::nullopt : std::optional(v.get<std::string>());
      };
      if (k == "output_dir") a.output_dir = v.get<std::string>();
      else if (k == "learning_rate") a.learning_rate = v.get<double>();
      else if (k == "num_train_epochs") a.num_train_epochs = v.get<double>();
      else if (k == "per_device_train_batch_size") a.per_device_train_batch_size = integer();
      else if (k == "per_device_eval_batch_size") a.per_device_eval_batch_size = integer();
      else if (k == "warmup_steps") a.warmup_steps = integer();
      else if (k == "warmup_ratio") a.warmup_ratio = v.get<double>();
      else if (k == "weight_decay") a.weight_decay = v.get<double>();
      else if (k == "max_grad_norm") a.max_grad_norm = v.is_null() ? 0.0 : v.get<double>();
      else if (k == "seed") a.seed = integer();
      else if (k == "max_steps") a.max_steps = integer();
      else if (k == "gradient_accumulation_steps") a.gradient_accumulation_steps = integer();
      else if (k == "lr_scheduler_type") a.lr_scheduler_type = v.get<std::string>();
      else if (k == "adam_beta1") a.adam_beta1 = v.get<double>();
      else if (k == "adam_beta2") a.adam_beta2 = v.get<double>();
      else if (k == "adam_epsilon") a.adam_epsilon = v.get<double>();
      else if (k == "logging_strategy") a.logging_strategy = v.get<std::string>();
      else if (k == "logging_steps") a.logging_steps = v.get<double>();
      else if (k == "logging_first_step") a.logging_first_step = v.get<bool>();
      else if (k == "eval_strategy" || k == "evaluation_strategy") a.eval_strategy = v.get<std::string>();
      else if (k == "eval_steps") opt_dbl(a.eval_steps);
      else if (k == "save_strategy") a.save_strategy = v.get<std::string>();
      else if (k == "save_steps") a.save_steps = v.get<double>();
      else if (k == "save_total_limit") opt_int(a.save_total_limit);
      else if (k == "metric_for_best_model") opt_str(a.metric_for_best_model);
      else if (k == "greater_is_better") a.greater_is_better = v.is_null() ? std::nullopt : std::optional(v.get<bool>());
      else if (k == "load_best_model_at_end") a.load_best_model_at_end = v.get<bool>();
      else if (k == "early_stopping_patience") opt_int(a.early_stopping_patience);
      else if (k == "early_stopping_threshold") a.early_stopping_threshold = v.get<double>();
      else if (k == "resume_from_checkpoint") opt_str(a.resume_from_checkpoint);
      else if (k == "overwrite_output_dir") a.overwrite_output_dir = v.get<bool>();
      else if (k == "ddp_timeout") a.ddp_timeout = integer();
      else if (k == "ddp_bucket_cap_mb") opt_int(a.ddp_bucket_cap_mb);
      else if (k == "ddp_bf16_compress") a.ddp_bf16_compress = v.get<bool>();
      else if (k == "disable_tqdm") a.disable_tqdm = v.get<bool>();
      else if (k == "progress") a.progress = v.get<std::string>();
      else if (k == "events_jsonl") a.events_jsonl = v.get<std::string>();
      else if (k == "report_to") a.report_to = v.get<std::string>();
      else if (k == "logging_dir") a.logging_dir = v.is_null() ? "" : v.get<std::string>();
      else fail(origin, ": unknown training argument \"", k, "\"");
    } catch (const nlohmann::json::exception& e) {
      fail(origin, ": training argument \"", k, "\" has the wrong type (", v.dump(), "): ", e.what());
    }
  }
  return a;
}

void save_training_args(const std::string& path, const TrainingArguments& args) {
  write_file_atomic(path, to_json(args).dump(2) + "\n");
}

TrainingArguments load_training_args(const std::string& path) {
  return training_args_from_json(read_json_file(path), path);
}

}  // namespace accent
