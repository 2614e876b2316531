#include "io/python_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace accent {

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  // Shortest round-trip digits in scientific form, e.g. "1.2345e-07" → digits "12345", exponent -7.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e_pos; ++i)
    if (sci[i] != '.') digits += sci[i];
  const int exponent = std::stoi(sci.substr(e_pos + 1));
  // CPython float_repr_style 'short', mode 'r': decpt = exponent + 1; exponent form when decpt <= -4 or > 16.
  const int decpt = exponent + 1;
  const int ndigits = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {
    std::string mantissa = digits.substr(0, 1);
    if (ndigits > 1) mantissa += "." + digits.substr(1);
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return sign + mantissa + exp_buf;
  }
  if (decpt <= 0) return sign + "0." + std::string(-decpt, '0') + digits;
  if (decpt >= ndigits) return sign + digits + std::string(decpt - ndigits, '0') + ".0";
  return sign + digits.substr(0, decpt) + "." + digits.substr(decpt);
}

namespace {
// Python json's ensure_ascii string encoder (py_encode_basestring_ascii).
void append_string(std::string& out, const std::string& s) {
  static const char* hex = "0123456789abcdef";
  auto u4 = [&](uint32_t cp) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(cp >> shift) & 0xf];
  };
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    int len;
    if (c < 0x80) { cp = c; len = 1; }
    else if ((c >> 5) == 0x6) { cp = c & 0x1f; len = 2; }
    else if ((c >> 4) == 0xe) { cp = c & 0x0f; len = 3; }
    else if ((c >> 3) == 0x1e) { cp = c & 0x07; len = 4; }
    else fail("python_json_dumps: invalid UTF-8 in string");
    ACCENT_CHECK(i + len <= s.size(), "python_json_dumps: truncated UTF-8 in string");
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    i += len;
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp >= 0x20 && cp <= 0x7e) {
      out += static_cast<char>(cp);
    } else if (cp > 0xffff) {
      const uint32_t v = cp - 0x10000;
      u4(0xd800 | (v >> 10));
      u4(0xdc00 | (v & 0x3ff));
    } else {
      u4(cp);
    }
  }
  out += '"';
}

void encode(std::string& out, const nlohmann::json& v, int indent, int level) {
  using json = nlohmann::json;
  const bool pretty = indent >= 0;
  const std::string inner = pretty ? "\n" + std::string(static_cast<size_t>(indent * (level + 1)), ' ') : "";
  const std::string outer = pretty ? "\n" + std::string(static_cast<size_t>(indent * level), ' ') : "";
  const std::string item_sep = pretty ? "," : ", ";
  switch (v.type()) {
    case json::value_t::null: out += "null"; return;
    case json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case json::value_t::number_integer: out += std::to_string(v.get<int64_t>()); return;
    case json::value_t::number_unsigned: out += std::to_string(v.get<uint64_t>()); return;
    case json::value_t::number_float: out += python_float_repr(v.get<double>()); return;
    case json::value_t::string: append_string(out, v.get_ref<const std::string&>()); return;
    case json::value_t::array: {
      if (v.empty()) { out += "[]"; return; }
      out += "[";
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += item_sep;
        first = false;
        out += inner;
        encode(out, item, indent, level + 1);
      }
      out += outer + "]";
      return;
    }
    case json::value_t::object: {
      if (v.empty()) { out += "{}"; return; }
      out += "{";
      bool first = true;
      for (const auto& [key, item] : v.items()) {  // nlohmann keeps keys sorted by bytes = code point order
        if (!first) out += item_sep;
        first = false;
        out += inner;
        append_string(out, key);
        out += ": ";
        encode(out, item, indent, level + 1);
      }
      out += outer + "}";
      return;
    }
    default: fail("python_json_dumps: cannot encode a JSON value of type ", v.type_name());
  }
}
}  // namespace

std::string python_json_dumps(const nlohmann::json& value, int indent) {
  std::string out;
  encode(out, value, indent, 0);
  return out;
}

}  // namespace accent
