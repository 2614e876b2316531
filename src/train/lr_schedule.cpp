#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace accent {

LrSchedulerType parse_lr_scheduler_type(const std::string& name) {
  if (name == "linear") return LrSchedulerType::Linear;
  if (name == "cosine") return LrSchedulerType::Cosine;
  if (name == "constant") return LrSchedulerType::Constant;
  if (name == "constant_with_warmup") return LrSchedulerType::ConstantWithWarmup;
  fail("unknown lr_scheduler_type \"", name, "\": expected linear, cosine, constant or constant_with_warmup");
}

std::string lr_scheduler_type_name(LrSchedulerType type) {
  switch (type) {
    case LrSchedulerType::Linear: return "linear";
    case LrSchedulerType::Cosine: return "cosine";
    case LrSchedulerType::Constant: return "constant";
    case LrSchedulerType::ConstantWithWarmup: return "constant_with_warmup";
  }
  return "linear";
}

int64_t resolve_warmup_steps(int64_t warmup_steps, double warmup_ratio, int64_t total_steps) {
  ACCENT_CHECK(warmup_steps >= 0, "warmup_steps must be >= 0, got ", warmup_steps);
  ACCENT_CHECK(warmup_ratio >= 0.0 && warmup_ratio <= 1.0, "warmup_ratio must be in [0, 1], got ", warmup_ratio);
  if (warmup_steps > 0) return warmup_steps;
  return static_cast<int64_t>(std::ceil(static_cast<double>(total_steps) * warmup_ratio));
}

LrSchedule::LrSchedule(LrSchedulerType type, double base_lr, int64_t warmup_steps, int64_t total_steps)
    : type_(type), base_lr_(base_lr), warmup_steps_(warmup_steps), total_steps_(total_steps) {
  ACCENT_CHECK(warmup_steps >= 0, "LR schedule: warmup steps must be >= 0, got ", warmup_steps);
}

double LrSchedule::multiplier(int64_t step) const {
  const double k = static_cast<double>(step);
  const double W = static_cast<double>(warmup_steps_);
  const double N = static_cast<double>(total_steps_);
  if (type_ == LrSchedulerType::Constant) return 1.0;
  if (step < warmup_steps_) return k / std::max(1.0, W);
  switch (type_) {
    case LrSchedulerType::Linear: return std::max(0.0, (N - k) / std::max(1.0, N - W));
    case LrSchedulerType::Cosine: {
      const double num_cycles = 0.5;
      const double progress = (k - W) / std::max(1.0, N - W);
      return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * num_cycles * 2.0 * progress)));
    }
    case LrSchedulerType::ConstantWithWarmup: return 1.0;
    case LrSchedulerType::Constant: return 1.0;
  }
  return 1.0;
}

}  // namespace accent
