#include "train/trainer.h"

#include <optional>

#include "train/token_classification_metrics.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"
#include "core/rng.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/grad_clip.h"
#include "train/lr_schedule.h"
#include "train/metrics.h"
#include "train/progress.h"

namespace accent {

namespace {
constexpr uint64_t kDropoutStreamTag = 0x64726f706f7574ULL;  // "dropout"

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// HF rounds logged losses and throughput numbers: round(x, digits).
double round_to(double x, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(x * scale) / scale;
}

// logging/eval/save steps: a value < 1 is a ratio of max_steps (HF: math.ceil(max_steps * ratio)).
int64_t resolve_interval(double v, int64_t max_steps) {
  if (v > 0 && v < 1) return static_cast<int64_t>(std::ceil(static_cast<double>(max_steps) * v));
  return static_cast<int64_t>(v);
}

std::string nonfinite_name(double v) { return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"); }
}  // namespace

TrainingPlan plan_training(const TrainingArguments& args, size_t num_batches) {
  ACCENT_CHECK(num_batches > 0, "training data has no batches");
  TrainingPlan plan;
  plan.updates_per_epoch = std::max<int64_t>(static_cast<int64_t>(num_batches) / args.gradient_accumulation_steps, 1);
  if (args.max_steps > 0) {
    plan.max_steps = args.max_steps;
    plan.num_epochs = args.max_steps / plan.updates_per_epoch + (args.max_steps % plan.updates_per_epoch > 0);
  } else {
    plan.max_steps = static_cast<int64_t>(std::ceil(args.num_train_epochs * plan.updates_per_epoch));
    plan.num_epochs = static_cast<int64_t>(std::ceil(args.num_train_epochs));
  }
  return plan;
}

namespace {

// One evaluated batch on the wire (data-parallel evaluation): loss, has_loss, rank, shape, fp32 logits.
void append_batch_output(std::vector<char>& out, const ForwardResult& r) {
  const Tensor logits = r.logits.on_host() ? r.logits : r.logits.to_host();
  auto put = [&](const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    out.insert(out.end(), c, c + n);
  };
  const float loss = r.loss;
  const int64_t has_loss = r.has_loss, ndim = static_cast<int64_t>(logits.shape().size());
  put(&loss, sizeof loss);
  put(&has_loss, sizeof has_loss);
  put(&ndim, sizeof ndim);
  for (int64_t d : logits.shape()) put(&d, sizeof d);
  put(logits.f32(), static_cast<size_t>(logits.numel()) * sizeof(float));
}

ForwardResult read_batch_output(const std::vector<char>& in, size_t& offset) {
  auto get = [&](void* p, size_t n) {
    ACCENT_CHECK(offset + n <= in.size(), "data-parallel evaluation: a gathered batch output is truncated");
    std::memcpy(p, in.data() + offset, n);
    offset += n;
  };
  ForwardResult r;
  int64_t has_loss = 0, ndim = 0;
  get(&r.loss, sizeof r.loss);
  get(&has_loss, sizeof has_loss);
  get(&ndim, sizeof ndim);
  ACCENT_CHECK(ndim >= 1 && ndim <= 4, "data-parallel evaluation: a gathered batch output is malformed");
  Shape shape(static_cast<size_t>(ndim));
  for (int64_t& d : shape) get(&d, sizeof d);
  r.has_loss = has_loss != 0;
  r.logits = Tensor(DType::F32, shape);
  get(r.logits.f32(), static_cast<size_t>(r.logits.numel()) * sizeof(float));
  return r;
}

}  // namespace

EvalResult evaluate(SequenceClassifier& model, BatchSource& data, const std::string& prefix, ProcessGroup* group) {
  const auto t0 = std::chrono::steady_clock::now();
  // Sequence classification: scikit-learn's metrics; token classification: seqeval as run_ner.py reports it.
  const bool token_task = model.task() == ModelTask::TokenClassification;
  ACCENT_CHECK(model.task() != ModelTask::QuestionAnswering,
               "question-answering models are evaluated through their examples (exact match / F1), not batches");
  std::optional<MetricAccumulator> acc;
  std::optional<TokenClassificationAccumulator> token_acc;
  if (token_task) {
    std::vector<std::string> names;
    if (const ModelConfig* c = model.config())
      for (const auto& [id, name] : c->id2label) names.push_back(name);
    token_acc.emplace(names);
  } else {
    acc.emplace(model.problem_type(), model.num_labels());
  }
  EvalResult r;
  double loss_sum = 0;
  int64_t loss_examples = 0;
  auto add = [&](const ForwardResult& out, const Batch& batch) {
    if (out.has_loss) {
      loss_sum += static_cast<double>(out.loss) * batch.B;
      loss_examples += batch.B;
    }
    if (token_acc) token_acc->add(out.logits, batch);
    else acc->add(out.logits, batch);
    r.num_examples += batch.B;
  };
  const size_t n = data.num_batches(0);
  const size_t W = group ? static_cast<size_t>(group->world_size()) : 1;
  if (W == 1) {
    for (size_t i = 0; i < n; ++i) {
      const Batch batch = data.batch(0, i);
      add(model.forward(batch), batch);
    }
  } else {
    // Rank r runs batches r, r+W, …; then every rank adds all batches' outputs in batch order.
    const size_t rank = static_cast<size_t>(group->rank());
    std::vector<char> mine;
    for (size_t i = rank; i < n; i += W) append_batch_output(mine, model.forward(data.batch(0, i)));
    const std::vector<std::vector<char>> all = group->allgather(mine, "gathering the evaluation outputs");
    std::vector<size_t> offsets(W, 0);
    for (size_t i = 0; i < n; ++i) add(read_batch_output(all[i % W], offsets[i % W]), data.batch(0, i));
  }
  const double runtime = seconds_since(t0);
  r.has_loss = loss_examples > 0;
  r.loss = r.has_loss ? loss_sum / loss_examples : 0.0;
  r.metrics = nlohmann::json::object();
  if (r.has_loss) r.metrics[prefix + "_loss"] = r.loss;
  const nlohmann::json summary = token_acc ? token_acc->summary() : acc->summary();
  for (auto it = summary.begin(); it != summary.end(); ++it) r.metrics[prefix + "_" + it.key()] = it.value();
  r.metrics[prefix + "_runtime"] = round_to(runtime, 4);
  r.metrics[prefix + "_samples_per_second"] = runtime > 0 ? round_to(r.num_examples / runtime, 3) : 0.0;
  r.metrics[prefix + "_steps_per_second"] = runtime > 0 ? round_to(n / runtime, 3) : 0.0;
  r.report = token_acc ? token_acc->report() : acc->report();
  return r;
}

namespace {

// The mutable state of one run, mirroring HF's TrainerState plus what resuming needs.
struct RunState {
  int64_t global_step = 0;
  double epoch = 0;  // fractional, as HF's state.epoch
  nlohmann::json log_history = nlohmann::json::array();
  std::optional<double> best_metric;
  std::optional<int64_t> best_global_step;
  std::string best_model_checkpoint;
  int64_t patience_counter = 0;
  ResumeState resume;
};

class TrainerRun {
 public:
  TrainerRun(SequenceClassifier& model, const TrainingArguments& args, BatchSource& train_data, BatchSource* eval_data,
             const TrainCallbacks& callbacks, const DataParallel& dp)
      : dp_(dp),
        model_(model),
        args_(args),
        train_data_(train_data),
        eval_data_(eval_data),
        callbacks_(callbacks),
        params_(model.parameters()),
        plan_(plan_training(args, train_data.num_batches(0))),
        schedule_(parse_lr_scheduler_type(args.lr_scheduler_type), args.learning_rate,
                  resolve_warmup_steps(args.warmup_steps, args.warmup_ratio, plan_.max_steps), plan_.max_steps),
        optimizer_(params_, AdamWOptions{args.adam_beta1, args.adam_beta2, args.adam_epsilon, args.weight_decay},
                   model.op_context()),
        dropout_rng_(Rng(static_cast<uint64_t>(args.seed)).fork(kDropoutStreamTag)),
        // Data-parallel: rank 0 alone shows progress and writes events.
        progress_(dp.is_world_process_zero() ? args.progress : "none", args.disable_tqdm,
                  dp.is_world_process_zero() ? args.events_jsonl : "") {
    logging_steps_ = resolve_interval(args.logging_steps, plan_.max_steps);
    eval_steps_ = resolve_interval(args.eval_steps.value_or(args.logging_steps), plan_.max_steps);
    save_steps_ = resolve_interval(args.save_steps, plan_.max_steps);
    best_key_ = args.best_metric_key();
    greater_is_better_ = args.best_metric_greater_is_better();
    if (dp_.active()) {
      dropout_rng_.set_shard(static_cast<uint32_t>(dp_.rank()), static_cast<uint32_t>(dp_.world_size()));
      reducer_ = std::make_unique<GradReducer>(*dp_.group, params_, dp_.reducer, dp_.nccl, model.op_context());
      GradReducer* reducer = reducer_.get();
      model_.set_grad_ready_hook([reducer](const ParameterList& ready) { reducer->grads_ready(ready); });
    }
  }
  ~TrainerRun() {
    if (reducer_) model_.set_grad_ready_hook({});
  }

  TrainResult run();

 private:
  void resume_from(const std::string& dir);
  void train_micro_batch(int64_t epoch, size_t index, size_t num_batches);
  void optimizer_step(int64_t epoch, size_t index, size_t num_batches);
  // HF's _maybe_log_save_evaluate.
  void log_save_evaluate(bool should_log, bool should_evaluate, bool should_save, int64_t next_epoch,
                         int64_t next_batch);
  void append_log(nlohmann::json entry);
  void run_evaluation();
  void save(int64_t next_epoch, int64_t next_batch);
  nlohmann::json trainer_state_json() const;
  [[noreturn]] void fail_nonfinite(const std::string& what, double value, int64_t epoch, size_t index);
  bool writes_files() const { return dp_.is_world_process_zero(); }
  void check_ranks_agree_at_start();

  DataParallel dp_;
  std::unique_ptr<GradReducer> reducer_;  // data-parallel runs: the gradient all-reduce
  double step_loss_ = 0;                  // data-parallel runs: this rank's loss of the current step so far
  SequenceClassifier& model_;
  const TrainingArguments& args_;
  BatchSource& train_data_;
  BatchSource* eval_data_;
  const TrainCallbacks& callbacks_;
  ParameterList params_;
  TrainingPlan plan_;
  LrSchedule schedule_;
  AdamW optimizer_;
  Rng dropout_rng_;
  ProgressReporter progress_;
  int64_t logging_steps_ = 0, eval_steps_ = 0, save_steps_ = 0;
  std::optional<std::string> best_key_;
  bool greater_is_better_ = false;

  RunState st_;
  int64_t micro_in_step_ = 0;     // micro-batches accumulated into the current step
  double last_grad_norm_ = 0;
  bool stop_ = false;
  bool early_stopped_ = false;
  bool new_best_pending_ = false;  // last evaluation set a new best: the next save becomes best_model_checkpoint
  int64_t last_saved_step_ = -1;
  std::string last_checkpoint_;
};

void TrainerRun::fail_nonfinite(const std::string& what, double value, int64_t epoch, size_t index) {
  std::ostringstream os;
  os << "training stopped: " << what << " is " << nonfinite_name(value) << " at step " << st_.global_step + 1
     << " (epoch " << epoch + 1 << ", batch " << index + 1 << " of " << train_data_.num_batches(epoch)
     << "); the weights were not updated with it. ";
  const std::optional<std::string> last = latest_checkpoint(args_.output_dir);
  if (last) {
    os << "The last good checkpoint is " << *last << " (resume from it with a lower learning_rate or "
       << "max_grad_norm, or check the data).";
  } else {
    os << "No checkpoint was saved before this step (lower learning_rate, set max_grad_norm, or check the data).";
  }
  progress_.message(os.str());
  fail(os.str());
}

nlohmann::json TrainerRun::trainer_state_json() const {
  auto opt = [](const auto& o) { return o ? nlohmann::json(*o) : nlohmann::json(nullptr); };
  nlohmann::json j;
  j["best_global_step"] = opt(st_.best_global_step);
  j["best_metric"] = opt(st_.best_metric);
  j["best_model_checkpoint"] = st_.best_model_checkpoint.empty() ? nlohmann::json(nullptr)
                                                                 : nlohmann::json(st_.best_model_checkpoint);
  j["epoch"] = st_.epoch;
  j["eval_steps"] = eval_steps_;
  j["global_step"] = st_.global_step;
  j["is_hyper_param_search"] = false;
  j["is_local_process_zero"] = dp_.group ? dp_.group->env().is_local_process_zero() : true;
  j["is_world_process_zero"] = dp_.is_world_process_zero();
  j["log_history"] = st_.log_history;
  j["logging_steps"] = logging_steps_;
  j["max_steps"] = plan_.max_steps;
  j["num_input_tokens_seen"] = 0;
  j["num_train_epochs"] = plan_.num_epochs;
  j["save_steps"] = save_steps_;
  nlohmann::json callbacks = nlohmann::json::object();
  if (args_.early_stopping_patience) {
    callbacks["EarlyStoppingCallback"] = {
        {"args",
         {{"early_stopping_patience", *args_.early_stopping_patience},
          {"early_stopping_threshold", args_.early_stopping_threshold}}},
        {"attributes", {{"early_stopping_patience_counter", st_.patience_counter}}}};
  }
  callbacks["TrainerControl"] = {{"args",
                                  {{"should_epoch_stop", false},
                                   {"should_evaluate", false},
                                   {"should_log", false},
                                   {"should_save", true},
                                   {"should_training_stop", stop_}}},
                                 {"attributes", nlohmann::json::object()}};
  j["stateful_callbacks"] = callbacks;
  j["total_flos"] = 0;
  j["train_batch_size"] = args_.per_device_train_batch_size;
  j["trial_name"] = nullptr;
  j["trial_params"] = nullptr;
  return j;
}

void TrainerRun::resume_from(const std::string& dir) {
  LoadedCheckpoint ck = load_checkpoint(dir, model_, optimizer_);
  SavedTrainerState ts = trainer_state_from_json(ck.trainer_state, dir + "/trainer_state.json");
  st_.global_step = ts.global_step;
  st_.epoch = ts.epoch;
  st_.log_history = std::move(ts.log_history);
  st_.best_metric = ts.best_metric;
  st_.best_global_step = ts.best_global_step;
  st_.best_model_checkpoint = ts.best_model_checkpoint;
  st_.patience_counter = ts.patience_counter;
  stop_ = ts.should_training_stop;
  ACCENT_CHECK(st_.global_step == optimizer_.step_count(), dir, ": trainer_state.json global_step ", st_.global_step,
               " disagrees with the optimizer's step count ", optimizer_.step_count());
  st_.resume = ck.resume;
  ACCENT_CHECK(ck.resume.dropout_seed == dropout_rng_.seed(), dir,
               ": the checkpoint's dropout RNG seed differs from this run's (was the seed changed?)");
  dropout_rng_.set_counter(ck.resume.dropout_counter);
  const std::optional<int64_t> total_steps = scheduler_total_steps(ck.scheduler, dir + "/scheduler.json");
  if (total_steps && *total_steps != plan_.max_steps)
    progress_.message("note: the checkpoint was trained with a schedule of " + std::to_string(*total_steps) +
                      " steps; this run has " +
                      std::to_string(plan_.max_steps) + " (arguments or data changed); continuing with " +
                      std::to_string(plan_.max_steps));
  last_checkpoint_ = dir;
  last_saved_step_ = st_.global_step;
}

void TrainerRun::append_log(nlohmann::json entry) {
  entry["epoch"] = st_.epoch;
  entry["step"] = st_.global_step;
  st_.log_history.push_back(entry);
  progress_.log(entry);
  if (callbacks_.on_log) callbacks_.on_log(entry);
}

void TrainerRun::run_evaluation() {
  ACCENT_CHECK(eval_data_ != nullptr || callbacks_.evaluate, "eval_strategy is \"", args_.eval_strategy,
               "\" but no evaluation data was given");
  const EvalResult r = callbacks_.evaluate ? callbacks_.evaluate("eval")
                                           : evaluate(model_, *eval_data_, "eval", dp_.group);
  append_log(r.metrics);
  if (!best_key_) return;
  if (!r.metrics.contains(*best_key_) || !r.metrics[*best_key_].is_number()) {
    std::string available;
    for (auto it = r.metrics.begin(); it != r.metrics.end(); ++it) available += (available.empty() ? "" : ", ") + it.key();
    fail("metric_for_best_model is \"", *best_key_, "\", which is not among the evaluation metrics (", available,
         ")");
  }
  const double value = r.metrics[*best_key_].get<double>();
  auto better = [&](double a, double b) { return greater_is_better_ ? a > b : a < b; };
  // EarlyStoppingCallback.on_evaluate: compares with the best so far, with the threshold.
  if (args_.early_stopping_patience) {
    if (!st_.best_metric || (better(value, *st_.best_metric) &&
                             std::fabs(value - *st_.best_metric) > args_.early_stopping_threshold))
      st_.patience_counter = 0;
    else
      ++st_.patience_counter;
    if (st_.patience_counter >= *args_.early_stopping_patience) {
      stop_ = true;
      early_stopped_ = true;
      progress_.message("early stopping: " + *best_key_ + " did not improve for " +
                        std::to_string(st_.patience_counter) + " evaluation(s)");
    }
  }
  // Trainer._determine_best_metric.
  if (!st_.best_metric || better(value, *st_.best_metric)) {
    st_.best_metric = value;
    st_.best_global_step = st_.global_step;
    new_best_pending_ = true;
  }
}

void TrainerRun::save(int64_t next_epoch, int64_t next_batch) {
  st_.resume.dropout_seed = dropout_rng_.seed();
  st_.resume.dropout_counter = dropout_rng_.counter();
  st_.resume.epoch = next_epoch;
  st_.resume.batch_in_epoch = next_batch;
  const std::string dir = (std::filesystem::path(args_.output_dir) /
                           ("checkpoint-" + std::to_string(st_.global_step))).string();
  if (new_best_pending_ && best_key_) {
    st_.best_model_checkpoint = dir;
    new_best_pending_ = false;
  }
  if (writes_files()) {
    const nlohmann::json state = trainer_state_json();
    CheckpointContents contents{&args_, &schedule_, &optimizer_, &st_.resume, &state};
    last_checkpoint_ = save_checkpoint(model_, args_.output_dir, st_.global_step, contents, callbacks_.save_extra_files);
    progress_.checkpoint(last_checkpoint_, st_.global_step);
    if (args_.save_total_limit) rotate_checkpoints(args_.output_dir, *args_.save_total_limit, st_.best_model_checkpoint);
  } else {
    last_checkpoint_ = dir;  // rank 0 writes it
  }
  last_saved_step_ = st_.global_step;
  // Data-parallel: nobody goes on (and may fail) before rank 0's checkpoint is complete on disk.
  if (dp_.active()) dp_.group->barrier("the checkpoint save");
}

void TrainerRun::log_save_evaluate(bool should_log, bool should_evaluate, bool should_save, int64_t next_epoch,
                                   int64_t next_batch) {
  if (should_log && st_.resume.steps_since_log > 0) {
    nlohmann::json entry;
    entry["loss"] = round_to(st_.resume.loss_since_log / st_.resume.steps_since_log, 4);
    entry["grad_norm"] = last_grad_norm_;
    entry["learning_rate"] = schedule_.lr_at(st_.global_step);  // scheduler.get_last_lr() after its step
    st_.resume.loss_since_log = 0;
    st_.resume.steps_since_log = 0;
    append_log(entry);
  }
  if (should_evaluate) run_evaluation();
  if (should_save) save(next_epoch, next_batch);
}

void TrainerRun::train_micro_batch(int64_t epoch, size_t index, size_t num_batches) {
  const Batch batch = train_data_.batch(epoch, index);
  const bool group_done = (static_cast<int64_t>(index) + 1) % args_.gradient_accumulation_steps == 0;
  const bool last_of_step = group_done || index + 1 == num_batches;
  // Data-parallel: the step's last micro-batch reduces gradients as backward produces them (DDP); the earlier
  // ones only accumulate locally (DDP's no_sync).
  if (reducer_ && last_of_step) reducer_->begin_step(st_.global_step + 1);
  const ForwardResult out = model_.forward_backward(batch, dropout_rng_);
  ACCENT_CHECK(out.has_loss, "training batch ", index + 1, " of epoch ", epoch + 1,
               " has no labels: the model returned no loss");
  if (!std::isfinite(out.loss)) fail_nonfinite("the loss", out.loss, epoch, index);
  const double scaled = static_cast<double>(out.loss) / args_.gradient_accumulation_steps;  // HF: loss / accum
  if (reducer_) {
    step_loss_ += scaled;  // averaged over the ranks in optimizer_step
  } else {
    st_.resume.loss_since_log += scaled;
    st_.resume.train_loss_sum += scaled;
  }
  ++micro_in_step_;
  if (last_of_step) optimizer_step(epoch, index, num_batches);
}

void TrainerRun::optimizer_step(int64_t epoch, size_t index, size_t num_batches) {
  if (reducer_) {
    // Gradients: the mean over ranks (every rank now holds the same values). Loss: the mean over ranks too, as
    // HF logs it (_nested_gather(tr_loss).mean()), so every rank keeps the same log state.
    reducer_->finish();
    double loss = step_loss_;
    dp_.group->allreduce_sum(&loss, 1, "the loss all-reduce");
    loss /= dp_.world_size();
    step_loss_ = 0;
    st_.resume.loss_since_log += loss;
    st_.resume.train_loss_sum += loss;
  }
  // The model accumulated ∑ ∂loss_i; HF backpropagates loss_i / accum, so scale the sum once.
  if (args_.gradient_accumulation_steps > 1) {
    scale_grads(params_, 1.0f / static_cast<float>(args_.gradient_accumulation_steps), model_.op_context());
  }
  // clip_grad_norm_, step and zero_grad: the norm here, the clip factor applied inside the one optimizer pass.
  last_grad_norm_ = grad_global_norm(params_, model_.op_context());
  if (!std::isfinite(last_grad_norm_)) fail_nonfinite("the gradient norm", last_grad_norm_, epoch, index);
  optimizer_.step_and_zero_grad(schedule_.lr_at(st_.global_step),
                                clip_coefficient(last_grad_norm_, args_.max_grad_norm));
  micro_in_step_ = 0;
  ++st_.global_step;
  ++st_.resume.steps_since_log;
  st_.epoch = static_cast<double>(epoch) + static_cast<double>(index + 1) / static_cast<double>(num_batches);

  // DefaultFlowCallback.on_step_end.
  bool should_log = (st_.global_step == 1 && args_.logging_first_step) ||
                    (args_.logging_strategy == "steps" && logging_steps_ > 0 && st_.global_step % logging_steps_ == 0);
  const bool should_evaluate = args_.eval_strategy == "steps" && eval_steps_ > 0 && st_.global_step % eval_steps_ == 0;
  bool should_save = args_.save_strategy == "steps" && save_steps_ > 0 && st_.global_step % save_steps_ == 0;
  if (st_.global_step >= plan_.max_steps) {
    stop_ = true;
    // HF saves at the last step for any save strategy; with "epoch" the epoch-end save right after covers it
    // (HF writes the same checkpoint twice there).
    if (args_.save_strategy == "steps") should_save = true;
  }
  const double running = st_.resume.steps_since_log > 0 ? st_.resume.loss_since_log / st_.resume.steps_since_log
                                                        : NAN;
  progress_.step(st_.global_step, epoch, st_.epoch, running);
  log_save_evaluate(should_log, should_evaluate, should_save, epoch, static_cast<int64_t>(index) + 1);
  if (callbacks_.on_step_end) callbacks_.on_step_end(st_.global_step);
}

TrainResult TrainerRun::run() {
  args_.validate();
  ACCENT_CHECK(args_.eval_strategy == "no" || eval_data_ != nullptr || callbacks_.evaluate, "eval_strategy is \"",
               args_.eval_strategy, "\" but no evaluation data was given");
  const auto t0 = std::chrono::steady_clock::now();
  std::filesystem::create_directories(args_.output_dir);
  if (writes_files()) remove_partial_checkpoints(args_.output_dir);
  optimizer_.zero_grad();
  if (dp_.active()) check_ranks_agree_at_start();

  if (args_.resume_from_checkpoint) {
    std::string dir = *args_.resume_from_checkpoint;
    if (dir == "latest" || dir == "true") {
      const std::optional<std::string> latest = latest_checkpoint(args_.output_dir);
      ACCENT_CHECK(latest.has_value(), "resume_from_checkpoint: no checkpoint-<step> directory in ", args_.output_dir);
      dir = *latest;
    }
    resume_from(dir);
  }
  const int64_t start_step = st_.global_step;
  progress_.train_begin(plan_.max_steps, plan_.num_epochs, start_step,
                        {{"num_examples", train_data_.num_examples()},
                         {"num_batches_per_epoch", train_data_.num_batches(0)},
                         {"gradient_accumulation_steps", args_.gradient_accumulation_steps},
                         {"warmup_steps", schedule_.warmup_steps()}});
  if (start_step > 0) progress_.message("resumed from " + last_checkpoint_ + " at step " + std::to_string(start_step));

  for (int64_t epoch = st_.resume.epoch; epoch < plan_.num_epochs; ++epoch) {
    const size_t num_batches = train_data_.num_batches(epoch);
    const size_t first = epoch == st_.resume.epoch ? static_cast<size_t>(st_.resume.batch_in_epoch) : 0;
    // A run resumed from its final checkpoint has nothing left; do not open (and evaluate/save) a new epoch.
    if (first == 0 && (stop_ || st_.global_step >= plan_.max_steps)) break;
    for (size_t i = first; i < num_batches; ++i) {
      if (stop_ || st_.global_step >= plan_.max_steps) {
        stop_ = true;
        break;
      }
      train_micro_batch(epoch, i, num_batches);
    }
    // DefaultFlowCallback.on_epoch_end, then _maybe_log_save_evaluate (also when max_steps ended the epoch early).
    const bool log = args_.logging_strategy == "epoch";
    const bool eval = args_.eval_strategy == "epoch";
    const bool save = args_.save_strategy == "epoch";
    log_save_evaluate(log, eval, save, epoch + 1, 0);
    if (stop_) break;
  }

  TrainResult result;
  if (args_.load_best_model_at_end && !st_.best_model_checkpoint.empty()) {
    progress_.message("loading best model from " + st_.best_model_checkpoint + " (score: " +
                      std::to_string(st_.best_metric.value_or(0)) + ")");
    // Data-parallel on CPU processes: rank 0 reads its checkpoint and the others take the weights from it (no shared
    // disk needed). GPU ranks each read it (the checkpoint is complete: no rank passes a save before rank 0 is done).
    const bool share_from_rank0 = dp_.active() && dp_.nccl == nullptr;
    if (writes_files() || !share_from_rank0) load_model_weights(model_, st_.best_model_checkpoint + "/model.safetensors");
    if (share_from_rank0) broadcast_parameters_from_rank0(*dp_.group, params_);
    result.loaded_best_model = true;
  }
  const double runtime = seconds_since(t0);
  const int64_t steps_this_run = st_.global_step - start_step;
  result.training_loss = st_.global_step > 0 ? st_.resume.train_loss_sum / st_.global_step : 0.0;
  nlohmann::json final_entry;
  final_entry["train_runtime"] = round_to(runtime, 4);
  const double samples = static_cast<double>(train_data_.num_examples()) * plan_.num_epochs;
  final_entry["train_samples_per_second"] = runtime > 0 ? round_to(samples / runtime, 3) : 0.0;
  final_entry["train_steps_per_second"] = runtime > 0 ? round_to(steps_this_run / runtime, 3) : 0.0;
  final_entry["total_flos"] = 0;
  final_entry["train_loss"] = result.training_loss;
  final_entry["epoch"] = st_.epoch;
  final_entry["step"] = st_.global_step;
  st_.log_history.push_back(final_entry);
  if (callbacks_.on_log) callbacks_.on_log(final_entry);

  result.global_step = st_.global_step;
  result.metrics = final_entry;
  if (reducer_ && reducer_->stats().steps > 0) {
    // What data parallelism cost (accent's own keys, not in trainer_state): seconds per step inside the gradient
    // all-reduce (on the communication thread, overlapped with backward) and seconds the step waited for it after
    // backward (the part not hidden), and the gradient bytes each rank reduces per step.
    const GradReducerStats& s = reducer_->stats();
    const double steps = static_cast<double>(s.steps);
    result.metrics["ddp_world_size"] = dp_.world_size();
    result.metrics["ddp_allreduce_seconds_per_step"] = round_to(s.allreduce_seconds / steps, 6);
    result.metrics["ddp_wait_seconds_per_step"] = round_to(s.wait_seconds / steps, 6);
    result.metrics["ddp_gradient_bytes_per_step"] = s.bytes_per_step;
    result.metrics["ddp_buckets_per_step"] = static_cast<double>(s.buckets) / steps;
    progress_.message("data-parallel: " + std::to_string(dp_.world_size()) + " ranks; gradient all-reduce " +
                      std::to_string(s.allreduce_seconds / steps) + " s/step (" +
                      std::to_string(s.bytes_per_step >> 20) + " MB in " + std::to_string(s.buckets / s.steps) +
                      " buckets), of which the step waited " + std::to_string(s.wait_seconds / steps) +
                      " s after backward");
  }
  result.state = trainer_state_json();
  result.best_metric = st_.best_metric;
  result.best_model_checkpoint = st_.best_model_checkpoint;
  result.last_checkpoint = last_checkpoint_;
  result.early_stopped = early_stopped_;
  if (!callbacks_.caller_saves_final_state && writes_files()) {
    write_file_atomic(args_.output_dir + "/trainer_state.json", result.state.dump(2) + "\n");
    save_training_args(args_.output_dir + "/training_args.json", args_);
  }
  progress_.train_end(final_entry);
  return result;
}

}  // namespace

void TrainerRun::check_ranks_agree_at_start() {
  nlohmann::json mine;
  mine["training arguments"] = to_json(args_);
  mine["training data"] = {{"examples", train_data_.num_examples()},
                           {"batches per rank", train_data_.num_batches(0)},
                           {"fingerprint", std::to_string(train_data_.fingerprint())}};
  if (eval_data_)
    mine["evaluation data"] = {{"examples", eval_data_->num_examples()},
                               {"batches", eval_data_->num_batches(0)},
                               {"fingerprint", std::to_string(eval_data_->fingerprint())}};
  mine["initial weights"] = {{"parameters", params_.size()},
                             {"fingerprint", std::to_string(parameter_fingerprint(params_))}};
  check_ranks_agree(*dp_.group, mine);
}

TrainResult train(SequenceClassifier& model, const TrainingArguments& args, BatchSource& train_data,
                  BatchSource* eval_data, const TrainCallbacks& callbacks, const DataParallel& dp) {
  args.validate();
  TrainerRun run(model, args, train_data, eval_data, callbacks, dp);
  return run.run();
}

}  // namespace accent
