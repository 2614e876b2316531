// serve/bounded_socket_stream.h — the byte stream of one accepted HTTP connection, as cpp-httplib reads and
// writes it, with limits a hostile or broken client cannot get past.
//
// cpp-httplib 0.11 reads a request line and each header line until '\n' with no bound, and its payload limit does
// not cover chunked bodies: a client sending an endless line held the server's memory. Here each request may read
// at most `max_request_bytes` (request line + headers + body; start_request() resets the count) and must arrive
// before `request_deadline`; past either, read() fails and httplib drops the connection. Every wait for bytes is
// bounded by read_timeout / write_timeout (a client that stops reading cannot hold a thread forever). Reads are
// buffered (httplib reads lines one byte at a time).
#pragma once
#include <chrono>
#include <cstddef>
#include <string>

#include "io/httplib_build.h"

namespace accent {

struct StreamLimits {
  size_t max_request_bytes = 2'000'000 + 65'536;          // one request: head + body
  std::chrono::milliseconds read_timeout{5000};           // one wait for more bytes
  std::chrono::milliseconds write_timeout{5000};          // one wait to send more bytes
  std::chrono::milliseconds request_deadline{30000};      // the whole request read
};

class BoundedSocketStream : public httplib::Stream {
 public:
  BoundedSocketStream(int fd, StreamLimits limits);

  // A new request starts: its byte count and deadline restart.
  void start_request();
  bool has_buffered_bytes() const { return buffered_begin_ < buffered_end_; }
  // Whether the peer sent anything (or closed) within `timeout`.
  bool wait_readable(std::chrono::milliseconds timeout) const;

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return fd_; }

 private:
  int fd_;
  StreamLimits limits_;
  size_t request_bytes_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  char buffer_[4096];
  size_t buffered_begin_ = 0, buffered_end_ = 0;
};

}  // namespace accent
