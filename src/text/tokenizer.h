// text/tokenizer.h — the public tokenizer API of accent: Hugging Face-exact BERT WordPiece and GPT-2/RoBERTa
// byte-level BPE tokenizers, loaded from and saved to the files `transformers` uses (spec tokenizers.md).
//
//   auto tok = accent::Tokenizer::from_pretrained("/path/to/bert-base-uncased");
//   accent::Encoding e = tok.encode("Hello world!", std::nullopt, {.max_length = 128,
//                                   .truncation = accent::TruncationStrategy::LongestFirst});
//
// Behaviour follows the fast (Rust `tokenizers`) pipeline driven by transformers' __call__:
// added/special tokens are matched first, then normalizer → pre-tokenizer → model, then truncation of the raw
// sequences to max_length − num_special_tokens_to_add, then the post-processor template, then padding.
//
// Invalid UTF-8 input is decoded lossily: each maximal invalid subpart becomes U+FFFD (the rule of Rust's
// String::from_utf8_lossy and of Node's Buffer.toString, so the oracle sees the same text). The number of
// replacements is reported in Encoding::replaced_invalid_utf8 (and summed by invalid_utf8_replacements()).
// With BERT the U+FFFD is then deleted by clean_text; byte-level BPE encodes it as the bytes EF BF BD.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace accent {

enum class TruncationStrategy { None, LongestFirst, OnlyFirst, OnlySecond };
enum class Side { Right, Left };
enum class PaddingStrategy { None, Longest, MaxLength };

struct EncodeOptions {
  bool add_special_tokens = true;
  // nullopt → model_max_length when truncating or padding to max_length. As in transformers, giving
  // max_length with truncation None and padding None turns on LongestFirst truncation.
  std::optional<int64_t> max_length;
  TruncationStrategy truncation = TruncationStrategy::None;
  Side truncation_side = Side::Right;
  PaddingStrategy padding = PaddingStrategy::None;
  std::optional<int64_t> pad_to_multiple_of;
  Side padding_side = Side::Right;
  // return_offsets_mapping: fill Encoding::offsets.
  bool return_offsets_mapping = false;
  // return_overflowing_tokens: the tokens truncation cuts off come back as further windows in
  // Encoding::overflowing, each overlapping the previous one by `stride` tokens (tokenizers' Encoding::truncate).
  bool return_overflowing_tokens = false;
  int64_t stride = 0;
};

struct Encoding {
  std::vector<int32_t> ids, type_ids, attention_mask, special_tokens_mask;
  std::vector<std::string> tokens;  // vocabulary strings; an added token shows the matched text (HF)
  // transformers' word_ids(): per token, the index (within its sequence) of the pre-tokenized word it came from
  // — every pre-tokenizer split and every matched added token is one word, counted from 0 in each sequence —
  // or -1 (None) for tokens the post-processor or padding added.
  std::vector<int32_t> word_ids;
  // transformers' sequence_ids(): 0 for tokens of the first text, 1 for the second, -1 (None) for special
  // tokens and padding.
  std::vector<int32_t> sequence_ids;
  // return_offsets_mapping (empty otherwise): per token the [begin, end) range it covers in its own text, in
  // Unicode code points of that text (Python string indices), mapped back through normalization (accents,
  // case, byte-level characters); (0, 0) for special tokens and padding.
  std::vector<std::pair<int32_t, int32_t>> offsets;
  // return_overflowing_tokens: the further windows of this input, in order, each post-processed and padded
  // like this one (tokenizers' Encoding.overflowing; transformers returns [this] + overflowing).
  std::vector<Encoding> overflowing;
  size_t replaced_invalid_utf8 = 0;  // U+FFFD substitutions made while decoding the input(s)
  size_t size() const { return ids.size(); }
};

// Which transformers tokenizer class the files describe (decides defaults, templates and what is saved).
// Qwen2: Qwen2Tokenizer (vocab.json + merges.txt built as transformers' Qwen2Converter: NFC, the Qwen2 Split
// pattern, byte-level BPE).
enum class TokenizerFamily { Bert, DistilBert, Roberta, Gpt2, Qwen2, Custom };

namespace text {
struct TokenizerState;  // the pipeline (text/tokenizer_state.h)
}

class Tokenizer {
 public:
  // `path`: a directory (tokenizer.json and/or vocab.txt | vocab.json+merges.txt, plus tokenizer_config.json,
  // special_tokens_map.json, added_tokens.json, config.json when present) or a bare tokenizer.json.
  // tokenizer_config.json keys override tokenizer.json (do_lower_case, strip_accents, tokenize_chinese_chars,
  // add_prefix_space) when present; absent keys keep the tokenizer.json value.
  static Tokenizer from_pretrained(const std::string& path);

  // Byte-level BPE from GPT-2 style files (vocab.json/encoder.json + merges.txt/vocab.bpe), as
  // GPT2TokenizerFast builds it (ByteLevel pre-tokenizer, no template, <|endoftext|> special).
  // `extra_special_tokens` are appended as special added tokens (ids from vocab_size() upward when new).
  // When `bert_template` is true, a BERT-style TemplateProcessing is installed: single "cls $A sep",
  // pair "cls $A sep $B:1 sep:1", with cls/sep/pad taken from `cls_token`, `sep_token`, `pad_token` (which
  // must be among the vocabulary or the extra tokens); the family becomes Custom (tokenizer_class
  // "PreTrainedTokenizerFast") and model_input_names include token_type_ids.
  struct Gpt2Options {
    std::vector<std::string> extra_special_tokens;  // e.g. {"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"}
    bool bert_template = false;
    std::string cls_token = "[CLS]", sep_token = "[SEP]";
    std::optional<std::string> pad_token;  // e.g. "[PAD]"; GPT-2 has none by default
    std::optional<std::string> mask_token, unk_token;
    bool add_prefix_space = false;
    int64_t model_max_length = 1024;
  };
  static Tokenizer from_gpt2_files(const std::string& vocab_json, const std::string& merges_txt,
                                   const Gpt2Options& options);
  static Tokenizer from_gpt2_files(const std::string& vocab_json, const std::string& merges_txt) {
    return from_gpt2_files(vocab_json, merges_txt, Gpt2Options{});
  }

  Encoding encode(std::string_view text, std::optional<std::string_view> pair = std::nullopt,
                  const EncodeOptions& options = {}) const;
  // Pre-tokenized input (transformers' is_split_into_words=True): each word is tokenized on its own; word_ids
  // give the word's index and offsets are relative to the word. Byte-level tokenizers need add_prefix_space.
  Encoding encode_words(const std::vector<std::string>& words,
                        const std::optional<std::vector<std::string>>& pair = std::nullopt,
                        const EncodeOptions& options = {}) const;
  // Padding Longest pads to the longest encoding of the batch.
  std::vector<Encoding> encode_batch(const std::vector<std::pair<std::string, std::optional<std::string>>>& inputs,
                                     const EncodeOptions& options = {}) const;

  // Writes tokenizer.json, tokenizer_config.json, special_tokens_map.json, the vocabulary files
  // (vocab.txt | vocab.json + merges.txt) and added_tokens.json when tokens beyond the model vocabulary exist,
  // as transformers v4 save_pretrained does (spec tokenizers.md §4–5, pipeline.md §2). Atomic writes.
  void save_pretrained(const std::string& dir) const;
  // The tokenizer.json text alone (pretty-printed like tokenizers' save(pretty=true)).
  std::string to_tokenizer_json() const;

  // from_pretrained(..., add_prefix_space=...) of RobertaTokenizerFast/GPT2TokenizerFast: a space is put before
  // the text (each word, for pre-tokenized input). Only byte-level tokenizers have the setting.
  void set_add_prefix_space(bool add_prefix_space);
  bool add_prefix_space() const;

  int64_t vocab_size() const;  // including added tokens (len(tokenizer))
  std::optional<int32_t> pad_token_id() const;
  // tokenizer_config model_max_length; kNoModelMaxLength when the files do not give one (transformers'
  // VERY_LARGE_INTEGER sentinel: then truncation/padding without max_length are skipped).
  static constexpr int64_t kNoModelMaxLength = INT64_MAX;
  int64_t model_max_length() const;
  bool returns_token_type_ids() const;  // model_input_names contains token_type_ids
  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::string id_to_token(int32_t id) const;  // "" when the id is unknown
  int64_t num_special_tokens_to_add(bool pair) const;
  TokenizerFamily family() const;
  // Special tokens by transformers attribute name ("cls_token", "pad_token", ...), when set.
  std::optional<std::string> special_token(std::string_view name) const;
  // Total U+FFFD substitutions made by this tokenizer's encode calls so far (all threads).
  size_t invalid_utf8_replacements() const;

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  Tokenizer(const Tokenizer&);
  Tokenizer& operator=(const Tokenizer&);
  ~Tokenizer();

  // Internal: wraps a built pipeline.
  explicit Tokenizer(std::unique_ptr<text::TokenizerState> state);
  const text::TokenizerState& state() const { return *state_; }

 private:
  std::unique_ptr<text::TokenizerState> state_;
};

}  // namespace accent
