#include "serve/bounded_socket_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace accent {
namespace {

// poll() for `events` up to `timeout` (restarted after EINTR); true when ready (or the peer hung up).
bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

void address_of(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  }
  ip = text;
}

}  // namespace

BoundedSocketStream::BoundedSocketStream(int fd, StreamLimits limits) : fd_(fd), limits_(limits) { start_request(); }

void BoundedSocketStream::start_request() {
  request_bytes_ = 0;
  deadline_ = std::chrono::steady_clock::now() + limits_.request_deadline;
}

bool BoundedSocketStream::wait_readable(std::chrono::milliseconds timeout) const {
  return has_buffered_bytes() || wait_for(fd_, POLLIN, timeout);
}

bool BoundedSocketStream::is_readable() const { return wait_readable(limits_.read_timeout); }

bool BoundedSocketStream::is_writable() const { return wait_for(fd_, POLLOUT, limits_.write_timeout); }

ssize_t BoundedSocketStream::read(char* ptr, size_t size) {
  if (size == 0) return 0;
  if (request_bytes_ >= limits_.max_request_bytes) return -1;  // this request is over its size limit
  if (!has_buffered_bytes()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline_) return -1;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now);
    if (!wait_for(fd_, POLLIN, std::min(limits_.read_timeout, left))) return -1;
    ssize_t n;
    do n = ::recv(fd_, buffer_, sizeof buffer_, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0) return n == 0 ? 0 : -1;
    buffered_begin_ = 0;
    buffered_end_ = static_cast<size_t>(n);
  }
  const size_t n = std::min({size, buffered_end_ - buffered_begin_, limits_.max_request_bytes - request_bytes_});
  std::memcpy(ptr, buffer_ + buffered_begin_, n);
  buffered_begin_ += n;
  request_bytes_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t BoundedSocketStream::write(const char* ptr, size_t size) {
  if (!wait_for(fd_, POLLOUT, limits_.write_timeout)) return -1;
  ssize_t n;
  do n = ::send(fd_, ptr, size, MSG_NOSIGNAL);  // a closed peer is an error here, not SIGPIPE
  while (n < 0 && errno == EINTR);
  return n;
}

void BoundedSocketStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) address_of(addr, ip, port);
}

void BoundedSocketStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) address_of(addr, ip, port);
}

}  // namespace accent
