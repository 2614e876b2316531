// data/line_stream.cpp — see line_stream.h.
#include "data/line_stream.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace accent {

namespace {
constexpr size_t kReadBytes = 64 * 1024;
}

LineStream::LineStream(int fd, std::string name, size_t max_line_bytes)
    : fd_(fd), name_(std::move(name)), max_line_(max_line_bytes) {}

bool LineStream::fill() {
  if (eof_) return false;
  if (pos_ > 0) {  // keep only the unconsumed tail
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  const size_t old = buf_.size();
  buf_.resize(old + kReadBytes);
  ssize_t n;
  do {
    n = ::read(fd_, buf_.data() + old, kReadBytes);
  } while (n < 0 && errno == EINTR);
  if (n < 0) fail(name_, ": read error after line ", line_no_, " (", std::strerror(errno), ")");
  buf_.resize(old + static_cast<size_t>(n));
  if (n == 0) eof_ = true;
  return n > 0;
}

bool LineStream::next(std::string& line) {
  while (true) {
    const size_t nl = buf_.find('\n', pos_ + scanned_);
    if (nl != std::string::npos || (eof_ && pos_ < buf_.size())) {
      const size_t end = nl == std::string::npos ? buf_.size() : nl;
      ++line_no_;
      ACCENT_CHECK(end - pos_ <= max_line_, name_, ":", line_no_, ": line longer than ", max_line_,
                   " bytes, the limit for one input (is this a text file with one input per line?)");
      line.assign(buf_, pos_, end - pos_);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      pos_ = nl == std::string::npos ? buf_.size() : nl + 1;
      scanned_ = 0;
      return true;
    }
    scanned_ = buf_.size() - pos_;
    ACCENT_CHECK(buf_.size() - pos_ <= max_line_, name_, ":", line_no_ + 1, ": line longer than ", max_line_,
                 " bytes, the limit for one input (is this a text file with one input per line?)");
    if (!fill() && pos_ >= buf_.size()) return false;
  }
}

bool LineStream::ready() {
  if (buf_.find('\n', pos_ + scanned_) != std::string::npos || eof_) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

}  // namespace accent
