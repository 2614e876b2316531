// fuzz/tokenizer_files_fuzz.cpp — every JSON file of a tokenizer directory → Tokenizer::from_pretrained, then an
// encode/decode round of the loaded tokenizer.
//
// The first byte picks the file the rest becomes: tokenizer.json alone, or beside a small WordPiece vocab.txt one
// of tokenizer_config.json, special_tokens_map.json, added_tokens.json; or training_args.json
// (training_args_from_json). Files are written to a per-process temporary directory (the readers take paths).
// Contract: a value or accent::Error — never a crash, a hang, or an id outside the vocabulary.
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "core/fs.h"
#include "core/json_parse.h"
#include "fuzz/fuzz_util.h"
#include "text/tokenizer.h"
#include "train/training_args.h"

using namespace accent;
namespace fs = std::filesystem;

namespace {
const fs::path& work_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("accent_fuzz_tok_" + std::to_string(::getpid()));
    fs::create_directories(d / "dir");
    write_file_atomic((d / "dir/vocab.txt").string(), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n!\n");
    return d;
  }();
  return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(fuzz::as_view(data + 1, size - 1));
  const fs::path& w = work_dir();
  static const char* kDirFiles[] = {"tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"};
  const int which = data[0] % 5;
  try {
    if (which == 4) {
      training_args_from_json(parse_json(text, "fuzz/training_args.json"), "fuzz/training_args.json");
      return 0;
    }
    std::string location;
    if (which == 0) {
      location = (w / "tokenizer.json").string();
      write_file_atomic(location, text);
    } else {
      for (const char* f : kDirFiles) fs::remove(w / "dir" / f);
      write_file_atomic((w / "dir" / kDirFiles[which - 1]).string(), text);
      location = (w / "dir").string();
    }
    const Tokenizer tok = Tokenizer::from_pretrained(location);
    const Encoding e = tok.encode("hello worlds! \xF0\x9F\x98\x80 [MASK]", std::string_view("world"));
    for (int32_t id : e.ids) FUZZ_ASSERT(id >= 0, "ids are non-negative");
  } catch (const Error&) {
  }
  return 0;
}
