// train/checkpoint_json.cpp — see checkpoint_json.h.
#include "train/checkpoint_json.h"

#include <algorithm>

#include "core/error.h"
#include "core/json_number.h"

namespace accent {

namespace {

// The value at `key` of object `j`; an error naming the file and key when `j` is not an object or lacks it.
const nlohmann::json& field(const nlohmann::json& j, const char* key, const std::string& origin) {
  ACCENT_CHECK(j.is_object(), origin, ": expected a JSON object holding \"", key, "\", got ", j.type_name());
  const auto it = j.find(key);
  ACCENT_CHECK(it != j.end(), origin, ": key \"", key, "\" is missing");
  return *it;
}

std::string key_of(const std::string& origin, const char* key) { return origin + ": key \"" + key + "\""; }

int64_t count(const nlohmann::json& j, const char* key, const std::string& origin) {
  return json_integer(field(j, key, origin), key_of(origin, key), 0, kMaxCheckpointCount);
}

}  // namespace

nlohmann::json resume_to_json(const ResumeState& r) {
  return {{"dropout_rng", {{"seed", r.dropout_seed}, {"counter", r.dropout_counter}}},
          {"epoch", r.epoch},
          {"batch_in_epoch", r.batch_in_epoch},
          {"loss_since_log", r.loss_since_log},
          {"steps_since_log", r.steps_since_log},
          {"train_loss_sum", r.train_loss_sum}};
}

ResumeState resume_from_json(const nlohmann::json& j, const std::string& origin) {
  ResumeState r;
  const nlohmann::json& rng = field(j, "dropout_rng", origin);
  r.dropout_seed = json_unsigned(field(rng, "seed", origin + ": dropout_rng"), key_of(origin, "dropout_rng.seed"));
  r.dropout_counter =
      json_unsigned(field(rng, "counter", origin + ": dropout_rng"), key_of(origin, "dropout_rng.counter"));
  r.epoch = count(j, "epoch", origin);
  r.batch_in_epoch = count(j, "batch_in_epoch", origin);
  r.loss_since_log = json_number(field(j, "loss_since_log", origin), key_of(origin, "loss_since_log"));
  r.steps_since_log = count(j, "steps_since_log", origin);
  r.train_loss_sum = json_number(field(j, "train_loss_sum", origin), key_of(origin, "train_loss_sum"));
  return r;
}

SavedTrainerState trainer_state_from_json(const nlohmann::json& j, const std::string& origin) {
  SavedTrainerState s;
  s.global_step = count(j, "global_step", origin);
  s.epoch = json_number(field(j, "epoch", origin), key_of(origin, "epoch"));
  ACCENT_CHECK(s.epoch >= 0, key_of(origin, "epoch"), ": expected a number >= 0, got ", s.epoch);
  s.log_history = field(j, "log_history", origin);
  ACCENT_CHECK(s.log_history.is_array(), key_of(origin, "log_history"), ": expected an array");
  if (const auto& m = field(j, "best_metric", origin); !m.is_null())
    s.best_metric = json_number(m, key_of(origin, "best_metric"));
  if (j.contains("best_global_step") && !j["best_global_step"].is_null())
    s.best_global_step = count(j, "best_global_step", origin);
  if (const auto& b = field(j, "best_model_checkpoint", origin); !b.is_null()) {
    ACCENT_CHECK(b.is_string(), key_of(origin, "best_model_checkpoint"), ": expected a string or null");
    s.best_model_checkpoint = b.get<std::string>();
  }
  const auto callbacks = j.find("stateful_callbacks");
  if (callbacks == j.end() || callbacks->is_null()) return s;
  const std::string where = origin + ": stateful_callbacks";
  ACCENT_CHECK(callbacks->is_object(), where, ": expected an object");
  if (const auto control = callbacks->find("TrainerControl"); control != callbacks->end()) {
    const nlohmann::json& args = field(*control, "args", where + ".TrainerControl");
    ACCENT_CHECK(args.is_object(), where, ".TrainerControl.args: expected an object");
    if (const auto stop = args.find("should_training_stop"); stop != args.end()) {
      ACCENT_CHECK(stop->is_boolean(), where, ".TrainerControl.args.should_training_stop: expected true or false");
      s.should_training_stop = stop->get<bool>();
    }
  }
  if (const auto early = callbacks->find("EarlyStoppingCallback"); early != callbacks->end()) {
    const std::string at = where + ".EarlyStoppingCallback";
    s.patience_counter = count(field(*early, "attributes", at), "early_stopping_patience_counter", at + ".attributes");
  }
  return s;
}

std::optional<int64_t> scheduler_total_steps(const nlohmann::json& j, const std::string& origin) {
  ACCENT_CHECK(j.is_object(), origin, ": expected a JSON object, got ", j.type_name());
  if (!j.contains("total_steps") || j["total_steps"].is_null()) return std::nullopt;
  return count(j, "total_steps", origin);
}

std::optional<int64_t> checkpoint_step(const std::string& name) {
  const std::string prefix = "checkpoint-";
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size() || name.size() > prefix.size() + 18) return std::nullopt;
  const std::string digits = name.substr(prefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  return std::stoll(digits);  // at most 18 digits: in range
}

int64_t optimizer_step_from_metadata(const std::string& text, const std::string& origin) {
  const bool digits = !text.empty() && text.size() <= 18 &&
                      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  ACCENT_CHECK(digits, origin, ": metadata \"step\" must be a step count (decimal digits), got \"",
               text.substr(0, 40), "\"");
  return std::stoll(text);
}

}  // namespace accent
