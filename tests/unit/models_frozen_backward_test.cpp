// Model-level check that backward skips only work nobody needs (the encoder-level proof is
// train_frozen_backward_test.cpp). For each non-BERT family (RoBERTa, ELECTRA with its embedding projection,
// DistilBERT, GPT-2; random weights from tests/reference/family_twin.py): with the embeddings and the lowest
// layer frozen (--freeze-embeddings --freeze-layers 1), the models ask their encoder for no input gradient and
// stop at the lowest trainable layer. Oracle: the same weights without freezing, whose backward runs everything —
// the gradient of every tensor that is still trainable must be bit-identical, and the losses equal.
#include <cstring>

#include "models/partial_freeze.h"
#include "models_family_twin_util.h"

using namespace accent;
using namespace accent::testing;

namespace {

void check_frozen_backward(const std::string& family) {
  TempDir dir("frozen_backward_" + family);
  run_family_twin(dir.str(), family, "single", family == "gpt2" ? "gelu_new" : "gelu");
  const Batch batch = read_twin_batch(dir / "inputs.safetensors");

  auto full = load_sequence_classifier(dir.str(), quiet_load());
  auto frozen = load_sequence_classifier(dir.str(), quiet_load());
  FreezeOptions freeze;
  freeze.embeddings = true;
  freeze.layers = 1;
  ASSERT_GT(apply_freezing(*frozen, freeze), 0);

  Rng rng_full(7), rng_frozen(7);
  for (Parameter* p : full->parameters()) p->grad.zero();
  for (Parameter* p : frozen->parameters())
    if (p->trainable) p->grad.zero();
  const ForwardResult a = full->forward_backward(batch, rng_full);
  const ForwardResult b = frozen->forward_backward(batch, rng_frozen);
  EXPECT_EQ(a.loss, b.loss);

  const ParameterList want = full->parameters(), got = frozen->parameters();
  ASSERT_EQ(want.size(), got.size());
  int64_t compared = 0, skipped = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(want[i]->name, got[i]->name);
    if (!got[i]->trainable) {
      EXPECT_EQ(got[i]->grad.numel(), 0) << got[i]->name << ": a frozen tensor holds no gradient buffer";
      ++skipped;
      continue;
    }
    ASSERT_EQ(want[i]->grad.nbytes(), got[i]->grad.nbytes()) << got[i]->name;
    EXPECT_EQ(0, std::memcmp(want[i]->grad.data(), got[i]->grad.data(), got[i]->grad.nbytes()))
        << got[i]->name << ": gradient differs from the full backward's";
    ++compared;
  }
  EXPECT_GT(compared, 0);
  EXPECT_GT(skipped, 0);
}

}  // namespace

TEST(FrozenModelBackward, Roberta) { check_frozen_backward("roberta"); }
TEST(FrozenModelBackward, ElectraWithProjection) { check_frozen_backward("electra"); }
TEST(FrozenModelBackward, DistilBert) { check_frozen_backward("distilbert"); }
TEST(FrozenModelBackward, Gpt2) { check_frozen_backward("gpt2"); }
