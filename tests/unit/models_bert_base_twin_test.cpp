// Proof of exactness at bert-base shape (12 layers, H=768, 12 heads, I=3072, V=30522; random weights), B=2,
// T=32, single-label: accent vs the PyTorch twin (models_twin_check.h). Its own file so ctest can run it in
// parallel with the tiny-model checks (generation and the float64 oracle take most of its ~1 minute).
#include "models_twin_check.h"

using namespace accent;
using namespace accent::testing;

TEST(BertTwin, BertBaseShapeSingleLabel) { check_against_twin({"base", "single", "gelu", Backend::Cpu}); }
