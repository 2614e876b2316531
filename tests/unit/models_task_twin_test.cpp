// Proof of exactness for the token-classification and question-answering heads (every family): accent against the
// PyTorch twin tests/reference/task_twin.py (transformers' *ForTokenClassification / *ForQuestionAnswering math
// in torch) on the same weights — logits (B, T, C) / (B, T, 2), loss (−100 labels; QA positions clamped, T
// ignored, start and end averaged) and every parameter gradient, as models_twin_check.h defines. The model is
// built from config.json's architectures, as AutoModel does.
#include <algorithm>

#include "models/encoder_classifier.h"
#include "models_twin_check.h"

using namespace accent;
using namespace accent::testing;

namespace {

void check_task(const std::string& family, const std::string& task, Backend backend = Backend::Cpu) {
  // DeBERTa-v2's padded rows attend uniformly in HF (every score finfo.min); accent's attend to the real keys.
  const bool real_tokens_only = family == "deberta-v2";
  TempDir dir("task_twin_" + family + "_" + task + "_" + backend_name(backend));
  const std::string cmd = "/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) + "/tests/reference/task_twin.py gen --out " +
                          dir.str() + " --family " + family + " --task " + task;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  check_dir_against_expected(dir, backend, family + "/" + task + "/" + backend_name(backend), real_tokens_only);
}

}  // namespace

TEST(TaskTwin, BertTokenClassification) { check_task("bert", "token"); }
TEST(TaskTwin, BertQuestionAnswering) { check_task("bert", "qa"); }
TEST(TaskTwin, BertQuestionAnsweringRefBackend) { check_task("bert", "qa", Backend::Ref); }
TEST(TaskTwin, RobertaTokenClassification) { check_task("roberta", "token"); }
TEST(TaskTwin, RobertaQuestionAnswering) { check_task("roberta", "qa"); }
TEST(TaskTwin, ElectraWithProjectionTokenClassification) { check_task("electra", "token"); }
TEST(TaskTwin, ElectraQuestionAnswering) { check_task("electra", "qa"); }
TEST(TaskTwin, DistilBertTokenClassification) { check_task("distilbert", "token"); }
TEST(TaskTwin, DistilBertQuestionAnswering) { check_task("distilbert", "qa"); }
TEST(TaskTwin, Gpt2TokenClassification) { check_task("gpt2", "token"); }
TEST(TaskTwin, Qwen2TokenClassification) { check_task("qwen2", "token"); }
TEST(TaskTwin, ModernBertTokenClassification) { check_task("modernbert", "token"); }
TEST(TaskTwin, DebertaV2TokenClassification) { check_task("deberta-v2", "token"); }
TEST(TaskTwin, DebertaV2TokenClassificationRefBackend) { check_task("deberta-v2", "token", Backend::Ref); }
TEST(TaskTwin, ModernBertTokenClassificationRefBackend) { check_task("modernbert", "token", Backend::Ref); }
TEST(TaskTwin, LlamaTokenClassificationRefBackend) { check_task("llama", "token", Backend::Ref); }
TEST(TaskTwin, Gpt2TokenClassificationRefBackend) { check_task("gpt2", "token", Backend::Ref); }
TEST(TaskTwin, Gpt2QuestionAnswering) { check_task("gpt2", "qa"); }

// A base checkpoint (BertForPreTraining-like: pooler included) loaded for token classification gets a new
// "classifier", reports it missing, and drops the pooler silently (transformers' _keys_to_ignore_on_load_unexpected);
// saved, it is a BertForTokenClassification that loads back with every weight.
TEST(TaskTwin, BaseCheckpointGetsTheTaskHeadAndRoundTrips) {
  TempDir dir("task_base");
  const std::string cmd = "/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) +
                          "/tests/reference/family_twin.py gen --out " + dir.str() + " --family roberta";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  LoadOptions opts;
  opts.print_warnings = false;
  opts.task = ModelTask::TokenClassification;
  opts.num_labels = 7;
  opts.ignore_mismatched_sizes = true;
  LoadReport report;
  auto model = load_sequence_classifier(dir.str(), opts, &report);
  EXPECT_EQ(report.architecture, "RobertaForTokenClassification");
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(report.missing_keys), (std::vector<std::string>{"classifier.bias", "classifier.weight"}));
  // The sequence head's classifier.dense / out_proj are not part of a token-classification model.
  EXPECT_EQ(sorted(report.unexpected_keys),
            (std::vector<std::string>{"classifier.dense.bias", "classifier.dense.weight", "classifier.out_proj.bias",
                                      "classifier.out_proj.weight"}));
  TempDir saved("task_saved");
  model->save_pretrained(saved.str());
  LoadOptions strict;
  strict.print_warnings = false;
  strict.require_all_weights = true;
  LoadReport again;
  auto reloaded = load_sequence_classifier(saved.str(), strict, &again);
  EXPECT_EQ(again.architecture, "RobertaForTokenClassification");
  EXPECT_TRUE(again.missing_keys.empty() && again.unexpected_keys.empty());
  Batch batch;
  batch.B = 1, batch.T = 5;
  batch.input_ids = {0, 17, 42, 99, 2};
  const ForwardResult a = model->forward(batch), b = reloaded->forward(batch);
  ASSERT_EQ(a.logits.shape(), (Shape{1, 5, 7}));
  EXPECT_LE(max_abs_diff(a.logits, b.logits), 0.0);
}
