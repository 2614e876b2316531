// core/json_number.cpp — see json_number.h.
#include "core/json_number.h"

#include <cmath>

#include "core/error.h"

namespace accent {

namespace {
// A short rendering of the offending value for the message (a huge string or array is not echoed whole).
std::string shown(const nlohmann::json& v) {
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}
}  // namespace

int64_t json_integer(const nlohmann::json& v, const std::string& what, int64_t lo, int64_t hi) {
  bool ok = false;
  int64_t x = 0;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    ok = u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    x = ok ? static_cast<int64_t>(u) : 0;
  } else if (v.is_number_integer()) {
    ok = true;
    x = v.get<int64_t>();
  } else if (v.is_number_float()) {
    // [-2^63, 2^63) is exactly representable at its ends; a cast outside it is undefined behaviour.
    const double d = v.get<double>();
    ok = std::isfinite(d) && d == std::floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0;
    x = ok ? static_cast<int64_t>(d) : 0;
  }
  if (!ok || x < lo || x > hi) fail(what, ": expected an integer in [", lo, ", ", hi, "], got ", shown(v));
  return x;
}

uint64_t json_unsigned(const nlohmann::json& v, const std::string& what) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && d >= 0 && d < 18446744073709551616.0) return static_cast<uint64_t>(d);
  }
  fail(what, ": expected an unsigned integer, got ", shown(v));
}

double json_number(const nlohmann::json& v, const std::string& what) {
  if (!v.is_number()) fail(what, ": expected a number, got ", shown(v));
  const double d = v.get<double>();
  if (!std::isfinite(d)) fail(what, ": expected a finite number, got ", shown(v));
  return d;
}

}  // namespace accent
