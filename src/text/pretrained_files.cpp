// text/pretrained_files.cpp — Tokenizer::from_pretrained / from_gpt2_files / save_pretrained: the files of a
// transformers tokenizer directory (spec tokenizers.md §4–5, pipeline.md §2), read with v4 precedence
// (class defaults < tokenizer_config.json < special_tokens_map.json; config kwargs override tokenizer.json)
// and written as v4 save_pretrained writes them.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "core/json_parse.h"
#include "text/tokenizer.h"
#include "text/tokenizer_json.h"
#include "text/tokenizer_state.h"

namespace accent {
namespace text {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// transformers' VERY_LARGE_INTEGER = int(1e30): what tokenizer_config holds when no limit is known.
constexpr const char* kVeryLargeInteger = "1000000000000000019884624838656";

std::optional<json> read_json_if_exists(const fs::path& p) {
  if (!fs::exists(p)) return std::nullopt;
  return read_json_file(p.string());
}

// Splits a text file into lines like Rust BufRead::lines (no final empty line, "\r\n" or "\n" endings).
std::vector<std::string> read_lines(const std::string& path) {
  const std::string text = read_file(path);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    size_t stop = end;
    if (stop > start && text[stop - 1] == '\r') --stop;
    lines.emplace_back(text, start, stop - start);
    start = end + 1;
  }
  return lines;
}

std::vector<std::pair<std::string, int32_t>> read_vocab_txt(const std::string& path) {
  // tokenizers WordPiece::read_file: id = line index, each line trimmed of trailing whitespace.
  std::vector<std::pair<std::string, int32_t>> vocab;
  int32_t id = 0;
  for (std::string& line : read_lines(path)) {
    size_t end = line.size();
    while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r' ||
                       line[end - 1] == '\v' || line[end - 1] == '\f'))
      --end;
    line.resize(end);
    vocab.emplace_back(std::move(line), id++);
  }
  return vocab;
}

std::vector<std::pair<std::string, int32_t>> read_vocab_json(const std::string& path) {
  const json j = read_json_file(path);
  ACCENT_CHECK(j.is_object(), path, ": expected an object token → id");
  std::vector<std::pair<std::string, int32_t>> vocab;
  for (auto it = j.begin(); it != j.end(); ++it) {
    vocab.emplace_back(it.key(), parse_token_id(it.value(), it.key(), path));
  }
  return vocab;
}

}  // namespace

// tokenizers BPE::read_file: lines starting with "#version" are skipped; every other line must be exactly two
// tokens separated by one space (line numbers in errors are 1-based). A missing final newline loses nothing.
std::vector<std::pair<std::string, std::string>> read_merges_txt(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> merges;
  const std::vector<std::string> lines = read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.rfind("#version", 0) == 0) continue;
    const size_t space = line.find(' ');
    ACCENT_CHECK(space != std::string::npos && line.find(' ', space + 1) == std::string::npos, path, ":", i + 1,
                 ": merge line '", line, "' is not two tokens separated by a single space");
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return merges;
}

namespace {

AddedToken special(const std::string& content, bool normalized, bool lstrip = false) {
  AddedToken t;
  t.content = content;
  t.special = true;
  t.normalized = normalized;
  t.lstrip = lstrip;
  return t;
}

// Class defaults of the special tokens (BertTokenizer, RobertaTokenizer, GPT2Tokenizer __init__).
std::map<std::string, AddedToken> default_special_tokens(TokenizerFamily family) {
  std::map<std::string, AddedToken> m;
  switch (family) {
    case TokenizerFamily::Bert:
    case TokenizerFamily::DistilBert:
      m["unk_token"] = special("[UNK]", false);
      m["sep_token"] = special("[SEP]", false);
      m["pad_token"] = special("[PAD]", false);
      m["cls_token"] = special("[CLS]", false);
      m["mask_token"] = special("[MASK]", false);
      break;
    case TokenizerFamily::Roberta:
      m["bos_token"] = special("<s>", true);
      m["eos_token"] = special("</s>", true);
      m["sep_token"] = special("</s>", true);
      m["cls_token"] = special("<s>", true);
      m["unk_token"] = special("<unk>", true);
      m["pad_token"] = special("<pad>", true);
      m["mask_token"] = special("<mask>", true, /*lstrip=*/true);
      break;
    case TokenizerFamily::Gpt2:
      m["unk_token"] = special("<|endoftext|>", true);
      m["bos_token"] = special("<|endoftext|>", true);
      m["eos_token"] = special("<|endoftext|>", true);
      break;
    case TokenizerFamily::Qwen2:  // Qwen2Tokenizer.__init__: no bos; unk, eos and pad are <|endoftext|>
      m["unk_token"] = special("<|endoftext|>", true);
      m["eos_token"] = special("<|endoftext|>", true);
      m["pad_token"] = special("<|endoftext|>", true);
      break;
    case TokenizerFamily::Custom:
      break;
  }
  return m;
}

std::vector<std::string> default_model_input_names(TokenizerFamily family) {
  if (family == TokenizerFamily::Bert || family == TokenizerFamily::Custom)
    return {"input_ids", "token_type_ids", "attention_mask"};
  return {"input_ids", "attention_mask"};
}

std::string default_class_name(TokenizerFamily family) {
  switch (family) {
    case TokenizerFamily::Bert: return "BertTokenizer";
    case TokenizerFamily::DistilBert: return "DistilBertTokenizer";
    case TokenizerFamily::Roberta: return "RobertaTokenizer";
    case TokenizerFamily::Gpt2: return "GPT2Tokenizer";
    case TokenizerFamily::Qwen2: return "Qwen2Tokenizer";
    case TokenizerFamily::Custom: return "PreTrainedTokenizerFast";
  }
  return "PreTrainedTokenizerFast";
}

std::optional<TokenizerFamily> family_from_class(std::string name) {
  if (name.size() > 4 && name.compare(name.size() - 4, 4, "Fast") == 0) name.resize(name.size() - 4);
  if (name == "BertTokenizer" || name == "ElectraTokenizer") return TokenizerFamily::Bert;
  if (name == "DistilBertTokenizer") return TokenizerFamily::DistilBert;
  if (name == "RobertaTokenizer") return TokenizerFamily::Roberta;
  if (name == "GPT2Tokenizer") return TokenizerFamily::Gpt2;
  if (name == "Qwen2Tokenizer") return TokenizerFamily::Qwen2;
  if (name == "PreTrainedTokenizer") return TokenizerFamily::Custom;
  return std::nullopt;
}

std::optional<TokenizerFamily> family_from_model_type(const std::string& t) {
  if (t == "bert" || t == "electra") return TokenizerFamily::Bert;
  if (t == "distilbert") return TokenizerFamily::DistilBert;
  if (t == "roberta") return TokenizerFamily::Roberta;
  if (t == "gpt2") return TokenizerFamily::Gpt2;
  if (t == "qwen2") return TokenizerFamily::Qwen2;
  return std::nullopt;
}

TokenizerFamily family_from_pipeline(const TokenizerState& s) {
  if (s.wordpiece) return TokenizerFamily::Bert;
  if (s.pre_tokenizer == PreTokenizerKind::ByteLevel && s.byte_level.split == SplitPattern::Qwen2) return TokenizerFamily::Qwen2;
  if (s.pre_tokenizer == PreTokenizerKind::ByteLevel) {
    if (!s.post_processor || s.post_processor->kind == PostProcessor::Kind::ByteLevel) return TokenizerFamily::Gpt2;
    if (s.post_processor->kind == PostProcessor::Kind::Roberta) return TokenizerFamily::Roberta;
  }
  return TokenizerFamily::Custom;
}

// BertConverter / RobertaConverter / GPT2Converter of transformers (convert_slow_tokenizer.py).
void build_bert_pipeline(TokenizerState& s, std::vector<std::pair<std::string, int32_t>> vocab,
                         const std::map<std::string, AddedToken>& specials) {
  auto get = [&](const char* k, const char* d) {
    auto it = specials.find(k);
    return it == specials.end() ? std::string(d) : it->second.content;
  };
  s.wordpiece = std::make_shared<WordPiece>(std::move(vocab), get("unk_token", "[UNK]"), "##", 100);
  s.normalizer = Normalizer::bert(BertNormalizerOptions{});
  s.pre_tokenizer = PreTokenizerKind::Bert;
  const std::string cls = get("cls_token", "[CLS]"), sep = get("sep_token", "[SEP]");
  const int32_t cls_id = s.wordpiece->token_to_id(cls), sep_id = s.wordpiece->token_to_id(sep);
  ACCENT_CHECK(cls_id >= 0 && sep_id >= 0, "vocab.txt lacks the cls/sep tokens '", cls, "'/'", sep, "'");
  PostProcessor p;
  p.kind = PostProcessor::Kind::Template;
  p.single = {{true, cls, 0}, {false, "A", 0}, {true, sep, 0}};
  p.pair = {{true, cls, 0}, {false, "A", 0}, {true, sep, 0}, {false, "B", 1}, {true, sep, 1}};
  p.special_tokens = {{cls, {cls_id}, {cls}}, {sep, {sep_id}, {sep}}};
  std::sort(p.special_tokens.begin(), p.special_tokens.end(),
            [](const TemplateSpecialToken& a, const TemplateSpecialToken& b) { return a.id < b.id; });
  s.post_processor = p;
  s.decoder = ojson{{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}};
}

void build_byte_level_pipeline(TokenizerState& s, std::vector<std::pair<std::string, int32_t>> vocab,
                               std::vector<std::pair<std::string, std::string>> merges, bool roberta,
                               const std::map<std::string, AddedToken>& specials) {
  BpeOptions o;
  o.continuing_subword_prefix = "";
  o.end_of_word_suffix = "";
  s.bpe = std::make_shared<Bpe>(std::move(vocab), std::move(merges), o);
  s.pre_tokenizer = PreTokenizerKind::ByteLevel;
  s.byte_level = {false, true, true};
  s.decoder = ojson{{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  PostProcessor p;
  if (roberta) {
    auto get = [&](const char* k) { return specials.at(k).content; };
    p.kind = PostProcessor::Kind::Roberta;
    p.sep = {get("sep_token"), s.bpe->token_to_id(get("sep_token"))};
    p.cls = {get("cls_token"), s.bpe->token_to_id(get("cls_token"))};
    ACCENT_CHECK(p.sep.second >= 0 && p.cls.second >= 0, "vocab.json lacks the cls/sep tokens");
    p.trim_offsets = true;
    p.add_prefix_space = false;
  } else {
    p.kind = PostProcessor::Kind::ByteLevel;
    p.add_prefix_space = true;
    p.trim_offsets = false;
    p.use_regex = true;
  }
  s.post_processor = p;
}

// transformers' Qwen2Converter: NFC, Split(Qwen2 pattern) + ByteLevel(no prefix space, no regex), byte-level BPE
// without unk, ByteLevel decoder and post-processor (trim_offsets false).
// That is GPT2Converter's pipeline (the same BPE, decoder and post-processor) with NFC in front and the Split
// in place of the ByteLevel regex.
void build_qwen2_pipeline(TokenizerState& s, std::vector<std::pair<std::string, int32_t>> vocab,
                          std::vector<std::pair<std::string, std::string>> merges,
                          const std::map<std::string, AddedToken>& specials) {
  build_byte_level_pipeline(s, std::move(vocab), std::move(merges), /*roberta=*/false, specials);
  NormalizerStep nfc;
  nfc.kind = NormalizerStep::Kind::Nfc;
  s.normalizer.emplace(std::vector<NormalizerStep>{nfc});
  s.byte_level = {false, true, false, SplitPattern::Qwen2};
}

// Reads a special-token value: a string, an AddedToken dict, or null.
std::optional<AddedToken> special_value(const json& v, const AddedToken* fallback, const std::string& source) {
  if (v.is_null()) return std::nullopt;
  AddedToken t = parse_added_token(v, true, source);
  if (v.is_string() && fallback) {  // a plain string keeps the class default's flags
    AddedToken f = *fallback;
    f.content = t.content;
    return f;
  }
  t.special = true;
  return t;
}

const char* kSpecialKeys[] = {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};

void apply_special_keys(const json& j, std::map<std::string, AddedToken>& specials, const std::string& source) {
  for (const char* key : kSpecialKeys) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    auto old = specials.find(key);
    std::optional<AddedToken> v = special_value(*it, old == specials.end() ? nullptr : &old->second, source);
    if (v) specials[key] = *v;
    else specials.erase(key);
  }
}

std::vector<AddedToken> additional_special_tokens(const json& j, const std::string& source) {
  std::vector<AddedToken> out;
  auto it = j.find("additional_special_tokens");
  if (it == j.end() || !it->is_array()) return out;
  for (const json& v : *it) {
    AddedToken t = parse_added_token(v, true, source);
    t.special = true;
    if (v.is_string()) t.normalized = false;
    out.push_back(t);
  }
  return out;
}

// Applies tokenizer_config kwargs over the pipeline (v4 BertTokenizerFast / GPT2TokenizerFast /
// RobertaTokenizerFast __init__). Only keys present in the config are applied; see tokenizer.h.
void apply_pipeline_kwargs(TokenizerState& s, const json& cfg) {
  if (s.normalizer && s.normalizer->bert_options() &&
      (s.settings.family == TokenizerFamily::Bert || s.settings.family == TokenizerFamily::DistilBert)) {
    BertNormalizerOptions o = *s.normalizer->bert_options();
    if (cfg.contains("do_lower_case") && cfg["do_lower_case"].is_boolean()) o.lowercase = cfg["do_lower_case"].get<bool>();
    if (cfg.contains("strip_accents")) {
      if (cfg["strip_accents"].is_null()) o.strip_accents.reset();
      else if (cfg["strip_accents"].is_boolean()) o.strip_accents = cfg["strip_accents"].get<bool>();
    }
    if (cfg.contains("tokenize_chinese_chars") && cfg["tokenize_chinese_chars"].is_boolean())
      o.handle_chinese_chars = cfg["tokenize_chinese_chars"].get<bool>();
    s.normalizer = Normalizer::bert(o);
  }
  if (s.pre_tokenizer == PreTokenizerKind::ByteLevel && cfg.contains("add_prefix_space") &&
      cfg["add_prefix_space"].is_boolean() &&
      (s.settings.family == TokenizerFamily::Gpt2 || s.settings.family == TokenizerFamily::Roberta)) {
    s.set_add_prefix_space(cfg["add_prefix_space"].get<bool>());
  }
}

int64_t parse_model_max_length(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) return Tokenizer::kNoModelMaxLength;
  if (v.is_number_float()) {
    const double d = v.get<double>();
    return d >= 1e18 ? Tokenizer::kNoModelMaxLength : static_cast<int64_t>(d);
  }
  return Tokenizer::kNoModelMaxLength;
}

// Special tokens that transformers registers as added tokens if the pipeline does not already have them.
void register_special_tokens(TokenizerState& s, const std::vector<AddedToken>& extra) {
  std::vector<AddedToken> missing;
  for (const auto& [key, t] : s.settings.special_tokens)
    if (s.added.token_to_id(t.content) < 0) missing.push_back(t);
  for (const AddedToken& t : extra)
    if (s.added.token_to_id(t.content) < 0) missing.push_back(t);
  if (!missing.empty()) s.add_tokens(missing);
}

}  // namespace

namespace {
Tokenizer load_pretrained_files(const std::string& path);
}  // namespace

// A value of the wrong JSON type anywhere in the tokenizer files (tokenizer_config.json's
// {"added_tokens_decoder": {"4": {"content": true}}}, found by fuzz/tokenizer_files_fuzz.cpp) is an error naming
// the path, never an escaping nlohmann exception.
Tokenizer load_pretrained(const std::string& path) {
  try {
    return load_pretrained_files(path);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": unexpected structure in the tokenizer files: ", e.what());
  }
}

namespace {

Tokenizer load_pretrained_files(const std::string& path) {
  auto state = std::make_unique<TokenizerState>();
  TokenizerState& s = *state;
  const fs::path p(path);
  ACCENT_CHECK(fs::exists(p), "tokenizer path '", path, "' does not exist");
  if (!fs::is_directory(p)) {  // a bare tokenizer.json
    read_tokenizer_json(read_file(path), path, s);
    s.settings.family = family_from_pipeline(s);
    s.settings.tokenizer_class = default_class_name(s.settings.family);
    s.settings.model_input_names = default_model_input_names(s.settings.family);
    // Special tokens: the family defaults that exist as added tokens, else [PAD]/<pad> if present.
    for (auto& [key, t] : default_special_tokens(s.settings.family))
      if (s.token_to_id(t.content) >= 0) s.settings.special_tokens[key] = t;
    if (!s.settings.special_tokens.count("pad_token"))
      for (const char* pad : {"[PAD]", "<pad>"})
        if (s.added.token_to_id(pad) >= 0) {
          s.settings.special_tokens["pad_token"] = *s.added.token_for_id(s.added.token_to_id(pad));
          break;
        }
    return Tokenizer(std::move(state));
  }

  const std::optional<json> cfg_opt = read_json_if_exists(p / "tokenizer_config.json");
  const json cfg = cfg_opt.value_or(json::object());
  const std::optional<json> smap = read_json_if_exists(p / "special_tokens_map.json");
  const std::optional<json> model_cfg = read_json_if_exists(p / "config.json");
  const std::string cfg_source = (p / "tokenizer_config.json").string();
  const std::string smap_source = (p / "special_tokens_map.json").string();

  // Family: tokenizer_class, else config.json model_type, else the pipeline / the vocabulary files.
  std::optional<TokenizerFamily> family;
  if (cfg.contains("tokenizer_class") && cfg["tokenizer_class"].is_string()) {
    family = family_from_class(cfg["tokenizer_class"].get<std::string>());
    s.settings.tokenizer_class = cfg["tokenizer_class"].get<std::string>();
    if (s.settings.tokenizer_class.size() > 4 &&
        s.settings.tokenizer_class.compare(s.settings.tokenizer_class.size() - 4, 4, "Fast") == 0 &&
        s.settings.tokenizer_class != "PreTrainedTokenizerFast")
      s.settings.tokenizer_class.resize(s.settings.tokenizer_class.size() - 4);
  }
  if (!family && model_cfg && model_cfg->contains("model_type") && (*model_cfg)["model_type"].is_string())
    family = family_from_model_type((*model_cfg)["model_type"].get<std::string>());

  const fs::path tokenizer_json_path = p / "tokenizer.json";
  const bool has_json = fs::exists(tokenizer_json_path);
  if (has_json) {
    read_tokenizer_json(read_file(tokenizer_json_path.string()), tokenizer_json_path.string(), s);
    if (!family) family = family_from_pipeline(s);
  } else if (fs::exists(p / "vocab.txt")) {
    if (!family) family = TokenizerFamily::Bert;
  } else if (fs::exists(p / "vocab.json") && fs::exists(p / "merges.txt")) {
    if (!family) {  // RoBERTa vocabularies carry <s>, </s>, <pad>
      const auto vocab = read_vocab_json((p / "vocab.json").string());
      bool s_tok = false, pad_tok = false;
      for (const auto& [t, id] : vocab) s_tok |= t == "<s>", pad_tok |= t == "<pad>";
      family = (s_tok && pad_tok) ? TokenizerFamily::Roberta : TokenizerFamily::Gpt2;
    }
  } else {
    fail("tokenizer directory '", path, "' has neither tokenizer.json, vocab.txt nor vocab.json + merges.txt");
  }
  s.settings.family = *family;
  if (s.settings.tokenizer_class.empty()) s.settings.tokenizer_class = default_class_name(*family);

  // Special tokens: class defaults < tokenizer_config.json < special_tokens_map.json.
  s.settings.special_tokens = default_special_tokens(*family);
  apply_special_keys(cfg, s.settings.special_tokens, cfg_source);
  std::vector<AddedToken> extra = additional_special_tokens(cfg, cfg_source);
  if (smap) {
    apply_special_keys(*smap, s.settings.special_tokens, smap_source);
    for (const AddedToken& t : additional_special_tokens(*smap, smap_source)) extra.push_back(t);
  }

  if (!has_json) {
    if (fs::exists(p / "vocab.txt")) {
      ACCENT_CHECK(*family == TokenizerFamily::Bert || *family == TokenizerFamily::DistilBert || *family == TokenizerFamily::Custom,
                   path, ": vocab.txt found but tokenizer_class says a byte-level BPE tokenizer");
      build_bert_pipeline(s, read_vocab_txt((p / "vocab.txt").string()), s.settings.special_tokens);
    } else if (*family == TokenizerFamily::Qwen2) {
      build_qwen2_pipeline(s, read_vocab_json((p / "vocab.json").string()), read_merges_txt((p / "merges.txt").string()),
                           s.settings.special_tokens);
    } else {
      build_byte_level_pipeline(s, read_vocab_json((p / "vocab.json").string()),
                                read_merges_txt((p / "merges.txt").string()), *family == TokenizerFamily::Roberta,
                                s.settings.special_tokens);
    }
  }
  apply_pipeline_kwargs(s, cfg);
  if (!has_json && s.normalizer) s.add_tokens({});  // normalizer changed: refresh normalized patterns

  // Added tokens known to the config (v4.34+ added_tokens_decoder, legacy added_tokens.json), then specials.
  if (cfg.contains("added_tokens_decoder") && cfg["added_tokens_decoder"].is_object()) {
    std::vector<std::pair<int64_t, AddedToken>> decl;
    for (auto it = cfg["added_tokens_decoder"].begin(); it != cfg["added_tokens_decoder"].end(); ++it)
      decl.emplace_back(parse_token_id(parse_json(it.key(), cfg_source + ": added_tokens_decoder key"),
                                       it.key(), cfg_source + ": added_tokens_decoder"),
                        parse_added_token(it.value(), false, cfg_source));
    std::sort(decl.begin(), decl.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [id, t] : decl)
      if (s.added.token_to_id(t.content) < 0) s.add_tokens({t});
  }
  if (const std::optional<json> added = read_json_if_exists(p / "added_tokens.json"); added && added->is_object()) {
    std::vector<std::pair<int64_t, std::string>> decl;
    for (auto it = added->begin(); it != added->end(); ++it)
      decl.emplace_back(parse_token_id(it.value(), it.key(), (p / "added_tokens.json").string()), it.key());
    std::sort(decl.begin(), decl.end());
    for (const auto& [id, content] : decl)
      if (s.token_to_id(content) < 0) {
        AddedToken t;
        t.content = content;
        s.add_tokens({t});
      }
  }
  register_special_tokens(s, extra);
  if (s.normalizer) s.add_tokens({});  // kwargs may have changed the normalizer: rebuild normalized patterns

  s.settings.model_max_length =
      cfg.contains("model_max_length") ? parse_model_max_length(cfg["model_max_length"]) : Tokenizer::kNoModelMaxLength;
  if (cfg.contains("model_input_names") && cfg["model_input_names"].is_array())
    s.settings.model_input_names = cfg["model_input_names"].get<std::vector<std::string>>();
  else
    s.settings.model_input_names = default_model_input_names(*family);
  if (*family == TokenizerFamily::Qwen2) s.settings.clean_up_tokenization_spaces = false;  // the class default
  if (cfg.contains("clean_up_tokenization_spaces") && cfg["clean_up_tokenization_spaces"].is_boolean())
    s.settings.clean_up_tokenization_spaces = cfg["clean_up_tokenization_spaces"].get<bool>();
  return Tokenizer(std::move(state));
}

}  // namespace

Tokenizer build_gpt2(const std::string& vocab_json, const std::string& merges_txt, const Tokenizer::Gpt2Options& o) {
  auto state = std::make_unique<TokenizerState>();
  TokenizerState& s = *state;
  s.settings.family = o.bert_template ? TokenizerFamily::Custom : TokenizerFamily::Gpt2;
  s.settings.tokenizer_class = default_class_name(s.settings.family);
  s.settings.special_tokens = default_special_tokens(TokenizerFamily::Gpt2);
  build_byte_level_pipeline(s, read_vocab_json(vocab_json), read_merges_txt(merges_txt), false, s.settings.special_tokens);
  s.byte_level.add_prefix_space = o.add_prefix_space;
  std::vector<AddedToken> specials = {s.settings.special_tokens.at("eos_token")};
  for (const std::string& t : o.extra_special_tokens) specials.push_back(special(t, false));
  s.add_tokens(specials);
  auto set_special = [&](const char* key, const std::optional<std::string>& content) {
    if (!content) return;
    const int32_t id = s.token_to_id(*content);
    ACCENT_CHECK(id >= 0, "from_gpt2_files: ", key, " '", *content, "' is neither in vocab.json nor an extra token");
    const AddedToken* t = s.added.token_for_id(id);
    s.settings.special_tokens[key] = t ? *t : special(*content, false);
  };
  set_special("pad_token", o.pad_token);
  set_special("mask_token", o.mask_token);
  set_special("unk_token", o.unk_token);
  if (o.bert_template) {
    set_special("cls_token", o.cls_token);
    set_special("sep_token", o.sep_token);
    const int32_t cls_id = s.token_to_id(o.cls_token), sep_id = s.token_to_id(o.sep_token);
    PostProcessor p;
    p.kind = PostProcessor::Kind::Template;
    p.single = {{true, o.cls_token, 0}, {false, "A", 0}, {true, o.sep_token, 0}};
    p.pair = {{true, o.cls_token, 0}, {false, "A", 0}, {true, o.sep_token, 0}, {false, "B", 1}, {true, o.sep_token, 1}};
    p.special_tokens = {{o.cls_token, {cls_id}, {o.cls_token}}, {o.sep_token, {sep_id}, {o.sep_token}}};
    std::sort(p.special_tokens.begin(), p.special_tokens.end(),
              [](const TemplateSpecialToken& a, const TemplateSpecialToken& b) { return a.id < b.id; });
    s.post_processor = p;
  }
  s.settings.model_max_length = o.model_max_length;
  s.settings.model_input_names = default_model_input_names(s.settings.family);
  return Tokenizer(std::move(state));
}

namespace {

// Python json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n" (keys of json objects are sorted).
std::string python_json(const json& j) { return j.dump(2) + "\n"; }

json special_json(const AddedToken& t, bool as_object) {
  if (!as_object) return t.content;
  return json{{"content", t.content}, {"lstrip", t.lstrip}, {"normalized", t.normalized}, {"rstrip", t.rstrip},
              {"single_word", t.single_word}};
}

}  // namespace

void save_pretrained_files(const TokenizerState& s, const std::string& dir) {
  std::filesystem::create_directories(dir);
  const fs::path d(dir);
  const TokenizerFamily family = s.settings.family;
  const bool bpe_family =
      family == TokenizerFamily::Roberta || family == TokenizerFamily::Gpt2 || family == TokenizerFamily::Qwen2;
  const size_t model_size = s.model_vocab_size();

  // tokenizer.json
  write_file_atomic((d / "tokenizer.json").string(), tokenizer_json(s).dump(2));

  // vocabulary files of the slow tokenizer
  if (s.wordpiece) {
    write_file_atomic((d / "vocab.txt").string(), [&](std::ostream& os) {
      for (const auto& [token, id] : s.wordpiece->vocab_by_id()) os << token << '\n';
    });
  } else if (s.bpe) {
    json vocab = json::object();
    for (const auto& [token, id] : s.bpe->vocab_by_id()) vocab[token] = id;
    write_file_atomic((d / "vocab.json").string(), python_json(vocab));
    write_file_atomic((d / "merges.txt").string(), [&](std::ostream& os) {
      os << "#version: 0.2\n";
      for (const auto& [a, b] : s.bpe->merges()) os << a << ' ' << b << '\n';
    });
  }

  // added_tokens.json: tokens beyond the model vocabulary
  json added_beyond = json::object();
  for (const auto& [id, t] : s.added.sorted_by_id())
    if (static_cast<size_t>(id) >= model_size) added_beyond[t.content] = id;
  if (!added_beyond.empty()) write_file_atomic((d / "added_tokens.json").string(), python_json(added_beyond));

  // special_tokens_map.json
  json smap = json::object();
  for (const auto& [key, t] : s.settings.special_tokens) smap[key] = special_json(t, bpe_family);
  std::vector<std::string> additional;
  std::vector<std::string> known;
  for (const auto& [key, t] : s.settings.special_tokens) known.push_back(t.content);
  for (const auto& [id, t] : s.added.sorted_by_id())
    if (t.special && std::find(known.begin(), known.end(), t.content) == known.end()) additional.push_back(t.content);
  if (!additional.empty()) smap["additional_special_tokens"] = additional;
  write_file_atomic((d / "special_tokens_map.json").string(), python_json(smap));

  // tokenizer_config.json
  json cfg = json::object();
  json decoder = json::object();
  for (const auto& [id, t] : s.added.sorted_by_id())
    decoder[std::to_string(id)] = json{{"content", t.content}, {"lstrip", t.lstrip}, {"normalized", t.normalized},
                                       {"rstrip", t.rstrip}, {"single_word", t.single_word}, {"special", t.special}};
  cfg["added_tokens_decoder"] = decoder;
  cfg["clean_up_tokenization_spaces"] = s.settings.clean_up_tokenization_spaces;
  for (const auto& [key, t] : s.settings.special_tokens) cfg[key] = t.content;
  if (!additional.empty()) cfg["additional_special_tokens"] = additional;
  cfg["tokenizer_class"] = s.settings.tokenizer_class.empty() ? default_class_name(family) : s.settings.tokenizer_class;
  const bool unbounded = s.settings.model_max_length == Tokenizer::kNoModelMaxLength;
  cfg["model_max_length"] = unbounded ? json("@VERY_LARGE_INTEGER@") : json(s.settings.model_max_length);
  if (s.normalizer && s.normalizer->bert_options()) {
    const BertNormalizerOptions& o = *s.normalizer->bert_options();
    cfg["do_lower_case"] = o.lowercase;
    cfg["strip_accents"] = o.strip_accents ? json(*o.strip_accents) : json(nullptr);
    cfg["tokenize_chinese_chars"] = o.handle_chinese_chars;
  }
  if (s.pre_tokenizer == PreTokenizerKind::ByteLevel) cfg["add_prefix_space"] = s.byte_level.add_prefix_space;
  if (bpe_family) cfg["errors"] = "replace";
  if (family == TokenizerFamily::Roberta) cfg["trim_offsets"] = true;
  if (family == TokenizerFamily::Gpt2) {
    cfg["add_bos_token"] = false;
    if (!s.settings.special_tokens.count("pad_token")) cfg["pad_token"] = nullptr;
  }
  if (s.settings.model_input_names != default_model_input_names(family) || family == TokenizerFamily::Custom)
    cfg["model_input_names"] = s.settings.model_input_names;
  std::string cfg_text = python_json(cfg);
  if (unbounded) {
    const std::string placeholder = "\"@VERY_LARGE_INTEGER@\"";
    cfg_text.replace(cfg_text.find(placeholder), placeholder.size(), kVeryLargeInteger);
  }
  write_file_atomic((d / "tokenizer_config.json").string(), cfg_text);
}

}  // namespace text

Tokenizer Tokenizer::from_pretrained(const std::string& path) { return text::load_pretrained(path); }

Tokenizer Tokenizer::from_gpt2_files(const std::string& vocab_json, const std::string& merges_txt,
                                     const Gpt2Options& options) {
  return text::build_gpt2(vocab_json, merges_txt, options);
}

void Tokenizer::save_pretrained(const std::string& dir) const { text::save_pretrained_files(*state_, dir); }

std::string Tokenizer::to_tokenizer_json() const { return text::tokenizer_json(*state_).dump(2); }

}  // namespace accent
