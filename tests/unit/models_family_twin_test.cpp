// Proof of exactness for the non-BERT families (RoBERTa, ELECTRA with an embedding projection, DistilBERT, GPT-2,
// Qwen2, Llama, ModernBERT, DeBERTa-v2/v3):
// accent against the PyTorch twin tests/reference/family_twin.py (HF's math in torch) on the same weights —
// logits, loss and every parameter gradient, as models_twin_check.h defines.
#include "models_family_twin_util.h"

using namespace accent;
using namespace accent::testing;

TEST(FamilyTwin, RobertaSingleLabel) { check_family("roberta", "single", "gelu"); }
TEST(FamilyTwin, RobertaRegressionRefBackend) { check_family("roberta", "regression", "gelu", Backend::Ref); }
TEST(FamilyTwin, ElectraWithProjectionMultiLabel) { check_family("electra", "multi", "gelu"); }
TEST(FamilyTwin, ElectraSingleLabelGeluNew) { check_family("electra", "single", "gelu_new"); }
TEST(FamilyTwin, DistilBertSingleLabel) { check_family("distilbert", "single", "gelu"); }
TEST(FamilyTwin, DistilBertRegressionRelu) { check_family("distilbert", "regression", "relu"); }
TEST(FamilyTwin, Gpt2SingleLabel) { check_family("gpt2", "single", "gelu_new"); }
TEST(FamilyTwin, Gpt2MultiLabelRefBackend) { check_family("gpt2", "multi", "gelu_new", Backend::Ref); }

// Decoder classifiers (models/decoder_classifier.h): Qwen2.5's layout (GQA 4/2, q/k/v biases, pad = eos) and
// Llama-3's (GQA 4/1, head_dim ≠ H/NH, every bias, llama3 rope_scaling, pad_token_id 0 with its padding_idx).
TEST(FamilyTwin, Qwen2SingleLabel) { check_family("qwen2", "single", "silu"); }
TEST(FamilyTwin, Qwen2RegressionRefBackend) { check_family("qwen2", "regression", "silu", Backend::Ref); }
TEST(FamilyTwin, LlamaMultiLabel) { check_family("llama", "multi", "silu"); }
TEST(FamilyTwin, LlamaSingleLabelRefBackend) { check_family("llama", "single", "silu", Backend::Ref); }
// ModernBERT (models/modernbert_classifier.h): 3 layers, global attention every 2nd (layers 0 and 2), a local window of
// ±4 keys in layer 1 at T = 16, bias-free LayerNorms and projections, no norm before layer 0's attention; CLS and
// mean pooling.
TEST(FamilyTwin, ModernBertSingleLabel) { check_family("modernbert", "single", "gelu"); }
TEST(FamilyTwin, ModernBertMeanPoolingRegressionRefBackend) {
  check_family("modernbert", "regression", "gelu", Backend::Ref, "--pooling mean");
}
TEST(FamilyTwin, ModernBertMeanPoolingMultiLabel) { check_family("modernbert", "multi", "gelu", Backend::Cpu, "--pooling mean"); }
// DeBERTa-v3's layout (models/deberta_classifier.h): 2 layers, relative attention c2p + p2c with shared projections,
// 8 position buckets so that T = 16 reaches the log buckets, ContextPooler.
TEST(FamilyTwin, DebertaV2SingleLabel) { check_family("deberta-v2", "single", "gelu"); }
TEST(FamilyTwin, DebertaV2MultiLabelRefBackend) { check_family("deberta-v2", "multi", "gelu", Backend::Ref); }
TEST(FamilyTwin, DebertaV2Regression) { check_family("deberta-v2", "regression", "gelu"); }
