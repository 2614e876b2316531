// text/decoder.cpp — the WordPiece and ByteLevel decoders, tokenizers' decode and transformers' clean-up.
#include "text/decoder.h"

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

// tokenizers decoders/wordpiece.rs decode_chain, joined.
std::string wordpiece_decode(const std::vector<std::string>& tokens, const std::string& prefix, bool cleanup) {
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string piece;
    if (i == 0) {
      piece = tokens[i];
    } else if (tokens[i].compare(0, prefix.size(), prefix) == 0) {
      piece = tokens[i].substr(prefix.size());  // Rust strip_prefix: an empty prefix strips nothing
    } else {
      piece = " " + tokens[i];
    }
    out += cleanup ? wordpiece_cleanup(piece) : piece;
  }
  return out;
}

// tokenizers ByteLevel decode_chain: one string from the bytes of all tokens.
std::string byte_level_decode(const std::vector<std::string>& tokens) {
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
  return out;
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
  ACCENT_CHECK(decoder.is_object() && decoder.contains("type") && decoder["type"].is_string(),
               "tokenizer decoder: expected an object with a \"type\" string, got ", decoder.dump());
  const std::string type = decoder["type"].get<std::string>();
  if (type == "WordPiece") {
    const auto prefix = decoder.value("prefix", std::string("##"));
    const bool cleanup = decoder.value("cleanup", true);
    return wordpiece_decode(tokens, prefix, cleanup);
  }
  if (type == "ByteLevel") return byte_level_decode(tokens);
  fail("tokenizer decoder \"", type, "\" is not supported (accent decodes WordPiece and ByteLevel decoders)");
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
