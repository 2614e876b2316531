// cli/tokenize.cpp — `accent tokenize`: encode each line of a file like Hugging Face tokenizers and print one JSON
// array per line (input ids, or tokens with --show tokens). A pair line is text_a<TAB>text_b (--pair).
// With --offsets or --return-overflowing-tokens each encoding is printed as a JSON object of what transformers'
// BatchEncoding holds (input_ids, tokens, offset_mapping, word_ids, sequence_ids; null for None), one object
// per window with its overflow_to_sample_mapping (the 0-based input line). --is-split-into-words reads each
// line as a JSON array of words (transformers' pre-tokenized input).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "io/tokenizer_location.h"
#include "cli/verb.h"
#include "core/error.h"
#include "data/line_stream.h"
#include "text/tokenizer.h"

namespace {

constexpr size_t kLinesPerBatch = 256;  // lines encoded and printed together

struct TokenizeOptions {
  std::string model, input, truncation, padding, show = "ids", truncation_side = "right", padding_side = "right";
  bool pair = false, no_special_tokens = false, offsets = false, overflow = false, split_into_words = false;
  bool add_prefix_space = false;
  int64_t stride = 0;
  std::optional<int64_t> max_length, pad_to_multiple_of;
};

// transformers' BatchEncoding of one encoding (and its windows) as JSON objects, one per line.
void append_encoding_objects(const accent::Encoding& e, size_t sample, bool with_offsets, std::string& out) {
  auto ids_or_null = [](const std::vector<int32_t>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (int32_t x : v) a.push_back(x < 0 ? nlohmann::json(nullptr) : nlohmann::json(x));
    return a;
  };
  nlohmann::json j;
  j["input_ids"] = e.ids;
  j["tokens"] = e.tokens;
  j["attention_mask"] = e.attention_mask;
  if (with_offsets) {
    nlohmann::json offsets = nlohmann::json::array();
    for (const auto& [b, end] : e.offsets) offsets.push_back({b, end});
    j["offset_mapping"] = offsets;
  }
  j["word_ids"] = ids_or_null(e.word_ids);
  j["sequence_ids"] = ids_or_null(e.sequence_ids);
  j["overflow_to_sample_mapping"] = sample;
  out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += '\n';
  for (const accent::Encoding& w : e.overflowing) append_encoding_objects(w, sample, with_offsets, out);
}

accent::Side parse_side(const std::string& s, const char* flag) {
  if (s == "right") return accent::Side::Right;
  if (s == "left") return accent::Side::Left;
  accent::fail(flag, ": expected left or right, got '", s, "'");
}

int run_tokenize(const TokenizeOptions& o) {
  accent::Tokenizer tok = accent::Tokenizer::from_pretrained(accent::tokenizer_location(o.model));
  if (o.add_prefix_space) {
    ACCENT_CHECK(tok.family() == accent::TokenizerFamily::Roberta || tok.family() == accent::TokenizerFamily::Gpt2 ||
                     tok.family() == accent::TokenizerFamily::Qwen2,
                 "--add-prefix-space applies to byte-level (RoBERTa/GPT-2/Qwen2) tokenizers only");
    tok.set_add_prefix_space(true);
  }
  accent::EncodeOptions eo;
  eo.add_special_tokens = !o.no_special_tokens;
  eo.max_length = o.max_length;
  eo.pad_to_multiple_of = o.pad_to_multiple_of;
  eo.truncation_side = parse_side(o.truncation_side, "--truncation-side");
  eo.padding_side = parse_side(o.padding_side, "--padding-side");
  if (o.truncation == "longest_first") eo.truncation = accent::TruncationStrategy::LongestFirst;
  else if (o.truncation == "only_first") eo.truncation = accent::TruncationStrategy::OnlyFirst;
  else if (o.truncation == "only_second") eo.truncation = accent::TruncationStrategy::OnlySecond;
  else if (!o.truncation.empty()) accent::fail("--truncation: expected longest_first, only_first or only_second, got '", o.truncation, "'");
  if (o.padding == "max_length") eo.padding = accent::PaddingStrategy::MaxLength;
  else if (o.padding == "longest") eo.padding = accent::PaddingStrategy::Longest;
  else if (!o.padding.empty()) accent::fail("--padding: expected max_length or longest, got '", o.padding, "'");
  if (o.show != "ids" && o.show != "tokens") accent::fail("--show: expected ids or tokens, got '", o.show, "'");
  eo.return_offsets_mapping = o.offsets;
  eo.return_overflowing_tokens = o.overflow;
  eo.stride = o.stride;
  ACCENT_CHECK(o.stride == 0 || o.overflow, "--stride needs --return-overflowing-tokens (the windows it overlaps)");
  ACCENT_CHECK(!(o.split_into_words && o.pair), "--is-split-into-words reads one JSON array of words per line; --pair is not supported with it");
  ACCENT_CHECK(!(o.split_into_words && eo.padding == accent::PaddingStrategy::Longest),
               "--is-split-into-words with --padding longest is not supported (use --padding max_length)");
  const bool objects = o.offsets || o.overflow;

  // Lines are read as they arrive (data/line_stream.h: '\n' ends a line, a trailing '\r' is dropped, a line over
  // 16 MiB is an error) and encoded and printed a batch at a time, so any input size runs in bounded memory.
  // --padding longest pads to the longest line of the whole file, so there the whole file is one batch.
  int fd = STDIN_FILENO;
  if (o.input != "-") {
    ACCENT_CHECK(!std::filesystem::is_directory(o.input), o.input, ": --input is a directory, expected a file");
    fd = ::open(o.input.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) accent::fail("cannot read --input file '", o.input, "' (", std::strerror(errno), ")");
  }
  struct Closer {
    int fd;
    ~Closer() {
      if (fd != STDIN_FILENO) ::close(fd);
    }
  } closer{fd};
  accent::LineStream lines(fd, o.input == "-" ? "standard input" : o.input);
  const size_t batch_size = eo.padding == accent::PaddingStrategy::Longest ? SIZE_MAX : kLinesPerBatch;
  std::vector<std::pair<std::string, std::optional<std::string>>> inputs;
  std::vector<std::vector<std::string>> word_inputs;  // --is-split-into-words
  size_t samples_printed = 0;
  auto print_batch = [&] {
    std::string out;
    std::vector<accent::Encoding> encodings;
    if (o.split_into_words) {
      for (const auto& words : word_inputs) encodings.push_back(tok.encode_words(words, std::nullopt, eo));
      word_inputs.clear();
    } else {
      encodings = tok.encode_batch(inputs, eo);
    }
    for (const accent::Encoding& e : encodings) {
      if (objects) {
        append_encoding_objects(e, samples_printed++, o.offsets, out);
        continue;
      }
      nlohmann::json arr = nlohmann::json::array();
      if (o.show == "ids") for (int32_t id : e.ids) arr.push_back(id);
      else for (const std::string& t : e.tokens) arr.push_back(t);
      out += arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      out += '\n';
    }
    std::cout << out;
    accent::cli::flush_stdout_or_fail();  // a failed write stops the run at once
    inputs.clear();
  };
  std::string line;
  while (lines.next(line)) {
    if (o.split_into_words) {
      nlohmann::json words;
      try {
        words = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception&) {
        accent::fail(o.input, ":", lines.line_number(), ": --is-split-into-words expects a JSON array of strings per line");
      }
      ACCENT_CHECK(words.is_array(), o.input, ":", lines.line_number(),
                   ": --is-split-into-words expects a JSON array of strings per line");
      std::vector<std::string> list;
      for (const auto& w : words) {
        ACCENT_CHECK(w.is_string(), o.input, ":", lines.line_number(), ": word ", list.size(), " is not a string");
        list.push_back(w.get<std::string>());
      }
      word_inputs.push_back(std::move(list));
      if (word_inputs.size() >= kLinesPerBatch || !lines.ready()) print_batch();
      continue;
    }
    if (o.pair) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos)
        accent::fail(o.input, ":", lines.line_number(), ": --pair expects text_a<TAB>text_b");
      inputs.emplace_back(line.substr(0, tab), line.substr(tab + 1));
    } else {
      inputs.emplace_back(std::move(line), std::nullopt);
    }
    if (inputs.size() >= batch_size || !lines.ready()) print_batch();
  }
  if (!inputs.empty() || !word_inputs.empty()) print_batch();
  if (const size_t replaced = tok.invalid_utf8_replacements())
    std::cerr << "warning: " << replaced << " invalid UTF-8 sequence(s) in " << o.input << " were replaced by U+FFFD\n";
  return 0;
}

accent::cli::VerbRegistration reg{
    "tokenize", "Tokenize each line of a file like Hugging Face tokenizers (one JSON array per line)",
    [](CLI::App& app) -> std::function<int()> {
      auto o = std::make_shared<TokenizeOptions>();
      app.add_option("--model", o->model, "Tokenizer directory, tokenizer.json, or Hugging Face hub id")->required();
      app.add_option("--input", o->input, "Text file, one input per line ('-' = standard input)")->required();
      app.add_flag("--pair", o->pair, "Lines are text_a<TAB>text_b pairs");
      app.add_option("--max-length", o->max_length, "Maximum length (default: model_max_length when truncating)");
      app.add_option("--truncation", o->truncation, "longest_first | only_first | only_second");
      app.add_option("--truncation-side", o->truncation_side, "right (default) | left");
      app.add_option("--padding", o->padding, "max_length | longest (over the whole file)");
      app.add_option("--padding-side", o->padding_side, "right (default) | left");
      app.add_option("--pad-to-multiple-of", o->pad_to_multiple_of, "Round the padded length up to a multiple of K");
      app.add_flag("--no-special-tokens", o->no_special_tokens, "Do not add [CLS]/[SEP]-style special tokens");
      app.add_option("--show", o->show, "ids (default) | tokens");
      app.add_flag("--offsets,--return-offsets-mapping", o->offsets,
                   "Print JSON objects with offset_mapping (code points), word_ids and sequence_ids");
      app.add_flag("--return-overflowing-tokens", o->overflow,
                   "Print every window of a truncated input (with overflow_to_sample_mapping)");
      app.add_option("--stride", o->stride, "Tokens shared by consecutive windows (with --return-overflowing-tokens)");
      app.add_flag("--is-split-into-words", o->split_into_words, "Each line is a JSON array of words (pre-tokenized)");
      app.add_flag("--add-prefix-space", o->add_prefix_space, "Byte-level tokenizers: add a space before the text (each word)");
      return [o] { return run_tokenize(*o); };
    }};

}  // namespace
