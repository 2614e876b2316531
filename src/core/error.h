// core/error.h — the one error type of accent and its check macros.
//
// Errors are values people can act on: every message names the file/line/tensor involved and what was
// expected. Library code throws accent::Error; the CLI catches it, prints "error: <message>" and exits 1.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace accent {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
// Concatenates any streamable arguments into one message.
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

// Throws accent::Error with the concatenation of the arguments.
template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(detail::concat(args...));
}

}  // namespace accent

// ACCENT_CHECK(cond, "tensor ", name, ": expected ", a, " got ", b) throws accent::Error when cond is false.
#define ACCENT_CHECK(cond, ...)                       \
  do {                                                \
    if (!(cond)) ::accent::fail(__VA_ARGS__);         \
  } while (0)
