// core/json_number.h — numbers read from JSON that accent did not write, checked before they are converted.
//
// Why: nlohmann's get<int64_t>() casts whatever number it holds — a float 1e300 (undefined behaviour), an unsigned
// 2^64-1 (wraps to -1), 2.5 (truncated to 2) — so a hostile training_args.json, trainer_state.json or
// adapter_config.json turned into garbage or a sanitizer abort instead of an error. These readers accept an
// integer (or a float with an integral value, as Python's json may write 3.0) inside the range the caller allows,
// and say what they got otherwise. `what` names the file and key ("dir/trainer_state.json: key \"global_step\"").
#pragma once
#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

namespace accent {

// An integer in [lo, hi]; throws accent::Error "<what>: expected an integer in [lo, hi], got <value>" otherwise.
int64_t json_integer(const nlohmann::json& v, const std::string& what,
                     int64_t lo = std::numeric_limits<int64_t>::min(), int64_t hi = std::numeric_limits<int64_t>::max());
// An unsigned 64-bit integer (RNG seeds and counters); negative values and non-integers are errors.
uint64_t json_unsigned(const nlohmann::json& v, const std::string& what);
// A finite number (integer or float); throws "<what>: expected a number, got <value>" otherwise.
double json_number(const nlohmann::json& v, const std::string& what);

}  // namespace accent
