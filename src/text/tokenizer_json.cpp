// text/tokenizer_json.cpp — see tokenizer_json.h.
#include "text/tokenizer_json.h"

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "core/base64.h"
#include "core/json_parse.h"
#include "text/unicode.h"

namespace accent::text {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

template <typename T>
T get_or(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

std::optional<std::string> optional_string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

std::string type_of(const json& j) { return get_or<std::string>(j, "type", ""); }

BertNormalizerOptions parse_bert_normalizer(const json& j) {
  BertNormalizerOptions o;
  o.clean_text = get_or(j, "clean_text", true);
  o.handle_chinese_chars = get_or(j, "handle_chinese_chars", true);
  auto it = j.find("strip_accents");
  if (it != j.end() && !it->is_null()) o.strip_accents = it->get<bool>();
  o.lowercase = get_or(j, "lowercase", true);
  return o;
}

std::vector<std::pair<std::string, int32_t>> parse_vocab(const json& j, const std::string& source) {
  ACCENT_CHECK(j.is_object(), source, ": model.vocab must be an object token → id");
  std::vector<std::pair<std::string, int32_t>> vocab;
  vocab.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it)
    vocab.emplace_back(it.key(), parse_token_id(it.value(), it.key(), source + ": model.vocab"));
  return vocab;
}

std::vector<std::pair<std::string, std::string>> parse_merges(const json& j, const std::string& source) {
  std::vector<std::pair<std::string, std::string>> merges;
  if (j.is_null()) return merges;
  ACCENT_CHECK(j.is_array(), source, ": model.merges must be an array");
  merges.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const json& m = j[i];
    if (m.is_string()) {  // legacy "a b": split on the single space (tokenizers' convert_merges_to_hashmap)
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ');
      ACCENT_CHECK(space != std::string::npos && s.find(' ', space + 1) == std::string::npos, source,
                   ": merges[", i, "] = '", s, "' is not two tokens separated by one space");
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else {
      ACCENT_CHECK(m.is_array() && m.size() == 2, source, ": merges[", i, "] must be \"a b\" or [\"a\", \"b\"]");
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    }
  }
  return merges;
}

std::pair<std::string, int32_t> parse_token_pair(const json& j, const char* what, const std::string& source) {
  ACCENT_CHECK(j.is_array() && j.size() == 2, source, ": post_processor.", what, " must be [token, id]");
  const std::string token = j[0].get<std::string>();
  return {token, parse_token_id(j[1], token, source + ": post_processor." + what)};
}

std::vector<TemplatePiece> parse_template(const json& j, const std::string& source) {
  std::vector<TemplatePiece> pieces;
  if (j.is_null()) return pieces;
  if (j.is_string()) {  // "[CLS]:0 $A:0 [SEP]:0" form
    std::string s = j.get<std::string>();
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && s[i] == ' ') ++i;
      size_t e = s.find(' ', i);
      if (e == std::string::npos) e = s.size();
      if (e == i) break;
      std::string item = s.substr(i, e - i);
      i = e;
      TemplatePiece p;
      const size_t colon = item.rfind(':');
      if (colon != std::string::npos && colon + 1 < item.size() &&
          item.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
        p.type_id = std::stoi(item.substr(colon + 1));
        item.resize(colon);
      }
      if (item == "$" || item == "$A" || item == "$a") p.id = "A";
      else if (item == "$B" || item == "$b") p.id = "B";
      else if (!item.empty() && item[0] == '$') {
        p.id = "A";  // "$0".."$9": type id shorthand for A
        p.type_id = std::stoi(item.substr(1));
      } else p.is_special = true, p.id = item;
      pieces.push_back(p);
    }
    return pieces;
  }
  ACCENT_CHECK(j.is_array(), source, ": template must be an array");
  for (const json& item : j) {
    TemplatePiece p;
    if (item.contains("SpecialToken")) {
      p.is_special = true;
      p.id = item.at("SpecialToken").at("id").get<std::string>();  // at(): a const [] of a missing key is UB
      p.type_id = item["SpecialToken"].value("type_id", 0);
    } else if (item.contains("Sequence")) {
      p.id = item.at("Sequence").at("id").get<std::string>();
      ACCENT_CHECK(p.id == "A" || p.id == "B", source, ": template Sequence id must be A or B, got ", p.id);
      p.type_id = item["Sequence"].value("type_id", 0);
    } else {
      fail(source, ": template item ", item.dump(), " is neither SpecialToken nor Sequence");
    }
    pieces.push_back(p);
  }
  return pieces;
}

ojson template_json(const std::vector<TemplatePiece>& pieces) {
  ojson arr = ojson::array();
  for (const TemplatePiece& p : pieces) {
    ojson inner;
    inner["id"] = p.id;
    inner["type_id"] = p.type_id;
    ojson item;
    item[p.is_special ? "SpecialToken" : "Sequence"] = inner;
    arr.push_back(item);
  }
  return arr;
}

ojson null_or(const std::optional<std::string>& s) { return s ? ojson(*s) : ojson(nullptr); }

// The split patterns accent implements (pre_tokenizers.h), exactly as tokenizer.json spells them: Llama-3's and
// Qwen2's differ only in the digits alternative (\p{N}{1,3} against \p{N}).
const std::string& split_pattern_text(SplitPattern p) {
  auto pattern = [](const char* digits) {
    return std::string("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|") + digits +
           "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  };
  static const std::string llama3 = pattern("\\p{N}{1,3}"), qwen2 = pattern("\\p{N}");
  return p == SplitPattern::Llama3 ? llama3 : qwen2;
}

void parse_normalizer(const json& j, const std::string& source, std::vector<NormalizerStep>& steps) {
  using Kind = NormalizerStep::Kind;
  const std::string type = type_of(j);
  NormalizerStep step;
  if (type == "Sequence") {
    for (const json& inner : j.at("normalizers")) parse_normalizer(inner, source, steps);
    return;
  } else if (type == "BertNormalizer") {
    step.kind = Kind::Bert;
    step.bert = parse_bert_normalizer(j);
  } else if (type == "NFC") {
    step.kind = Kind::Nfc;
  } else if (type == "NFD") {
    step.kind = Kind::Nfd;
  } else if (type == "NFKC") {
    step.kind = Kind::Nfkc;
  } else if (type == "NFKD") {
    step.kind = Kind::Nfkd;
  } else if (type == "Lowercase") {
    step.kind = Kind::Lowercase;
  } else if (type == "StripAccents") {
    step.kind = Kind::StripAccents;
  } else if (type == "Strip") {
    step.kind = Kind::Strip;
    step.strip_left = get_or(j, "strip_left", true);
    step.strip_right = get_or(j, "strip_right", true);
  } else if (type == "Precompiled") {
    step.kind = Kind::Precompiled;
    const json& encoded = j.at("precompiled_charsmap");
    ACCENT_CHECK(encoded.is_string(), source, ": Precompiled normalizer: precompiled_charsmap must be a base64 string");
    std::optional<std::string> blob = base64_decode(encoded.get<std::string>());
    ACCENT_CHECK(blob.has_value(), source, ": Precompiled normalizer: precompiled_charsmap is not valid base64");
    try {
      step.charsmap = std::make_shared<const PrecompiledCharsmap>(std::move(*blob));
    } catch (const Error& e) {
      fail(source, ": normalizer.precompiled_charsmap: ", e.what());
    }
  } else if (type == "Prepend") {
    step.kind = Kind::Prepend;
    step.content = j.at("prepend").get<std::string>();
  } else if (type == "Replace") {
    step.kind = Kind::Replace;
    const json& pattern = j.at("pattern");
    if (pattern.contains("Regex") && pattern["Regex"] == " {2,}") {
      step.spaces_regex = true;
      step.pattern = " {2,}";
    } else {
      ACCENT_CHECK(pattern.contains("String"), source, ": Replace normalizer pattern ", pattern.dump(),
                   ": only String patterns and the Regex \" {2,}\" are supported");
      step.pattern = pattern.at("String").get<std::string>();
    }
    ACCENT_CHECK(!step.pattern.empty(), source, ": Replace normalizer with an empty pattern");
    step.content = j.at("content").get<std::string>();
  } else {
    fail(source, ": unsupported normalizer type '", type, "' (supported: BertNormalizer, NFC, NFD, NFKC, NFKD, ",
         "Lowercase, StripAccents, Strip, Replace, Prepend, Precompiled, Sequence)");
  }
  steps.push_back(std::move(step));
}

// Sequence[Split{Regex: Llama-3 | Qwen2 pattern, Isolated, invert false}, ByteLevel{use_regex false}] (with
// add_prefix_space, ByteLevel puts a space before each split word that lacks one).
void parse_split_byte_level(const json& pre, const std::string& source, TokenizerState& state) {
  const json& list = pre.at("pretokenizers");
  auto unsupported = [&]() {
    fail(source, ": unsupported pre_tokenizer ", pre.dump().substr(0, 300),
         " (a Sequence is supported as [Split{Llama-3 or Qwen2 pattern, Isolated}, ByteLevel{use_regex: false}])");
  };
  if (!list.is_array() || list.size() != 2 || type_of(list[0]) != "Split" || type_of(list[1]) != "ByteLevel")
    unsupported();
  const json& split = list[0];
  const json& pattern = split.at("pattern");
  const std::string regex = pattern.is_object() && pattern.contains("Regex") ? pattern["Regex"].get<std::string>() : "";
  SplitPattern kind = SplitPattern::None;
  for (SplitPattern known : {SplitPattern::Llama3, SplitPattern::Qwen2})
    if (regex == split_pattern_text(known)) kind = known;
  if (kind == SplitPattern::None || get_or<std::string>(split, "behavior", "") != "Isolated" ||
      get_or(split, "invert", false))
    unsupported();
  const json& byte_level = list[1];
  if (get_or(byte_level, "use_regex", true)) unsupported();
  state.pre_tokenizer = PreTokenizerKind::ByteLevel;
  state.byte_level.add_prefix_space = get_or(byte_level, "add_prefix_space", true);
  state.byte_level.trim_offsets = get_or(byte_level, "trim_offsets", true);
  state.byte_level.use_regex = false;
  state.byte_level.split = kind;
}

// The pre_tokenizer object (see tokenizer_json.h for what is supported).
void parse_pre_tokenizer(const json& pre, const std::string& source, TokenizerState& state) {
  const std::string type = type_of(pre);
  if (type == "BertPreTokenizer") {
    state.pre_tokenizer = PreTokenizerKind::Bert;
  } else if (type == "ByteLevel") {
    state.pre_tokenizer = PreTokenizerKind::ByteLevel;
    state.byte_level.add_prefix_space = get_or(pre, "add_prefix_space", true);
    state.byte_level.trim_offsets = get_or(pre, "trim_offsets", true);
    state.byte_level.use_regex = get_or(pre, "use_regex", true);
  } else if (type == "Sequence" && pre.at("pretokenizers").is_array() && pre["pretokenizers"].size() == 1) {
    parse_pre_tokenizer(pre["pretokenizers"][0], source, state);  // DebertaV2Converter's Sequence[Metaspace]
    state.pre_tokenizer_in_sequence = true;
  } else if (type == "Sequence") {
    parse_split_byte_level(pre, source, state);
  } else if (type == "Metaspace") {
    state.pre_tokenizer = PreTokenizerKind::Metaspace;
    MetaspaceOptions& m = state.metaspace;
    m.replacement = pre.at("replacement").get<std::string>();
    ACCENT_CHECK(!m.replacement.empty() && decode_utf8(m.replacement, 0).length == m.replacement.size(), source,
                 ": Metaspace replacement must be one character, got '", m.replacement, "'");
    const std::string scheme = get_or<std::string>(pre, "prepend_scheme", "always");
    if (scheme == "always") m.prepend_scheme = MetaspaceOptions::Prepend::Always;
    else if (scheme == "first") m.prepend_scheme = MetaspaceOptions::Prepend::First;
    else if (scheme == "never") m.prepend_scheme = MetaspaceOptions::Prepend::Never;
    else fail(source, ": Metaspace prepend_scheme '", scheme, "' is not always, first or never");
    if (pre.contains("add_prefix_space") && pre["add_prefix_space"].is_boolean() && !pre["add_prefix_space"].get<bool>()) {
      // tokenizers: a missing prepend_scheme means "always", which add_prefix_space false contradicts too.
      ACCENT_CHECK(m.prepend_scheme == MetaspaceOptions::Prepend::Never, source,
                   ": Metaspace add_prefix_space false does not match prepend_scheme '", scheme, "'");
      m.prepend_scheme = MetaspaceOptions::Prepend::Never;
    }
    m.split = get_or(pre, "split", true);
  } else {
    fail(source, ": unsupported pre_tokenizer type '", type, "' (supported: BertPreTokenizer, ByteLevel, Metaspace, ",
         "Sequence[Split, ByteLevel] with the Llama-3 or Qwen2 pattern)");
  }
}

ojson normalizer_step_json(const NormalizerStep& step) {
  using Kind = NormalizerStep::Kind;
  ojson n;
  switch (step.kind) {
    case Kind::Bert:
      n["type"] = "BertNormalizer";
      n["clean_text"] = step.bert.clean_text;
      n["handle_chinese_chars"] = step.bert.handle_chinese_chars;
      n["strip_accents"] = step.bert.strip_accents ? ojson(*step.bert.strip_accents) : ojson(nullptr);
      n["lowercase"] = step.bert.lowercase;
      break;
    case Kind::Nfc: n["type"] = "NFC"; break;
    case Kind::Nfd: n["type"] = "NFD"; break;
    case Kind::Nfkc: n["type"] = "NFKC"; break;
    case Kind::Nfkd: n["type"] = "NFKD"; break;
    case Kind::Lowercase: n["type"] = "Lowercase"; break;
    case Kind::StripAccents: n["type"] = "StripAccents"; break;
    case Kind::Strip:
      n["type"] = "Strip";
      n["strip_left"] = step.strip_left;
      n["strip_right"] = step.strip_right;
      break;
    case Kind::Prepend:
      n["type"] = "Prepend";
      n["prepend"] = step.content;
      break;
    case Kind::Precompiled:
      n["type"] = "Precompiled";
      n["precompiled_charsmap"] = base64_encode(step.charsmap->blob());
      break;
    case Kind::Replace:
      n["type"] = "Replace";
      n["pattern"] = ojson{{step.spaces_regex ? "Regex" : "String", step.pattern}};
      n["content"] = step.content;
      break;
  }
  return n;
}

ojson normalizer_json(const Normalizer& normalizer) {
  if (!normalizer.as_sequence() && normalizer.steps().size() == 1) return normalizer_step_json(normalizer.steps()[0]);
  ojson list = ojson::array();
  for (const NormalizerStep& step : normalizer.steps()) list.push_back(normalizer_step_json(step));
  ojson n;
  n["type"] = "Sequence";
  n["normalizers"] = list;
  return n;
}

}  // namespace

int32_t parse_token_id(const nlohmann::json& v, const std::string& token, const std::string& where) {
  // nlohmann's get<int32_t>() wraps silently (2^40 became 0, [PAD]); tokenizers deserialises ids as u32 and refuses
  // anything else. accent keeps ids in int32, so the range is 0..2^31-1 (no real vocabulary comes near it).
  constexpr int64_t kMaxId = std::numeric_limits<int32_t>::max();
  if (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(kMaxId))
    return static_cast<int32_t>(v.get<uint64_t>());
  if (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= kMaxId)
    return static_cast<int32_t>(v.get<int64_t>());
  fail(where, ": the id of token \"", token, "\" is ", v.dump(), "; expected an integer in 0..", kMaxId);
}

AddedToken parse_added_token(const json& j, bool default_special, const std::string& source) {
  AddedToken t;
  if (j.is_string()) {
    t.content = j.get<std::string>();
    t.special = default_special;
    t.normalized = !default_special;
    return t;
  }
  ACCENT_CHECK(j.is_object() && j.contains("content"), source, ": added token ", j.dump(), " has no content");
  ACCENT_CHECK(j["content"].is_string(), source, ": added token ", j.dump(), ": content must be a string");
  t.content = j["content"].get<std::string>();
  t.special = get_or(j, "special", default_special);
  t.single_word = get_or(j, "single_word", false);
  t.lstrip = get_or(j, "lstrip", false);
  t.rstrip = get_or(j, "rstrip", false);
  t.normalized = get_or(j, "normalized", !t.special);
  return t;
}

ojson added_token_json(const AddedToken& t) {
  ojson j;
  j["content"] = t.content;
  j["single_word"] = t.single_word;
  j["lstrip"] = t.lstrip;
  j["rstrip"] = t.rstrip;
  j["normalized"] = t.normalized;
  j["special"] = t.special;
  return j;
}

PostProcessor parse_post_processor(const json& j, const std::string& source) {
  PostProcessor p;
  const std::string type = type_of(j);
  if (type == "TemplateProcessing") {
    p.kind = PostProcessor::Kind::Template;
    p.single = parse_template(j.value("single", json()), source);
    p.pair = parse_template(j.value("pair", json()), source);
    const json specials = j.value("special_tokens", json::object());
    for (auto it = specials.begin(); it != specials.end(); ++it) {
      TemplateSpecialToken t;
      t.id = it.value().value("id", it.key());
      t.tokens = it.value().at("tokens").get<std::vector<std::string>>();
      const json& ids = it.value().at("ids");
      ACCENT_CHECK(ids.is_array(), source, ": post_processor.special_tokens[\"", t.id, "\"].ids must be a list of ids");
      for (const json& id : ids) t.ids.push_back(parse_token_id(id, t.id, source + ": post_processor.special_tokens"));
      ACCENT_CHECK(t.ids.size() == t.tokens.size(), source, ": special token ", t.id, " has ", t.ids.size(),
                   " ids but ", t.tokens.size(), " tokens");
      p.special_tokens.push_back(std::move(t));
    }
    std::sort(p.special_tokens.begin(), p.special_tokens.end(),
              [](const TemplateSpecialToken& a, const TemplateSpecialToken& b) { return a.id < b.id; });
    for (const auto* tmpl : {&p.single, &p.pair})
      for (const TemplatePiece& piece : *tmpl)
        if (piece.is_special) {
          bool found = false;
          for (const TemplateSpecialToken& t : p.special_tokens) found |= t.id == piece.id;
          ACCENT_CHECK(found, source, ": template uses special token '", piece.id, "' missing from special_tokens");
        }
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    p.kind = type == "BertProcessing" ? PostProcessor::Kind::Bert : PostProcessor::Kind::Roberta;
    p.sep = parse_token_pair(j.at("sep"), "sep", source);
    p.cls = parse_token_pair(j.at("cls"), "cls", source);
    p.trim_offsets = get_or(j, "trim_offsets", true);
    p.add_prefix_space = get_or(j, "add_prefix_space", true);
  } else if (type == "ByteLevel") {
    p.kind = PostProcessor::Kind::ByteLevel;
    p.add_prefix_space = get_or(j, "add_prefix_space", true);
    p.trim_offsets = get_or(j, "trim_offsets", true);
    p.use_regex = get_or(j, "use_regex", true);
  } else if (type == "Sequence") {
    p.kind = PostProcessor::Kind::Sequence;
    for (const json& inner : j.at("processors")) p.processors.push_back(parse_post_processor(inner, source));
  } else {
    fail(source, ": unsupported post_processor type '", type, "' (supported: TemplateProcessing, BertProcessing, ",
         "RobertaProcessing, ByteLevel, Sequence)");
  }
  return p;
}

ojson post_processor_json(const PostProcessor& p) {
  ojson j;
  switch (p.kind) {
    case PostProcessor::Kind::Template: {
      j["type"] = "TemplateProcessing";
      j["single"] = template_json(p.single);
      j["pair"] = template_json(p.pair);
      ojson specials = ojson::object();
      for (const TemplateSpecialToken& t : p.special_tokens) {
        ojson s;
        s["id"] = t.id;
        s["ids"] = t.ids;
        s["tokens"] = t.tokens;
        specials[t.id] = s;
      }
      j["special_tokens"] = specials;
      break;
    }
    case PostProcessor::Kind::Bert:
      j["type"] = "BertProcessing";
      j["sep"] = ojson::array({p.sep.first, p.sep.second});
      j["cls"] = ojson::array({p.cls.first, p.cls.second});
      break;
    case PostProcessor::Kind::Roberta:
      j["type"] = "RobertaProcessing";
      j["sep"] = ojson::array({p.sep.first, p.sep.second});
      j["cls"] = ojson::array({p.cls.first, p.cls.second});
      j["trim_offsets"] = p.trim_offsets;
      j["add_prefix_space"] = p.add_prefix_space;
      break;
    case PostProcessor::Kind::ByteLevel:
      j["type"] = "ByteLevel";
      j["add_prefix_space"] = p.add_prefix_space;
      j["trim_offsets"] = p.trim_offsets;
      j["use_regex"] = p.use_regex;
      break;
    case PostProcessor::Kind::Sequence: {
      j["type"] = "Sequence";
      ojson list = ojson::array();
      for (const PostProcessor& inner : p.processors) list.push_back(post_processor_json(inner));
      j["processors"] = list;
      break;
    }
  }
  return j;
}

void read_tokenizer_json(const std::string& json_text, const std::string& source, TokenizerState& state) {
  const json j = parse_json(json_text, source);
  ACCENT_CHECK(j.is_object(), source, ": top level must be an object");
  const std::string version = get_or<std::string>(j, "version", "1.0");
  ACCENT_CHECK(version == "1.0", source, ": unknown tokenizer.json version '", version, "' (expected 1.0)");
  try {
    // normalizer
    const json normalizer = j.value("normalizer", json());
    if (!normalizer.is_null()) {
      std::vector<NormalizerStep> steps;
      const bool sequence = type_of(normalizer) == "Sequence";
      parse_normalizer(normalizer, source, steps);
      state.normalizer.emplace(std::move(steps), sequence);
    }
    // pre_tokenizer
    const json pre = j.value("pre_tokenizer", json());
    if (!pre.is_null()) parse_pre_tokenizer(pre, source, state);
    // model
    const json& model = j.at("model");
    std::string type = type_of(model);
    if (type.empty()) type = model.contains("merges") ? "BPE" : "WordPiece";
    if (type == "WordPiece") {
      // tokenizers reads it as a usize: a negative value is refused there (here it made every word [UNK]).
      const int64_t max_chars = get_or<int64_t>(model, "max_input_chars_per_word", 100);
      ACCENT_CHECK(max_chars >= 0, source, ": model.max_input_chars_per_word is ", max_chars,
                   "; expected a non-negative integer");
      state.wordpiece = std::make_shared<WordPiece>(
          parse_vocab(model.at("vocab"), source), get_or<std::string>(model, "unk_token", "[UNK]"),
          get_or<std::string>(model, "continuing_subword_prefix", "##"),
          max_chars);
    } else if (type == "BPE") {
      BpeOptions o;
      o.unk_token = optional_string(model, "unk_token");
      o.continuing_subword_prefix = optional_string(model, "continuing_subword_prefix");
      o.end_of_word_suffix = optional_string(model, "end_of_word_suffix");
      o.fuse_unk = get_or(model, "fuse_unk", false);
      o.byte_fallback = get_or(model, "byte_fallback", false);
      o.ignore_merges = get_or(model, "ignore_merges", false);
      if (model.contains("dropout") && !model["dropout"].is_null()) o.dropout = model["dropout"].get<double>();
      // tokenizers' BPE deserializer requires "merges" (an empty list is a BPE that merges nothing).
      ACCENT_CHECK(model.contains("merges") && !model["merges"].is_null(), source,
                   ": model.merges is missing; a BPE model needs its merges (an empty list if none)");
      state.bpe = std::make_shared<Bpe>(parse_vocab(model.at("vocab"), source),
                                        parse_merges(model.value("merges", json()), source), o);
    } else if (type == "Unigram") {
      const json& vocab = model.at("vocab");
      ACCENT_CHECK(vocab.is_array(), source, ": model.vocab of a Unigram model must be a list of [piece, score]");
      std::vector<std::pair<std::string, double>> pieces;
      pieces.reserve(vocab.size());
      for (size_t i = 0; i < vocab.size(); ++i) {
        const json& item = vocab[i];
        ACCENT_CHECK(item.is_array() && item.size() == 2 && item[0].is_string() && item[1].is_number(), source,
                     ": model.vocab[", i, "] must be [piece, score]");
        pieces.emplace_back(item[0].get<std::string>(), item[1].get<double>());
      }
      std::optional<int32_t> unk_id;
      if (model.contains("unk_id") && !model["unk_id"].is_null())
        unk_id = parse_token_id(model["unk_id"], "unk_id", source + ": model");
      try {
        state.unigram = std::make_shared<Unigram>(std::move(pieces), unk_id, get_or(model, "byte_fallback", false));
      } catch (const Error& e) {
        fail(source, ": ", e.what());
      }
    } else {
      fail(source, ": unsupported model type '", type, "' (supported: WordPiece, BPE, Unigram)");
    }
    // post_processor, decoder
    const json post = j.value("post_processor", json());
    if (!post.is_null()) state.post_processor = parse_post_processor(post, source);
    state.decoder = ojson::parse(j.value("decoder", json()).dump());
    // added tokens, one by one as tokenizers' deserializer does
    const json added = j.value("added_tokens", json::array());
    for (const json& t : added) state.add_tokens({parse_added_token(t, false, source)});
  } catch (const json::exception& e) {
    fail(source, ": unexpected structure: ", e.what());
  }
}

ojson tokenizer_json(const TokenizerState& state) {
  ojson j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  ojson added = ojson::array();
  for (const auto& [id, t] : state.added.sorted_by_id()) {
    ojson item;
    item["id"] = id;
    const ojson fields = added_token_json(t);  // named: items() of a temporary would dangle in the loop
    for (auto& [k, v] : fields.items()) item[k] = v;
    added.push_back(item);
  }
  j["added_tokens"] = added;
  j["normalizer"] = state.normalizer ? normalizer_json(*state.normalizer) : ojson(nullptr);
  switch (state.pre_tokenizer) {
    case PreTokenizerKind::None:
      j["pre_tokenizer"] = nullptr;
      break;
    case PreTokenizerKind::Bert:
      j["pre_tokenizer"] = ojson{{"type", "BertPreTokenizer"}};
      break;
    case PreTokenizerKind::Metaspace: {
      ojson p;
      p["type"] = "Metaspace";
      p["replacement"] = state.metaspace.replacement;
      using Prepend = MetaspaceOptions::Prepend;
      const Prepend scheme = state.metaspace.prepend_scheme;
      p["prepend_scheme"] = scheme == Prepend::Always ? "always" : scheme == Prepend::First ? "first" : "never";
      p["split"] = state.metaspace.split;
      j["pre_tokenizer"] = p;
      break;
    }
    case PreTokenizerKind::ByteLevel: {
      ojson p;
      p["type"] = "ByteLevel";
      p["add_prefix_space"] = state.byte_level.add_prefix_space;
      p["trim_offsets"] = state.byte_level.trim_offsets;
      p["use_regex"] = state.byte_level.use_regex;
      if (state.byte_level.split == SplitPattern::None) {
        j["pre_tokenizer"] = p;
        break;
      }
      ojson split;
      split["type"] = "Split";
      split["pattern"] = ojson{{"Regex", split_pattern_text(state.byte_level.split)}};
      split["behavior"] = "Isolated";
      split["invert"] = false;
      ojson sequence;
      sequence["type"] = "Sequence";
      sequence["pretokenizers"] = ojson::array({split, p});
      j["pre_tokenizer"] = sequence;
      break;
    }
  }
  if (state.pre_tokenizer_in_sequence && !j["pre_tokenizer"].is_null()) {
    ojson sequence;
    sequence["type"] = "Sequence";
    sequence["pretokenizers"] = ojson::array({j["pre_tokenizer"]});
    j["pre_tokenizer"] = sequence;
  }
  j["post_processor"] = state.post_processor ? post_processor_json(*state.post_processor) : ojson(nullptr);
  j["decoder"] = state.decoder;
  ojson m;
  if (state.wordpiece) {
    const WordPiece& wp = *state.wordpiece;
    m["type"] = "WordPiece";
    m["unk_token"] = wp.unk_token();
    m["continuing_subword_prefix"] = wp.continuing_subword_prefix();
    m["max_input_chars_per_word"] = wp.max_input_chars_per_word();
    ojson vocab = ojson::object();
    for (const auto& [token, id] : wp.vocab_by_id()) vocab[token] = id;
    m["vocab"] = vocab;
  } else if (state.unigram) {
    const Unigram& unigram = *state.unigram;
    m["type"] = "Unigram";
    m["unk_id"] = unigram.unk_id() ? ojson(*unigram.unk_id()) : ojson(nullptr);
    ojson vocab = ojson::array();
    for (const auto& [piece, score] : unigram.vocab()) vocab.push_back(ojson::array({piece, score}));
    m["vocab"] = vocab;
    m["byte_fallback"] = unigram.byte_fallback();
  } else {
    const Bpe& bpe = *state.bpe;
    const BpeOptions& o = bpe.options();
    m["type"] = "BPE";
    m["dropout"] = o.dropout ? ojson(*o.dropout) : ojson(nullptr);
    m["unk_token"] = null_or(o.unk_token);
    m["continuing_subword_prefix"] = null_or(o.continuing_subword_prefix);
    m["end_of_word_suffix"] = null_or(o.end_of_word_suffix);
    m["fuse_unk"] = o.fuse_unk;
    m["byte_fallback"] = o.byte_fallback;
    m["ignore_merges"] = o.ignore_merges;
    ojson vocab = ojson::object();
    for (const auto& [token, id] : bpe.vocab_by_id()) vocab[token] = id;
    m["vocab"] = vocab;
    ojson merges = ojson::array();
    for (const auto& [a, b] : bpe.merges()) merges.push_back(ojson::array({a, b}));
    m["merges"] = merges;
  }
  j["model"] = m;
  return j;
}

}  // namespace accent::text
