// cli/output.h — checking that what a verb printed reached its destination.
//
// Why: a verb whose answer could not be written (a full disk, /dev/full, a closed pipe) used to exit 0 with the
// answer lost. Every verb's stdout is flushed and checked before it reports success (main.cpp), and streaming
// verbs check after each batch so they stop at the first failed write; the message names where stdout goes.
#pragma once
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "core/error.h"

namespace accent::cli {

// "/dev/full (standard output)", "standard output (a pipe)" …: where file descriptor 1 goes, for messages.
inline std::string describe_fd(int fd) {
  char buf[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return "standard output";
  std::string target(buf, static_cast<size_t>(n));
  if (target.rfind("pipe:", 0) == 0) return "standard output (a pipe)";
  return target + " (standard output)";
}

// Flushes std::cout and stdout; throws accent::Error naming the destination when any write failed.
inline void flush_stdout_or_fail() {
  errno = 0;
  std::cout.flush();
  const bool failed = std::cout.fail() || std::fflush(stdout) != 0 || std::ferror(stdout);
  if (!failed) return;
  const int err = errno;
  fail("cannot write to ", describe_fd(STDOUT_FILENO), ": ", err ? std::strerror(err) : "write error",
       "; the output is incomplete");
}

}  // namespace accent::cli
