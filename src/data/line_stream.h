// data/line_stream.h — text lines read as they arrive, with a bound on the length of one line.
//
// Why: `predict` read all of stdin before answering (`yes hello | accent predict` printed nothing and grew), and a
// line without end (`/dev/zero`) grew until memory ran out. A LineStream holds at most one line plus one read
// buffer, refuses a line longer than its limit naming the line, and says whether more input is ready without
// blocking, so that a caller can answer a partial batch instead of waiting for the next line.
#pragma once
#include <cstdint>
#include <string>

namespace accent {

class LineStream {
 public:
  static constexpr size_t kDefaultMaxLineBytes = size_t{16} << 20;  // 16 MiB: far beyond any model's positions

  // Reads from an open file descriptor (not owned); `name` is used in error messages ("standard input", a path).
  LineStream(int fd, std::string name, size_t max_line_bytes = kDefaultMaxLineBytes);
  // The next line without its "\n" (a trailing "\r" is dropped too); false at the end of input. The last line
  // needs no final newline. Throws accent::Error "<name>:<line>: …" for a line over the limit or a read error.
  bool next(std::string& line);
  // True when next() would return without waiting: a buffered line, buffered bytes at the end of input, or input
  // ready on the descriptor.
  bool ready();
  // 1-based number of the line next() returned last.
  int64_t line_number() const { return line_no_; }

 private:
  bool fill();  // one read(2) into buf_; false at end of input

  int fd_;
  std::string name_;
  size_t max_line_;
  std::string buf_;
  size_t pos_ = 0;      // start of the unconsumed bytes in buf_
  size_t scanned_ = 0;  // bytes after pos_ already known to hold no '\n' (a long line is scanned once)
  bool eof_ = false;
  int64_t line_no_ = 0;
};

}  // namespace accent
