// Proof of exactness, tiny BERT (2 layers, H=64): accent vs the PyTorch twin for every problem type, an
// alternative activation, and the ref backend. See models_twin_check.h for what is compared and how.
#include "models_twin_check.h"

using namespace accent;
using namespace accent::testing;

TEST(BertTwin, TinySingleLabel) { check_against_twin({"tiny", "single", "gelu", Backend::Cpu}); }
TEST(BertTwin, TinyMultiLabel) { check_against_twin({"tiny", "multi", "gelu", Backend::Cpu}); }
TEST(BertTwin, TinyRegression) { check_against_twin({"tiny", "regression", "gelu", Backend::Cpu}); }
TEST(BertTwin, TinyGeluNewActivation) { check_against_twin({"tiny", "multi", "gelu_new", Backend::Cpu}); }
// The naive reference ops reach the same numbers (they are the oracle the fast paths are tested against).
TEST(BertTwin, TinySingleLabelRefBackend) { check_against_twin({"tiny", "single", "gelu", Backend::Ref}); }
