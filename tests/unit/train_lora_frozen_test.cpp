// LoRA training touches only what it trains: after AdamW steps on a LoraModel (tiny twin BERT with a PEFT-layout
// adapter from tests/reference/lora_twin.py) every frozen tensor is bit-identical, every trainable one changed,
// and AdamW holds state (2 tensors) for the trainable tensors only.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "models/peft_adapter.h"
#include "models_test_util.h"
#include "train/adamw.h"

using namespace accent;
using namespace accent::testing;

TEST(LoraTwin, FrozenTensorsBitIdenticalAfterTraining) {
  TempDir dir("lora_frozen");
  run_lora_twin(dir.str(), "--targets query,value --r 4 --alpha 8");
  auto model = load_lora_model(dir / "adapter", dir.str());
  std::map<std::string, Tensor> before;
  for (Parameter* p : model->parameters()) before[p->name] = p->value.clone();
  AdamWOptions o;
  o.weight_decay = 0.01;
  AdamW opt(model->parameters(), o);
  const Batch batch = read_twin_batch(dir / "inputs.safetensors");
  Rng rng(1);
  for (int step = 0; step < 3; ++step) {
    model->forward_backward(batch, rng);
    opt.step(1e-2);
    opt.zero_grad();
  }
  int64_t state_elems = 0, trainable_elems = 0;
  for (const auto& [name, t] : opt.state_tensors()) state_elems += t.numel();
  for (Parameter* p : model->parameters()) {
    const Tensor& b = before[p->name];
    const bool same = std::memcmp(b.data(), p->value.data(), b.nbytes()) == 0;
    if (p->trainable) {
      trainable_elems += p->value.numel();
      EXPECT_FALSE(same) << p->name << " is trainable but did not change";
    } else {
      EXPECT_TRUE(same) << p->name << " is frozen but changed";
    }
  }
  EXPECT_EQ(state_elems, 2 * trainable_elems);
}

