// train/lr_schedule.h — learning-rate schedules as transformers.get_scheduler builds them (LambdaLR multipliers).
//
// The learning rate of optimizer step k (k = 0 for the first update) is base_lr · λ(k), with W warmup steps and
// N total training steps (transformers/optimization.py):
//   linear:                k < W ? k / max(1, W) : max(0, (N − k) / max(1, N − W))
//   cosine (0.5 cycles):   k < W ? k / max(1, W) : max(0, ½(1 + cos(π · 2 · 0.5 · (k − W) / max(1, N − W))))
//   constant:              1
//   constant_with_warmup:  k < W ? k / max(1, W) : 1
// HF's Trainer logs "learning_rate" after the scheduler stepped, i.e. lr_at(global_step).
#pragma once
#include <cstdint>
#include <string>

namespace accent {

enum class LrSchedulerType { Linear, Cosine, Constant, ConstantWithWarmup };

// "linear", "cosine", "constant", "constant_with_warmup"; throws naming the accepted values otherwise.
LrSchedulerType parse_lr_scheduler_type(const std::string& name);
std::string lr_scheduler_type_name(LrSchedulerType type);

// TrainingArguments.get_warmup_steps: warmup_steps if > 0, else ceil(total_steps · warmup_ratio).
int64_t resolve_warmup_steps(int64_t warmup_steps, double warmup_ratio, int64_t total_steps);

class LrSchedule {
 public:
  LrSchedule(LrSchedulerType type, double base_lr, int64_t warmup_steps, int64_t total_steps);

  // λ(step), the LambdaLR multiplier.
  double multiplier(int64_t step) const;
  // base_lr · λ(step): the learning rate used by optimizer step `step` (0-based).
  double lr_at(int64_t step) const { return base_lr_ * multiplier(step); }

  LrSchedulerType type() const { return type_; }
  double base_lr() const { return base_lr_; }
  int64_t warmup_steps() const { return warmup_steps_; }
  int64_t total_steps() const { return total_steps_; }

 private:
  LrSchedulerType type_;
  double base_lr_;
  int64_t warmup_steps_;
  int64_t total_steps_;
};

}  // namespace accent
