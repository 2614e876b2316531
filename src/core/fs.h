// core/fs.h — file helpers: whole-file reads and atomic writes (temp file in the same directory + fsync + rename).
#pragma once
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace accent {

// Reads a whole file; throws accent::Error naming the path when it cannot.
std::string read_file(const std::string& path);

// Throws accent::Error naming the path when it is a directory or a device (/dev/zero never ends): what every reader
// of a whole input checks first. A named pipe passes.
void require_file_not_directory_or_device(const std::string& path);

// The file name's extension from its last dot, lower-cased (".conll", ".jsonl"); "" when the name has none.
std::string lowercase_extension(const std::string& path);

// Writes `contents` to `path` atomically: readers see the old file or the new one, never a half-written one.
// A failure (full disk, permissions) removes the temp file and throws, leaving any existing `path` untouched.
void write_file_atomic(const std::string& path, std::string_view contents);
// Same, streaming: `write` fills the temp file.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace accent
