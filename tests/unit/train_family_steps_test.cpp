// 10 AdamW steps of fine-tuning a small random model of every family (BERT, RoBERTa, ELECTRA with an embedding
// projection, DistilBERT, GPT-2, Qwen2, Llama, ModernBERT) through accent's Trainer (dropout off) against the same 10 steps in PyTorch
// (tests/reference/train_family_steps.py: the models layer's twins bert_twin.py / family_twin.py / task_twin.py
// trained the way transformers.Trainer trains), for every head: sequence classification (some labels -100),
// token classification (labels (B, T), -100 on padding, the first token and a few others) and question answering
// (start/end positions, some at CLS, some past T: clamped and ignored). Right-padded batches with the family's
// pad id. Compared:
//   - the weight-decay groups: accent's Parameter::decay against the Trainer's no-decay group, which the oracle
//     derives from module kind (every parameter given to layer_norm, plus names matching bias/layernorm/rmsnorm);
//   - per-step losses within 1e-4, final weights within 1e-4 relative to each tensor's largest value (except the
//     entries whose true gradient is zero, see zero_gradient_entries and qa_shift_invariant);
//   - the head survives: the model and its last checkpoint are the task's *For<Task> class.
// Weight decay is 0.1 so that a wrong decay flag moves a weight by ~1e-3 relative, well outside the tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

#include "io/safetensors.h"
#include "models/registry.h"
#include "test_util.h"
#include "train/trainer.h"

using namespace accent;
using namespace accent::testing;

namespace {

// The batches the oracle trained on, served in order (one epoch, no shuffling).
class SafetensorsBatches : public BatchSource {
 public:
  SafetensorsBatches(std::shared_ptr<SafetensorsFile> file, size_t n) : file_(std::move(file)), n_(n) {}
  size_t num_batches(int64_t) const override { return n_; }
  Batch batch(int64_t, size_t k) override {
    const std::string s = std::to_string(k);
    const Tensor ids = file_->load("input_ids." + s, DType::I64), tt = file_->load("token_type_ids." + s, DType::I64),
                 mask = file_->load("attention_mask." + s, DType::I64);
    Batch b;
    b.B = ids.dim(0);
    b.T = ids.dim(1);
    for (int64_t i = 0; i < b.B * b.T; ++i) {
      b.input_ids.push_back(static_cast<int32_t>(ids.data_as<int64_t>()[i]));
      b.token_type_ids.push_back(static_cast<int32_t>(tt.data_as<int64_t>()[i]));
      b.attention_mask.push_back(static_cast<int32_t>(mask.data_as<int64_t>()[i]));
    }
    // The labels of the oracle's task, whichever it wrote: labels (B), token_labels (B, T), start/end_positions (B).
    auto int64s = [&](const std::string& name) {
      const Tensor t = file_->load(name + "." + s, DType::I64);
      return std::vector<int64_t>(t.data_as<int64_t>(), t.data_as<int64_t>() + t.numel());
    };
    if (file_->contains("labels." + s)) b.class_labels = int64s("labels");
    if (file_->contains("token_labels." + s)) b.token_labels = int64s("token_labels");
    if (file_->contains("start_positions." + s)) {
      b.start_positions = int64s("start_positions");
      b.end_positions = int64s("end_positions");
    }
    return b;
  }

 private:
  std::shared_ptr<SafetensorsFile> file_;
  size_t n_;
};

// Records the loss of every training forward and, for the parameters in `watched`, the step's largest gradient
// entry next to the whole gradient's L2 norm (before clipping; the Trainer zeroes gradients after every step).
class LossRecorder : public SequenceClassifier {
 public:
  explicit LossRecorder(SequenceClassifier& inner) : inner_(inner) {}
  ParameterList parameters() override { return inner_.parameters(); }
  int64_t num_labels() const override { return inner_.num_labels(); }
  ProblemType problem_type() const override { return inner_.problem_type(); }
  ModelTask task() const override { return inner_.task(); }
  const ModelConfig* config() const override { return inner_.config(); }
  ForwardResult forward(const Batch& b) override { return inner_.forward(b); }
  ForwardResult forward_backward(const Batch& b, Rng& rng) override {
    ForwardResult r = inner_.forward_backward(b, rng);
    losses.push_back(r.loss);
    double sum_sq = 0, watched_max = 0;
    for (const Parameter* p : inner_.parameters()) {
      const bool watch = std::find(watched.begin(), watched.end(), p) != watched.end();
      for (int64_t i = 0; i < p->grad.numel(); ++i) {
        const double g = p->grad.f32()[i];
        sum_sq += g * g;
        if (watch) watched_max = std::max(watched_max, std::fabs(g));
      }
    }
    grad_norms.push_back(std::sqrt(sum_sq));
    watched_grad_max.push_back(watched_max);
    return r;
  }
  std::vector<float> losses;
  std::vector<const Parameter*> watched;
  std::vector<double> grad_norms, watched_grad_max;

 private:
  SequenceClassifier& inner_;
};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The entries [first, last) of a parameter whose true gradient is identically zero: the attention key bias (it
// shifts all scores of a query by the same q·b_k, which softmax ignores, causal mask or not). Its computed gradient
// is rounding noise of size ~1e-9 that AdamW normalises (m / (√v + ε)) into updates of up to ~0.1·lr, different
// in accent and torch, so there the bound is absolute: within 0.1 of one full learning-rate step.
// GPT-2 keeps the key bias inside c_attn.bias = (q | k | v), so only its middle third is such.
std::pair<int64_t, int64_t> zero_gradient_entries(const std::string& name, int64_t numel) {
  if (ends_with(name, "attention.self.key.bias") || ends_with(name, "attention.k_lin.bias")) return {0, numel};
  if (ends_with(name, "attn.c_attn.bias")) return {numel / 3, 2 * numel / 3};
  // Qwen2/Llama rotate keys (RoPE) after the bias: q_i·R(j − i)·b shifts the scores of query i by an amount that
  // depends on j only through cos/sin(ω·(j − i)), which is nearly constant for the low frequencies ω at these
  // sequence lengths (and exactly so for ω = 0): those entries' true gradient is ~0 and AdamW amplifies their
  // rounding noise the same way. The twin tests (models_family_twin_test) check this gradient itself to 1e-6.
  if (ends_with(name, "self_attn.k_proj.bias")) return {0, numel};
  return {0, 0};
}

// Question answering only: the parameters whose sole effect is to shift all T start logits of a row by one amount
// (and all T end logits by another), which the softmax over T ignores, so their true gradient is identically zero
// too: qa_outputs.bias, and the bias of the last LayerNorm before it (it adds one vector b to every token's hidden
// state, hence qa_outputs.weight·b to every logit of the row). transformers masks no padding in these logits,
// and masking would not change it. Here the rounding noise is larger (~1e-8 in torch, the size of Adam's ε, the
// bias gradient being a sum over B·T), so Adam turns it into steps of up to about a full learning rate: the
// trajectories of these entries are only bounded by the schedule's sum of learning rates, and what is checked
// instead is the cause — accent's gradient of them is zero to 1e-6 of the whole gradient's norm at every step.
// Returns their names (the last LayerNorm is the last one in state-dict order: the head comes after it).
std::set<std::string> qa_shift_invariant(const ParameterList& params) {
  std::string last_norm_bias;
  for (const Parameter* p : params)
    for (const char* tail : {"LayerNorm.bias", "layer_norm.bias", "ln_f.bias"})
      if (ends_with(p->name, tail)) last_norm_bias = p->name;
  return {"qa_outputs.bias", last_norm_bias};
}

std::set<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::set<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.insert(line);
  return out;
}

// `task` is train_family_steps.py's --task: "sequence", "token" or "qa".
void check_ten_steps(const std::string& family, const std::string& task = "sequence") {
  const int steps = 10;
  const double lr = 1e-3;
  const std::string what = task == "sequence" ? family : family + "/" + task;  // names the case in messages
  TempDir dir("train_steps_" + family + "_" + task);
  const std::string cmd = "/usr/bin/python3 " ACCENT_SOURCE_DIR "/tests/reference/train_family_steps.py --out " +
                          dir.str() + " --family " + family + " --task " + task + " --steps " + std::to_string(steps) +
                          " --lr 1e-3 --weight-decay 0.1 --warmup 2 --max-grad-norm 1.0";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  LoadOptions opts;
  opts.print_warnings = false;
  std::unique_ptr<SequenceClassifier> loaded = load_sequence_classifier(dir.str(), opts);
  // The head comes from config.json's architectures (task_twin.py writes e.g. BertForTokenClassification).
  const ModelTask expected_task = task == "token" ? ModelTask::TokenClassification
                                  : task == "qa"  ? ModelTask::QuestionAnswering
                                                  : ModelTask::SequenceClassification;
  ASSERT_EQ(loaded->task(), expected_task) << what;
  LossRecorder model(*loaded);
  std::set<std::string> shift_invariant;
  if (expected_task == ModelTask::QuestionAnswering) {
    shift_invariant = qa_shift_invariant(model.parameters());
    for (const Parameter* p : model.parameters())
      if (shift_invariant.count(p->name)) model.watched.push_back(p);
    ASSERT_EQ(model.watched.size(), 2u) << what;
  }

  // The Trainer's decay groups, before any step.
  const std::set<std::string> no_decay = read_lines(dir / "no_decay.txt");
  ASSERT_FALSE(no_decay.empty());
  size_t seen_no_decay = 0;
  for (const Parameter* p : model.parameters()) {
    const bool hf_decay = no_decay.count(p->name) == 0;
    seen_no_decay += !hf_decay;
    EXPECT_EQ(p->decay, hf_decay) << what << " " << p->name << ": accent decay=" << p->decay
                                  << ", HF Trainer's group has weight_decay " << (hf_decay ? "on" : "0");
  }
  EXPECT_EQ(seen_no_decay, no_decay.size()) << "names in the oracle's no-decay group that accent does not have";

  SafetensorsBatches batches(SafetensorsFile::open(dir / "batches.safetensors"), steps);
  TrainingArguments args;
  args.output_dir = dir / "run";
  args.progress = "none";
  args.learning_rate = lr;
  args.weight_decay = 0.1;
  args.warmup_steps = 2;
  args.max_steps = steps;
  args.max_grad_norm = 1.0;
  args.save_strategy = "steps";
  args.save_steps = 5;
  const TrainResult r = train(model, args, batches, nullptr);
  ASSERT_EQ(r.global_step, steps);
  // The last checkpoint is a loadable model directory (config.json + model.safetensors) with the final weights.
  ASSERT_EQ(r.last_checkpoint, args.output_dir + "/checkpoint-10");
  std::unique_ptr<SequenceClassifier> reloaded = load_sequence_classifier(r.last_checkpoint, opts);
  EXPECT_EQ(reloaded->task(), expected_task) << what << ": the checkpoint's config.json keeps the head";
  {
    ParameterList a = model.parameters(), b = reloaded->parameters();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_EQ(0, std::memcmp(a[i]->value.data(), b[i]->value.data(), a[i]->value.nbytes())) << a[i]->name;
  }

  auto expected = SafetensorsFile::open(dir / "trained.safetensors");
  const Tensor ref_losses = expected->load("losses");
  ASSERT_EQ(model.losses.size(), static_cast<size_t>(steps));
  double worst_loss = 0;
  for (int k = 0; k < steps; ++k) {
    const double d = std::fabs(model.losses[k] - ref_losses.f32()[k]);
    worst_loss = std::max(worst_loss, d);
    EXPECT_LE(d, 1e-4) << what << " loss of step " << k + 1 << ": accent " << model.losses[k] << ", torch "
                       << ref_losses.f32()[k];
  }
  double worst_shift_grad = 0;  // the largest of accent's gradients of the QA shift-invariant parameters / ‖g‖
  for (size_t k = 0; k < model.watched_grad_max.size(); ++k) {
    const double rel = model.watched_grad_max[k] / model.grad_norms[k];
    worst_shift_grad = std::max(worst_shift_grad, rel);
    EXPECT_LE(rel, 1e-6) << what << " step " << k + 1 << ": gradient of qa_outputs.bias / the last LayerNorm bias "
                         << model.watched_grad_max[k] << " with ‖g‖ = " << model.grad_norms[k];
  }
  // The learning rates of the 10 steps add up to 5·lr (warmup 0, ½; then 1, ⅞, …, ⅛ of lr).
  const double lr_sum = 5 * lr;
  double worst_weight = 0, worst_key_bias = 0, worst_shift = 0;
  std::string worst_name;
  for (const Parameter* p : model.parameters()) {
    const Tensor ref = expected->load(p->name);
    ASSERT_EQ(ref.shape(), p->value.shape()) << p->name;
    if (shift_invariant.count(p->name)) {
      double d = 0;
      for (int64_t i = 0; i < ref.numel(); ++i)
        d = std::max(d, static_cast<double>(std::fabs(ref.f32()[i] - p->value.f32()[i])));
      worst_shift = std::max(worst_shift, d);
      EXPECT_LE(d, lr_sum) << what << " " << p->name << " (zero gradient, QA): max |accent − torch| = " << d;
      continue;
    }
    const auto [zero_first, zero_last] = zero_gradient_entries(p->name, ref.numel());
    double max_ref = 0, max_diff = 0, key_diff = 0;
    for (int64_t i = 0; i < ref.numel(); ++i) {
      const double d = std::fabs(ref.f32()[i] - p->value.f32()[i]);
      max_ref = std::max(max_ref, static_cast<double>(std::fabs(ref.f32()[i])));
      double& slot = (i >= zero_first && i < zero_last) ? key_diff : max_diff;
      slot = std::max(slot, d);
    }
    if (zero_last > zero_first) {
      worst_key_bias = std::max(worst_key_bias, key_diff);
      EXPECT_LE(key_diff, 0.1 * lr) << what << " " << p->name << " (key bias): max |accent − torch| = " << key_diff;
      if (zero_last - zero_first == ref.numel()) continue;
    }
    const double rel = max_diff / std::max(max_ref, 1e-12);
    if (rel > worst_weight) worst_weight = rel, worst_name = p->name;
    EXPECT_LE(rel, 1e-4) << what << " " << p->name << ": max |accent − torch| = " << max_diff
                         << ", max |torch| = " << max_ref;
  }
  std::printf("%s %d AdamW steps vs torch: max |loss diff| = %.3g, max tensor-relative weight diff = %.3g (%s), "
              "key-bias max |diff| = %.3g; %zu no-decay tensors agree\n",
              what.c_str(), steps, worst_loss, worst_weight, worst_name.c_str(), worst_key_bias, seen_no_decay);
  if (!shift_invariant.empty())
    std::printf("%s: qa_outputs.bias and last LayerNorm bias: max |accent − torch| = %.3g (≤ %.3g), accent's "
                "gradient of them ≤ %.3g of ‖g‖\n",
                what.c_str(), worst_shift, lr_sum, worst_shift_grad);
}

}  // namespace

TEST(TrainFamilySteps, Bert) { check_ten_steps("bert"); }
TEST(TrainFamilySteps, Roberta) { check_ten_steps("roberta"); }
TEST(TrainFamilySteps, ElectraWithProjection) { check_ten_steps("electra"); }
TEST(TrainFamilySteps, DistilBert) { check_ten_steps("distilbert"); }
TEST(TrainFamilySteps, Gpt2) { check_ten_steps("gpt2"); }
TEST(TrainFamilySteps, Qwen2) { check_ten_steps("qwen2"); }
TEST(TrainFamilySteps, Llama) { check_ten_steps("llama"); }
TEST(TrainFamilySteps, ModernBert) { check_ten_steps("modernbert"); }
TEST(TrainFamilySteps, DebertaV2) { check_ten_steps("deberta-v2"); }

// The token-classification and question-answering heads (models/model_task.h), the same 10 steps.
TEST(TrainTaskSteps, BertTokenClassification) { check_ten_steps("bert", "token"); }
TEST(TrainTaskSteps, BertQuestionAnswering) { check_ten_steps("bert", "qa"); }
TEST(TrainTaskSteps, RobertaTokenClassification) { check_ten_steps("roberta", "token"); }
TEST(TrainTaskSteps, RobertaQuestionAnswering) { check_ten_steps("roberta", "qa"); }
TEST(TrainTaskSteps, ElectraWithProjectionTokenClassification) { check_ten_steps("electra", "token"); }
TEST(TrainTaskSteps, ElectraWithProjectionQuestionAnswering) { check_ten_steps("electra", "qa"); }
TEST(TrainTaskSteps, DistilBertTokenClassification) { check_ten_steps("distilbert", "token"); }
TEST(TrainTaskSteps, DistilBertQuestionAnswering) { check_ten_steps("distilbert", "qa"); }
TEST(TrainTaskSteps, Gpt2TokenClassification) { check_ten_steps("gpt2", "token"); }
TEST(TrainTaskSteps, Gpt2QuestionAnswering) { check_ten_steps("gpt2", "qa"); }
TEST(TrainTaskSteps, Qwen2TokenClassification) { check_ten_steps("qwen2", "token"); }
TEST(TrainTaskSteps, ModernBertTokenClassification) { check_ten_steps("modernbert", "token"); }
TEST(TrainTaskSteps, DebertaV2TokenClassification) { check_ten_steps("deberta-v2", "token"); }
