// io/python_json.h — JSON text exactly as Python's `json.dumps(obj, indent=N, sort_keys=True)` writes it.
//
// transformers writes config.json (`to_json_string`) and the shard index this way, so byte-identical files need
// Python's conventions rather than nlohmann's: floats in repr() form (shortest round-trip digits, exponent form
// when the decimal exponent is < -4 or >= 16: 1e-12, 1e-05, 0.0001, 1e+16, 0.1, 1.0), `ensure_ascii` escaping
// (every non-ASCII character as \uXXXX, lowercase hex, surrogate pairs above U+FFFF), NaN/Infinity spelled like
// Python, ",\n" between items and ": " after keys, empty containers as {} and [].
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace accent {

// indent >= 0: pretty-printed like json.dumps(indent=indent, sort_keys=True) (no trailing newline);
// indent < 0: one line with Python's default separators ", " and ": ".
std::string python_json_dumps(const nlohmann::json& value, int indent = 2);
// Python's repr() of a float (what json.dumps writes for it).
std::string python_float_repr(double value);

}  // namespace accent
