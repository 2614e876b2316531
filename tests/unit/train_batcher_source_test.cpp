// Trainer fed by the data layer's Batcher (train/batcher_source.h): learns, and a resumed run is bit-identical.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/rng.h"
#include "data/batcher.h"
#include "train/batcher_source.h"
#include "train/checkpoint.h"
#include "train/testing/bag_classifier.h"
#include "train/trainer.h"

using namespace accent;
namespace fs = std::filesystem;

namespace {
std::vector<EncodedExample> make_examples(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<EncodedExample> out;
  for (size_t i = 0; i < n; ++i) {
    EncodedExample e;
    e.class_label = static_cast<int64_t>(rng.below(2));
    const size_t len = 2 + rng.below(10);
    for (size_t t = 0; t < len; ++t)
      e.input_ids.push_back((rng.uniform() < 0.8f) == (e.class_label == 1) ? 16 + int32_t(rng.below(16))
                                                                             : int32_t(rng.below(16)));
    out.push_back(e);
  }
  return out;
}

std::string weights_bytes(SequenceClassifier& model) {
  std::string out;
  for (const Parameter* p : model.parameters()) out.append(static_cast<const char*>(p->value.data()), p->value.nbytes());
  return out;
}
}  // namespace

TEST(BatcherSource, TrainsAndResumesBitIdentically) {
  const auto train_ex = make_examples(90, 1), eval_ex = make_examples(40, 2);
  BatcherOptions bo;
  bo.batch_size = 8;
  bo.group_by_length = true;
  Batcher train_batcher(train_ex, bo), eval_batcher(eval_ex, bo);
  const std::string dir = (fs::temp_directory_path() / ("accent_batcher_src_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  TrainingArguments args;
  args.output_dir = dir;
  args.progress = "none";
  args.learning_rate = 5e-2;
  args.num_train_epochs = 3;
  args.eval_strategy = "epoch";
  args.save_strategy = "steps";
  args.save_steps = 10;

  accent::testing::BagClassifier full(accent::testing::BagClassifierConfig{});
  {
    BatcherTrainSource tr(train_batcher, train_ex.size());
    BatcherEvalSource ev(eval_batcher, eval_ex.size());
    EXPECT_EQ(tr.num_batches(0), 12u);
    const TrainResult r = train(full, args, tr, &ev);
    EXPECT_EQ(r.global_step, 36);
    EXPECT_GT(evaluate(full, ev).metrics["eval_accuracy"].get<double>(), 0.85);
  }
  // Resume from checkpoint-20 (mid epoch 2) with a fresh model: same bytes at the end.
  accent::testing::BagClassifier resumed(accent::testing::BagClassifierConfig{});
  BatcherTrainSource tr(train_batcher, train_ex.size());
  BatcherEvalSource ev(eval_batcher, eval_ex.size());
  args.resume_from_checkpoint = dir + "/checkpoint-20";
  train(resumed, args, tr, &ev);
  EXPECT_TRUE(weights_bytes(resumed) == weights_bytes(full));
  fs::remove_all(dir);
}
