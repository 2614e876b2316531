// nn/embedding.h — torch.nn.Embedding(num, C, padding_idx): row lookup; the padding row gets no gradient.
#pragma once
#include <string>

#include "nn/parameter.h"
#include "ops/backend.h"

namespace accent {

class Embedding {
 public:
  Embedding() = default;
  // "<name>.weight" (num, C). padding_idx < 0 = none.
  Embedding(const std::string& name, int64_t num, int64_t C, int64_t padding_idx = -1);

  Parameter weight;  // (num, C)
  int64_t num_embeddings() const { return num_; }
  int64_t padding_idx() const { return padding_idx_; }

  // y (rows, C) = weight[ids] (or += when accumulate).
  void forward(const OpContext& ctx, const int32_t* ids, float* y, int64_t rows, bool accumulate) const;
  // weight.grad[ids[r]] += dy[r] except for the padding row.
  void backward(const OpContext& ctx, const int32_t* ids, const float* dy, int64_t rows);
  void collect(ParameterList& out) { out.push_back(&weight); }

 private:
  int64_t num_ = 0, C_ = 0, padding_idx_ = -1;
};

}  // namespace accent
