// ops/loss.h — the three losses of *ForSequenceClassification (transformers loss_utils / inline v4 code).
//
// Each returns the mean loss and, when dlogits is non-null, writes d(loss)/d(logits) (overwrite), i.e. the
// gradient for an upstream gradient of 1. Sums are carried in double. Logits are (N, C); these are tiny (B × C),
// so one straightforward implementation serves ref and cpu (there is nothing for oneDNN/OpenMP to win); cuda runs
// the same math in one thread block on device pointers and returns the loss (a synchronisation).
//   cross_entropy       mean over rows with target ≠ −100 of  logsumexp(z) − z[target]
//                       d = (softmax(z) − onehot(target)) / count ; ignored rows get 0. count = 0 → NaN loss (as
//                       PyTorch's 0/0) with zero gradient. A target outside [0, C) is an error naming the row.
//   bce_with_logits     mean over all N·C of  max(z, 0) − z·y + log(1 + e^−|z|)      d = (σ(z) − y)/(N·C)
//   mse                 mean over all N·C of  (z − y)²                               d = 2(z − y)/(N·C)
#pragma once
#include <cstdint>

#include "ops/backend.h"

namespace accent {

constexpr int64_t kIgnoreIndex = -100;

float cross_entropy_loss(const OpContext& ctx, const float* logits, const int64_t* targets, float* dlogits, int64_t N,
                         int64_t C);
float bce_with_logits_loss(const OpContext& ctx, const float* logits, const float* targets, float* dlogits, int64_t N,
                           int64_t C);
float mse_loss(const OpContext& ctx, const float* predictions, const float* targets, float* dpredictions, int64_t N,
               int64_t C);

}  // namespace accent
