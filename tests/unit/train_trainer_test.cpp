// Tests for the trainer loop (train/trainer.h) with a tiny real model (train/testing/bag_classifier.h):
// model gradients, learning, determinism, checkpoints + resume after a real SIGKILL (bit-identical weights),
// checkpoint rotation / best model, early stopping, NaN handling, gradient accumulation, TrainingArguments JSON.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "core/rng.h"
#include "train/checkpoint.h"
#include "train/progress.h"
#include "train/testing/bag_classifier.h"
#include "train/trainer.h"

using namespace accent;
using accent::testing::BagClassifier;
using accent::testing::BagClassifierConfig;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Example {
  std::vector<int32_t> ids;
  int64_t label;
};

// Tokens < 16 lean to class 0, tokens ≥ 16 to class 1; lengths 3..8.
std::vector<Example> make_examples(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<Example> out;
  for (size_t i = 0; i < n; ++i) {
    Example e;
    e.label = static_cast<int64_t>(rng.below(2));
    const size_t len = 3 + rng.below(6);
    for (size_t t = 0; t < len; ++t) {
      const bool on_topic = rng.uniform() < 0.8f;
      const int32_t base = (e.label == 1) == on_topic ? 16 : 0;
      e.ids.push_back(base + static_cast<int32_t>(rng.below(16)));
    }
    out.push_back(e);
  }
  return out;
}

// Shuffles per epoch with Rng(seed).fork(epoch) (a pure function of seed and epoch) and pads dynamically.
class ExampleSource : public BatchSource {
 public:
  ExampleSource(std::vector<Example> examples, size_t batch_size, bool shuffle, uint64_t seed = 42)
      : examples_(std::move(examples)), batch_size_(batch_size), shuffle_(shuffle), seed_(seed) {}
  size_t num_batches(int64_t) const override { return (examples_.size() + batch_size_ - 1) / batch_size_; }
  size_t num_examples() const override { return examples_.size(); }
  Batch batch(int64_t epoch, size_t index) override {
    std::vector<size_t> order(examples_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (shuffle_) {
      Rng rng = Rng(seed_).fork(static_cast<uint64_t>(epoch));
      for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    }
    const size_t begin = index * batch_size_, end = std::min(begin + batch_size_, examples_.size());
    Batch b;
    b.B = static_cast<int64_t>(end - begin);
    for (size_t i = begin; i < end; ++i) b.T = std::max<int64_t>(b.T, examples_[order[i]].ids.size());
    for (size_t i = begin; i < end; ++i) {
      const Example& e = examples_[order[i]];
      for (int64_t t = 0; t < b.T; ++t) {
        const bool real = t < static_cast<int64_t>(e.ids.size());
        b.input_ids.push_back(real ? e.ids[t] : 0);
        b.attention_mask.push_back(real);
      }
      b.class_labels.push_back(e.label);
    }
    ++batches_served;
    return b;
  }
  size_t batches_served = 0;

 private:
  std::vector<Example> examples_;
  size_t batch_size_;
  bool shuffle_;
  uint64_t seed_;
};

std::string fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("accent_trainer_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

TrainingArguments quiet_args(const std::string& output_dir) {
  TrainingArguments a;
  a.output_dir = output_dir;
  a.progress = "none";
  a.learning_rate = 5e-2;
  a.num_train_epochs = 3;
  a.per_device_train_batch_size = 8;
  a.save_strategy = "no";
  a.logging_steps = 5;
  return a;
}

std::string weights_bytes(SequenceClassifier& model) {
  std::string out;
  for (const Parameter* p : model.parameters())
    out.append(static_cast<const char*>(p->value.data()), p->value.nbytes());
  return out;
}

double eval_accuracy(SequenceClassifier& model, BatchSource& data) {
  return evaluate(model, data).metrics["eval_accuracy"].get<double>();
}

// Finite-difference check of the model's backward (dropout off): every parameter element, central differences.
void check_gradients(ProblemType type, int64_t C) {
  BagClassifierConfig cfg;
  cfg.num_labels = C;
  cfg.problem_type = type;
  cfg.dropout = 0.0f;
  cfg.vocab_size = 10;
  cfg.hidden_size = 4;
  BagClassifier model(cfg);
  Batch b;
  b.B = 3;
  b.T = 4;
  b.input_ids = {1, 2, 3, 0, /**/ 4, 4, 9, 7, /**/ 5, 0, 0, 0};
  b.attention_mask = {1, 1, 1, 0, /**/ 1, 1, 1, 1, /**/ 1, 0, 0, 0};
  if (type == ProblemType::SingleLabel) b.class_labels = {0, C - 1, -100};
  else
    for (int64_t i = 0; i < b.B * C; ++i) b.float_labels.push_back(type == ProblemType::MultiLabel ? float(i % 2) : 0.3f * i);
  Rng rng(0);
  model.forward_backward(b, rng);
  for (Parameter* p : model.parameters()) {
    for (int64_t i = 0; i < p->value.numel(); ++i) {
      float& x = p->value.f32()[i];
      const float orig = x, h = 1e-2f;
      x = orig + h;
      const double up = model.forward(b).loss;
      x = orig - h;
      const double down = model.forward(b).loss;
      x = orig;
      const double fd = (up - down) / (2.0 * h);
      EXPECT_NEAR(p->grad.f32()[i], fd, 2e-3 + 1e-2 * std::fabs(fd)) << p->name << "[" << i << "]";
    }
  }
}

}  // namespace

TEST(BagClassifier, BackwardMatchesFiniteDifferences) {
  check_gradients(ProblemType::SingleLabel, 3);
  check_gradients(ProblemType::MultiLabel, 2);
  check_gradients(ProblemType::Regression, 1);
}

TEST(TrainingPlan, FollowsHFStepCounting) {
  TrainingArguments a;
  a.num_train_epochs = 3;
  TrainingPlan p = plan_training(a, 10);
  EXPECT_EQ(p.updates_per_epoch, 10);
  EXPECT_EQ(p.max_steps, 30);
  EXPECT_EQ(p.num_epochs, 3);
  a.gradient_accumulation_steps = 3;
  p = plan_training(a, 10);  // len // accum = 3 per epoch → 9 steps, though each epoch runs 4 (leftover step)
  EXPECT_EQ(p.updates_per_epoch, 3);
  EXPECT_EQ(p.max_steps, 9);
  a.num_train_epochs = 2.5;
  a.gradient_accumulation_steps = 1;
  p = plan_training(a, 10);
  EXPECT_EQ(p.max_steps, 25);
  EXPECT_EQ(p.num_epochs, 3);
  a.max_steps = 21;
  p = plan_training(a, 10);
  EXPECT_EQ(p.max_steps, 21);
  EXPECT_EQ(p.num_epochs, 3);
}

TEST(TrainingArguments, JsonRoundTripAndValidation) {
  TrainingArguments a;
  EXPECT_EQ(a.learning_rate, 5e-5);
  EXPECT_EQ(a.per_device_train_batch_size, 8);
  EXPECT_EQ(a.max_grad_norm, 1.0);
  EXPECT_EQ(a.seed, 42);
  a.output_dir = "/tmp/x";
  a.eval_strategy = "steps";
  a.eval_steps = 10;
  a.save_total_limit = 2;
  a.metric_for_best_model = "f1";
  const std::string dir = fresh_dir("args");
  save_training_args(dir + "/training_args.json", a);
  const TrainingArguments b = load_training_args(dir + "/training_args.json");
  EXPECT_EQ(to_json(a), to_json(b));
  EXPECT_EQ(b.best_metric_key(), "eval_f1");
  EXPECT_TRUE(b.best_metric_greater_is_better());
  TrainingArguments c;
  c.load_best_model_at_end = true;
  c.eval_strategy = "epoch";
  EXPECT_THROW(c.validate(), Error);  // save_strategy "steps" ≠ eval_strategy "epoch"
  c.save_strategy = "epoch";
  c.validate();
  EXPECT_EQ(c.best_metric_key(), "eval_loss");
  EXPECT_FALSE(c.best_metric_greater_is_better());
  EXPECT_THROW(training_args_from_json(json{{"learning_rat", 1}}, "args.json"), Error);
  EXPECT_EQ(training_args_from_json(json{{"evaluation_strategy", "epoch"}}, "x").eval_strategy, "epoch");
  c.lr_scheduler_type = "bogus";
  EXPECT_THROW(c.validate(), Error);
  fs::remove_all(dir);
}

TEST(Trainer, LearnsAndWritesHFState) {
  const std::string dir = fresh_dir("learn");
  BagClassifierConfig cfg;
  BagClassifier model(cfg);
  ExampleSource train_src(make_examples(160, 1), 8, true), eval_src(make_examples(64, 2), 16, false);
  const double acc_before = eval_accuracy(model, eval_src);
  TrainingArguments args = quiet_args(dir);
  args.eval_strategy = "epoch";
  args.warmup_ratio = 0.1;
  std::vector<json> logged;
  TrainCallbacks cb;
  cb.on_log = [&](const json& e) { logged.push_back(e); };
  const TrainResult r = train(model, args, train_src, &eval_src, cb);
  const double acc_after = eval_accuracy(model, eval_src);
  std::printf("bag classifier eval accuracy %.3f -> %.3f, train_loss %.4f\n", acc_before, acc_after, r.training_loss);
  EXPECT_GT(acc_after, 0.9);
  EXPECT_EQ(r.global_step, 60);  // 20 batches × 3 epochs
  const json state = json::parse(read_file(dir + "/trainer_state.json"));
  EXPECT_EQ(state["global_step"], 60);
  EXPECT_EQ(state["max_steps"], 60);
  const json& hist = state["log_history"];
  // 12 loss logs (every 5 steps) + 3 evaluations + final summary.
  ASSERT_EQ(hist.size(), 16u);
  EXPECT_EQ(logged.size(), 16u);
  EXPECT_TRUE(hist[0].contains("loss") && hist[0].contains("learning_rate") && hist[0].contains("grad_norm"));
  EXPECT_EQ(hist[0]["step"], 5);
  EXPECT_DOUBLE_EQ(hist[0]["epoch"].get<double>(), 0.25);
  // HF logs the scheduler's lr after its step: warmup = ceil(0.1·60) = 6, so at step 5 the lr is 5/6 of the peak.
  EXPECT_NEAR(hist[0]["learning_rate"].get<double>(), args.learning_rate * 5.0 / 6.0, 1e-15);
  EXPECT_TRUE(hist[4].contains("eval_loss") && hist[4].contains("eval_accuracy") && hist[4].contains("eval_f1"));
  EXPECT_EQ(hist[4]["step"], 20);
  EXPECT_TRUE(hist.back().contains("train_loss") && hist.back().contains("train_runtime"));
  EXPECT_GT(hist[0]["loss"].get<double>(), hist[11]["loss"].get<double>());
  EXPECT_TRUE(fs::exists(dir + "/training_args.json"));
  EXPECT_TRUE(list_checkpoints(dir).empty());  // save_strategy "no"
  fs::remove_all(dir);
}

TEST(Trainer, SameSeedSameWeights) {
  auto run = [](uint64_t seed, const std::string& dir) {
    BagClassifier model(BagClassifierConfig{});
    ExampleSource src(make_examples(64, 3), 8, true);
    TrainingArguments args = quiet_args(dir);
    args.seed = static_cast<int64_t>(seed);
    train(model, args, src, nullptr);
    return weights_bytes(model);
  };
  const std::string dir = fresh_dir("determinism");
  EXPECT_EQ(run(7, dir), run(7, dir));
  EXPECT_NE(run(7, dir), run(8, dir));  // the dropout stream follows the seed
  fs::remove_all(dir);
}

// The real thing: a forked child trains and is SIGKILLed mid-run (after a checkpoint, with progress past it);
// resuming from the newest checkpoint must end with exactly the bytes of an uninterrupted run.
TEST(Trainer, ResumeAfterSigkillIsBitIdentical) {
  const std::string ref_dir = fresh_dir("resume_ref"), dir = fresh_dir("resume_killed");
  auto make_args = [](const std::string& out) {
    TrainingArguments a = quiet_args(out);
    a.num_train_epochs = 3;
    a.per_device_train_batch_size = 6;
    a.gradient_accumulation_steps = 2;  // 11 batches → 5 full steps + 1 leftover step per epoch
    a.save_strategy = "steps";
    a.save_steps = 4;
    a.logging_steps = 3;
    a.eval_strategy = "epoch";
    a.warmup_steps = 2;
    a.weight_decay = 0.01;
    return a;
  };
  const std::vector<Example> train_examples = make_examples(64, 4), eval_examples = make_examples(24, 5);

  BagClassifier reference(BagClassifierConfig{});
  {
    ExampleSource src(train_examples, 6, true), ev(eval_examples, 8, false);
    train(reference, make_args(ref_dir), src, &ev);
  }
  const std::string expected = weights_bytes(reference);
  const json ref_state = json::parse(read_file(ref_dir + "/trainer_state.json"));

  const int64_t kill_at_step = 10;  // checkpoint-8 exists; steps 9 and 10 are lost with the process
  const std::string marker = dir + "/child_reached_step";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      BagClassifier model(BagClassifierConfig{});
      ExampleSource src(train_examples, 6, true), ev(eval_examples, 8, false);
      TrainCallbacks cb;
      cb.on_step_end = [&](int64_t step) {
        if (step != kill_at_step) return;
        write_file_atomic(marker, std::to_string(step));
        for (;;) ::pause();  // wait for the parent's SIGKILL
      };
      train(model, make_args(dir), src, &ev, cb);
    } catch (...) {
    }
    ::_exit(3);  // only reached if the kill never came
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(marker) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(fs::exists(marker)) << "child never reached step " << kill_at_step;
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  auto ckpts = list_checkpoints(dir);
  ASSERT_EQ(ckpts.size(), 2u);  // checkpoint-4, checkpoint-8
  EXPECT_EQ(ckpts.back().first, 8);
  for (const char* f : {"model.safetensors", "optimizer.safetensors", "scheduler.json", "trainer_resume.json",
                        "trainer_state.json", "training_args.json"})
    EXPECT_TRUE(fs::exists(ckpts.back().second + "/" + f)) << f;
  // Debris of an interrupted save must not matter.
  fs::create_directories(dir + "/tmp-checkpoint-12");
  write_file_atomic(dir + "/tmp-checkpoint-12/model.safetensors", "garbage");

  BagClassifier resumed(BagClassifierConfig{});  // fresh init: everything must come from the checkpoint
  ExampleSource src(train_examples, 6, true), ev(eval_examples, 8, false);
  TrainingArguments args = make_args(dir);
  args.resume_from_checkpoint = "latest";
  const TrainResult r = train(resumed, args, src, &ev);
  EXPECT_EQ(r.global_step, ref_state["global_step"].get<int64_t>());
  // 11 batches per epoch, 6 steps per epoch (5 of 2 + a leftover of 1), max_steps = 3·(11/2) = 15: the run
  // serves 11 + 11 + 6 = 28 batches; checkpoint-8 sits after batch 4 of epoch 2, leaving 7 + 6.
  EXPECT_EQ(src.batches_served, 13u) << "resumed run should only serve the remaining batches";
  EXPECT_TRUE(weights_bytes(resumed) == expected) << "resumed weights differ from the uninterrupted run";
  EXPECT_FALSE(fs::exists(dir + "/tmp-checkpoint-12"));
  // Same log history (losses, learning rates, evaluations) apart from wall-clock fields.
  const json state = json::parse(read_file(dir + "/trainer_state.json"));
  ASSERT_EQ(state["log_history"].size(), ref_state["log_history"].size());
  for (size_t i = 0; i + 1 < state["log_history"].size(); ++i) {
    json a = state["log_history"][i], b = ref_state["log_history"][i];
    for (const char* k : {"eval_runtime", "eval_samples_per_second", "eval_steps_per_second"}) a.erase(k), b.erase(k);
    EXPECT_EQ(a, b) << "log entry " << i;
  }
  EXPECT_EQ(state["log_history"].back()["train_loss"], ref_state["log_history"].back()["train_loss"]);
  fs::remove_all(ref_dir);
  fs::remove_all(dir);
}

TEST(Trainer, RotatesCheckpointsKeepsBestAndLoadsIt) {
  const std::string dir = fresh_dir("best");
  BagClassifier model(BagClassifierConfig{});
  ExampleSource src(make_examples(48, 6), 8, true), ev(make_examples(32, 7), 8, false);
  TrainingArguments args = quiet_args(dir);
  args.num_train_epochs = 4;
  args.learning_rate = 0.3;  // large enough that the metric moves around
  args.eval_strategy = "steps";
  args.eval_steps = 2;
  args.save_strategy = "steps";
  args.save_steps = 2;
  args.save_total_limit = 2;
  args.load_best_model_at_end = true;  // metric: eval_loss, lower is better
  const TrainResult r = train(model, args, src, &ev);
  ASSERT_FALSE(r.best_model_checkpoint.empty());
  ASSERT_TRUE(r.best_metric.has_value());
  EXPECT_TRUE(r.loaded_best_model);
  auto ckpts = list_checkpoints(dir);
  ASSERT_LE(ckpts.size(), 2u);
  EXPECT_EQ(ckpts.back().first, r.global_step);  // the newest is kept
  EXPECT_TRUE(fs::exists(r.best_model_checkpoint));  // the best survives rotation
  // Best = the minimum eval_loss in the history, and the model now holds those weights.
  double best = 1e30;
  int64_t best_step = -1;
  for (const json& e : r.state["log_history"])
    if (e.contains("eval_loss") && e["eval_loss"].get<double>() < best) best = e["eval_loss"], best_step = e["step"];
  EXPECT_DOUBLE_EQ(*r.best_metric, best);
  EXPECT_EQ(r.best_model_checkpoint, (fs::path(dir) / ("checkpoint-" + std::to_string(best_step))).string());
  EXPECT_DOUBLE_EQ(evaluate(model, ev).loss, best);
  fs::remove_all(dir);
}

TEST(Trainer, EarlyStoppingAfterPatience) {
  const std::string dir = fresh_dir("early");
  BagClassifier model(BagClassifierConfig{});
  ExampleSource src(make_examples(80, 8), 8, true), ev(make_examples(16, 9), 8, false);
  TrainingArguments args = quiet_args(dir);
  args.learning_rate = 0.0;  // nothing changes, so the metric never improves after the first evaluation
  args.eval_strategy = "steps";
  args.eval_steps = 2;
  args.metric_for_best_model = "accuracy";
  args.early_stopping_patience = 2;
  const TrainResult r = train(model, args, src, &ev);
  EXPECT_TRUE(r.early_stopped);
  EXPECT_EQ(r.global_step, 6);  // evaluations at 2 (best), 4 (1), 6 (2 → stop)
  fs::remove_all(dir);
}

namespace {
// Wraps a model and turns the loss of one training call into NaN.
class PoisonedModel : public SequenceClassifier {
 public:
  PoisonedModel(SequenceClassifier& inner, int64_t poison_call) : inner_(inner), poison_call_(poison_call) {}
  ParameterList parameters() override { return inner_.parameters(); }
  int64_t num_labels() const override { return inner_.num_labels(); }
  ProblemType problem_type() const override { return inner_.problem_type(); }
  ForwardResult forward(const Batch& b) override { return inner_.forward(b); }
  ForwardResult forward_backward(const Batch& b, Rng& rng) override {
    ForwardResult r = inner_.forward_backward(b, rng);
    if (++calls_ == poison_call_) r.loss = std::nanf("");
    return r;
  }

 private:
  SequenceClassifier& inner_;
  int64_t poison_call_, calls_ = 0;
};
}  // namespace

TEST(Trainer, NanLossStopsAndNamesStepAndCheckpoint) {
  const std::string dir = fresh_dir("nan");
  BagClassifier inner(BagClassifierConfig{});
  PoisonedModel model(inner, 7);
  ExampleSource src(make_examples(80, 10), 8, true);
  TrainingArguments args = quiet_args(dir);
  args.save_strategy = "steps";
  args.save_steps = 5;
  try {
    train(model, args, src, nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("loss is nan at step 7"), std::string::npos) << msg;
    EXPECT_NE(msg.find("checkpoint-5"), std::string::npos) << msg;
  }
  auto ckpts = list_checkpoints(dir);
  ASSERT_EQ(ckpts.size(), 1u);
  EXPECT_EQ(ckpts[0].first, 5);
  fs::remove_all(dir);
}

// Accumulating 2 micro-batches of 4 equals one batch of 8 (mean of equal-size means; HF scales loss by 1/accum).
TEST(Trainer, GradientAccumulationMatchesLargeBatch) {
  const std::vector<Example> ex = make_examples(64, 12);
  BagClassifierConfig cfg;
  cfg.dropout = 0.0f;
  const std::string dir = fresh_dir("accum");
  BagClassifier big(cfg), small(cfg);
  ExampleSource big_src(ex, 8, true), small_src(ex, 4, true);
  TrainingArguments a = quiet_args(dir);
  a.num_train_epochs = 1;
  a.max_grad_norm = 0.5;
  train(big, a, big_src, nullptr);
  // Same example order: small_src's shuffle is the same permutation, split into halves.
  a.gradient_accumulation_steps = 2;
  const TrainResult r = train(small, a, small_src, nullptr);
  EXPECT_EQ(r.global_step, 8);
  auto pb = big.parameters(), ps = small.parameters();
  for (size_t i = 0; i < pb.size(); ++i)
    for (int64_t j = 0; j < pb[i]->value.numel(); ++j)
      EXPECT_NEAR(pb[i]->value.f32()[j], ps[i]->value.f32()[j], 2e-5) << pb[i]->name << "[" << j << "]";
  fs::remove_all(dir);
}

TEST(Progress, EventsJsonlAndFormatting) {
  const std::string dir = fresh_dir("events");
  BagClassifier model(BagClassifierConfig{});
  ExampleSource src(make_examples(32, 13), 8, true), ev(make_examples(8, 14), 8, false);
  TrainingArguments args = quiet_args(dir);
  args.num_train_epochs = 2;
  args.logging_steps = 2;
  args.eval_strategy = "epoch";
  args.save_strategy = "epoch";
  args.events_jsonl = dir + "/events.jsonl";
  train(model, args, src, &ev);
  std::map<std::string, int> counts;
  std::istringstream lines(read_file(args.events_jsonl));
  for (std::string line; std::getline(lines, line);) {
    const json e = json::parse(line);
    ASSERT_TRUE(e.contains("event") && e.contains("time")) << line;
    ++counts[e["event"].get<std::string>()];
  }
  EXPECT_EQ(counts["train_begin"], 1);
  EXPECT_EQ(counts["step"], 8);
  EXPECT_EQ(counts["log"], 4);
  EXPECT_EQ(counts["eval"], 2);
  EXPECT_EQ(counts["checkpoint"], 2);
  EXPECT_EQ(counts["train_end"], 1);
  EXPECT_EQ(ProgressReporter::format_duration(65), "01:05");
  EXPECT_EQ(ProgressReporter::format_duration(3725), "1:02:05");
  EXPECT_EQ(ProgressReporter::format_rate(3.414), "3.41it/s");
  EXPECT_EQ(ProgressReporter::format_rate(0.4), "2.50s/it");
  fs::remove_all(dir);
}

// Resuming from the final checkpoint (epoch save strategy, early stopping) trains nothing more and logs nothing new.
TEST(Trainer, ResumeFromFinalCheckpointIsANoOp) {
  const std::string dir = fresh_dir("final");
  for (bool early : {false, true}) {
    fs::remove_all(dir);
    BagClassifier model(BagClassifierConfig{});
    ExampleSource src(make_examples(40, 15), 8, true), ev(make_examples(16, 16), 8, false);
    TrainingArguments args = quiet_args(dir);
    args.num_train_epochs = early ? 20 : 2;
    args.learning_rate = early ? 0.0 : 5e-2;
    args.eval_strategy = "epoch";
    args.save_strategy = "epoch";
    if (early) args.metric_for_best_model = "loss", args.early_stopping_patience = 1;
    const TrainResult r = train(model, args, src, &ev);
    EXPECT_EQ(r.early_stopped, early);
    const std::string before = weights_bytes(model);
    const size_t entries = r.state["log_history"].size();
    src.batches_served = 0;
    args.resume_from_checkpoint = "latest";
    const TrainResult again = train(model, args, src, &ev);
    EXPECT_EQ(src.batches_served, 0u);
    EXPECT_EQ(again.global_step, r.global_step);
    EXPECT_EQ(again.state["log_history"].size(), entries);
    EXPECT_TRUE(weights_bytes(model) == before);
  }
  fs::remove_all(dir);
}
