#include "nn/embedding.h"

#include "nn/parameter_init.h"
#include "ops/embedding.h"

namespace accent {

Embedding::Embedding(const std::string& name, int64_t num, int64_t C, int64_t padding_idx)
    : num_(num), C_(C), padding_idx_(padding_idx) {
  weight = make_parameter(name + ".weight", {num, C}, /*decay=*/true);
}

void Embedding::forward(const OpContext& ctx, const int32_t* ids, float* y, int64_t rows, bool accumulate) const {
  embedding_forward(ctx, ids, weight.value.f32(), y, rows, num_, C_, accumulate, weight.name.c_str());
}

void Embedding::backward(const OpContext& ctx, const int32_t* ids, const float* dy, int64_t rows) {
  if (!weight.trainable) return;  // frozen (nn/freeze.h): no gradient buffer, nothing to accumulate
  embedding_backward(ctx, ids, dy, weight.grad.f32(), rows, num_, C_, padding_idx_);
}

}  // namespace accent
