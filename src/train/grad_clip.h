// train/grad_clip.h — global L2 gradient-norm clipping, as torch.nn.utils.clip_grad_norm_ (torch 1.13).
//
//   total = ‖(‖g_1‖₂, …, ‖g_n‖₂)‖₂ over trainable parameters;  coef = max_norm / (total + 1e-6)
//   every gradient is multiplied by coef when coef < 1 (torch multiplies by clamp(coef, max=1)).
#pragma once
#include "nn/parameter.h"
#include "ops/backend.h"

namespace accent {

// Returns the total norm before clipping (what HF logs as "grad_norm"). max_norm <= 0 only measures.
// A non-finite total leaves the gradients untouched (the caller decides what to do).
// `ctx` says where the gradients live (one multi-tensor launch each for the norm and the scaling on the GPU).
double clip_grad_norm(const ParameterList& params, double max_norm, const OpContext& ctx = OpContext{});

// clip_grad_norm's factor for a total norm: max_norm / (total + 1e-6) in float when that is below 1, else 1 (also for
// max_norm <= 0 and a non-finite total). For AdamW::step_and_zero_grad, which applies it as it reads the gradients.
float clip_coefficient(double total_norm, double max_norm);

// The total L2 norm of the trainable parameters' gradients, without changing them.
double grad_global_norm(const ParameterList& params, const OpContext& ctx = OpContext{});
// g *= coef for every trainable parameter's gradient.
void scale_grads(const ParameterList& params, float coef, const OpContext& ctx = OpContext{});

}  // namespace accent
