// text/decoder.cpp — tokenizers' decoders (decode_chain of each), its decode and transformers' clean-up.
#include "text/decoder.h"

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "text/pre_tokenizers.h"
#include "text/tokenizer_state.h"
#include "text/unicode.h"

namespace accent {
namespace {

// Python str.replace / Rust str::replace: every non-overlapping occurrence, scanning left to right.
std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  for (size_t hit = text.find(from); hit != std::string_view::npos; hit = text.find(from, at)) {
    out.append(text, at, hit - at).append(to);
    at = hit + from.size();
  }
  out.append(text, at, std::string_view::npos);
  return out;
}

using Replacement = std::pair<std::string_view, std::string_view>;

std::string apply_replacements(std::string_view text, const std::vector<Replacement>& list) {
  std::string out(text);
  for (const auto& [from, to] : list)
    if (out.find(from) != std::string::npos) out = replace_all(out, from, to);
  return out;
}

using Tokens = std::vector<std::string>;

// tokenizers decoders/wordpiece.rs decode_chain.
Tokens wordpiece_chain(const Tokens& tokens, const std::string& prefix, bool cleanup) {
  Tokens out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string piece;
    if (i == 0) {
      piece = tokens[i];
    } else if (tokens[i].compare(0, prefix.size(), prefix) == 0) {
      piece = tokens[i].substr(prefix.size());  // Rust strip_prefix: an empty prefix strips nothing
    } else {
      piece = " " + tokens[i];
    }
    out.push_back(cleanup ? wordpiece_cleanup(piece) : piece);
  }
  return out;
}

// tokenizers ByteLevel decode_chain: one string from the bytes of all tokens.
Tokens byte_level_chain(const Tokens& tokens) {
  std::string bytes;
  for (const std::string& token : tokens) {
    std::string mapped;
    bool all_in_alphabet = true;
    for (size_t i = 0; i < token.size() && all_in_alphabet;) {
      const text::Utf8Step step = text::decode_utf8(token, i);
      const int byte = step.valid ? text::unicode_to_byte(step.cp) : -1;
      if (byte < 0) all_in_alphabet = false;
      else mapped.push_back(static_cast<char>(byte));
      i += step.length;
    }
    bytes += all_in_alphabet ? mapped : token;
  }
  std::string out;
  text::to_valid_utf8(bytes, out);
  return {out};
}

// tokenizers decoders/byte_fallback.rs: runs of "<0xXX>" tokens become their bytes as one string when those are
// valid UTF-8, else one U+FFFD per byte.
Tokens byte_fallback_chain(const Tokens& tokens) {
  auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1; };
  // Rust u8::from_str_radix(&token[3..5], 16): two hex digits, or '+' and one.
  auto byte_of = [&](const std::string& t) -> int {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
    if (t[3] == '+') return hex(t[4]);
    const int hi = hex(t[3]), lo = hex(t[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
  };
  Tokens out;
  std::string pending;
  auto flush = [&]() {
    if (pending.empty()) return;
    if (text::is_valid_utf8(pending)) out.push_back(pending);
    else out.insert(out.end(), pending.size(), "\uFFFD");
    pending.clear();
  };
  for (const std::string& token : tokens) {
    if (const int b = byte_of(token); b >= 0) {
      pending.push_back(static_cast<char>(b));
      continue;
    }
    flush();
    out.push_back(token);
  }
  flush();
  return out;
}

// tokenizers decoders/strip.rs: up to `start` leading and `stop` trailing `content` characters off each token.
Tokens strip_chain(const Tokens& tokens, char32_t content, size_t start, size_t stop) {
  Tokens out;
  for (const std::string& token : tokens) {
    const std::u32string chars = text::to_code_points(token);
    size_t begin = 0, end = chars.size();
    while (begin < std::min(start, chars.size()) && chars[begin] == content) ++begin;
    for (size_t i = 0; i < stop && end > begin && chars[end - 1] == content; ++i) --end;
    std::string piece;
    for (size_t k = begin; k < end; ++k) text::append_utf8(piece, chars[k]);
    out.push_back(std::move(piece));
  }
  return out;
}

// tokenizers pre_tokenizers/metaspace.rs Decoder: `replacement` → ' ', except on the first token (when a space
// was prepended, prepend_scheme not "never"), where it is dropped.
Tokens metaspace_chain(const Tokens& tokens, const std::string& replacement, bool prepended) {
  ACCENT_CHECK(!replacement.empty(), "tokenizer decoder Metaspace: \"replacement\" must be one character, got \"\"");
  Tokens out;
  for (size_t i = 0; i < tokens.size(); ++i)
    out.push_back(replace_all(tokens[i], replacement, i == 0 && prepended ? "" : " "));
  return out;
}

std::string string_field(const nlohmann::ordered_json& d, const char* key) {
  ACCENT_CHECK(d.contains(key) && d[key].is_string(), "tokenizer decoder ", d.dump(), ": \"", key,
               "\" must be a string");
  return d[key].get<std::string>();
}

// One decoder's decode_chain (tokenizers decoders/mod.rs).
Tokens decode_chain(const nlohmann::ordered_json& decoder, Tokens tokens) {
  ACCENT_CHECK(decoder.is_object() && decoder.contains("type") && decoder["type"].is_string(),
               "tokenizer decoder: expected an object with a \"type\" string, got ", decoder.dump());
  const std::string type = decoder["type"].get<std::string>();
  if (type == "WordPiece")
    return wordpiece_chain(tokens, decoder.value("prefix", std::string("##")), decoder.value("cleanup", true));
  if (type == "ByteLevel") return byte_level_chain(tokens);
  if (type == "ByteFallback") return byte_fallback_chain(tokens);
  if (type == "Fuse") {
    std::string joined;
    for (const std::string& t : tokens) joined += t;
    return {joined};
  }
  if (type == "Replace") {
    const auto& pattern = decoder.at("pattern");
    ACCENT_CHECK(pattern.contains("String") && pattern["String"].is_string(), "tokenizer decoder Replace: pattern ",
                 pattern.dump(), " is not supported (String patterns are)");
    const std::string from = pattern["String"].get<std::string>(), to = string_field(decoder, "content");
    for (std::string& t : tokens)
      if (!from.empty()) t = replace_all(t, from, to);
    return tokens;
  }
  if (type == "Strip") {
    const std::string content = string_field(decoder, "content");
    ACCENT_CHECK(!content.empty(), "tokenizer decoder Strip: empty content");
    return strip_chain(tokens, text::decode_utf8(content, 0).cp, decoder.value("start", size_t{0}),
                       decoder.value("stop", size_t{0}));
  }
  if (type == "Metaspace") {
    std::string scheme = decoder.value("prepend_scheme", std::string("always"));
    if (decoder.contains("add_prefix_space") && decoder["add_prefix_space"] == false) scheme = "never";
    return metaspace_chain(tokens, string_field(decoder, "replacement"), scheme != "never");
  }
  if (type == "Sequence") {
    for (const auto& inner : decoder.at("decoders")) tokens = decode_chain(inner, std::move(tokens));
    return tokens;
  }
  fail("tokenizer decoder \"", type, "\" is not supported (accent decodes WordPiece, ByteLevel, ByteFallback, Fuse, "
       "Replace, Strip, Metaspace and Sequence decoders)");
}

std::string join_with_spaces(const std::vector<std::string>& tokens) {
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
  return out;
}

}  // namespace

std::string wordpiece_cleanup(std::string_view token) {
  static const std::vector<Replacement> kList = {
      {" .", "."},     {" ?", "?"},     {" !", "!"},          {" ,", ","},     {" ' ", "'"},     {" n't", "n't"},
      {" 'm", "'m"},   {" do not", " don't"}, {" 's", "'s"},  {" 've", "'ve"}, {" 're", "'re"}};
  return apply_replacements(token, kList);
}

std::string clean_up_tokenization(std::string_view text) {
  static const std::vector<Replacement> kList = {
      {" .", "."}, {" ?", "?"},     {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  return apply_replacements(text, kList);
}

std::string convert_tokens_to_string(const Tokenizer& tok, const std::vector<std::string>& tokens) {
  const nlohmann::ordered_json& decoder = tok.state().decoder;
  if (decoder.is_null()) return join_with_spaces(tokens);
  std::string out;
  for (const std::string& piece : decode_chain(decoder, tokens)) out += piece;  // Decoder::decode joins with ""
  return out;
}

std::string decode_tokens_backend(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special_tokens) {
  const text::TokenizerState& state = tok.state();
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    if (const text::AddedToken* added = state.added.token_for_id(id)) {
      if (skip_special_tokens && state.added.is_special(added->content)) continue;
      tokens.push_back(added->content);
    } else if (const std::string* token = state.model_id_to_token(id)) {
      // tokenizers checks every token, model ones included, against the special added tokens by content.
      if (skip_special_tokens && state.added.is_special(*token)) continue;
      tokens.push_back(*token);
    }  // an id neither vocabulary knows is dropped (tokenizers' filter_map)
  }
  return convert_tokens_to_string(tok, tokens);
}

std::string decode(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special_tokens) {
  std::string text = decode_tokens_backend(tok, ids, skip_special_tokens);
  return tok.state().settings.clean_up_tokenization_spaces ? clean_up_tokenization(text) : text;
}

}  // namespace accent
