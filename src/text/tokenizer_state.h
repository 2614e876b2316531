// text/tokenizer_state.h — the pieces of one tokenizer pipeline (HF TokenizerImpl) plus the transformers-level
// settings from tokenizer_config.json / special_tokens_map.json. Shared by the encoder, the tokenizer.json
// reader/writer and the pretrained-directory loader/saver.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "text/added_vocabulary.h"
#include "text/normalizer.h"
#include "text/bpe.h"
#include "text/tokenizer.h"
#include "text/unigram.h"
#include "text/wordpiece.h"

namespace accent::text {

enum class PreTokenizerKind { None, Bert, ByteLevel, Metaspace };

// A Split pre-tokenizer (behavior Isolated, not inverted) in front of ByteLevel: tokenizer.json's
// Sequence[Split{pattern}, ByteLevel{use_regex: false}] of Llama-3 and Qwen2 (pre_tokenizers.h).
enum class SplitPattern { None, Llama3, Qwen2 };

// Metaspace (tokenizers pre_tokenizers/metaspace.rs): every ' ' becomes `replacement`, which is also put in front
// of a piece that does not start with it (Always; First: only the piece at the start of the text; Never), then
// the piece is split before each replacement character (MergedWithNext) when `split`.
struct MetaspaceOptions {
  enum class Prepend { Always, First, Never };
  std::string replacement = "\u2581";  // one character
  Prepend prepend_scheme = Prepend::Always;
  bool split = true;
};

struct ByteLevelOptions {
  bool add_prefix_space = false;
  bool trim_offsets = true;
  bool use_regex = true;
  SplitPattern split = SplitPattern::None;
};

// One item of a TemplateProcessing template: a special token (id = its name in special_tokens) or a
// sequence (id = "A" | "B"), with the type id it gets.
struct TemplatePiece {
  bool is_special = false;
  std::string id;
  int32_t type_id = 0;
};
struct TemplateSpecialToken {
  std::string id;
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
};

struct PostProcessor {
  enum class Kind { Template, Bert, Roberta, ByteLevel, Sequence };
  Kind kind = Kind::Template;
  // Template
  std::vector<TemplatePiece> single, pair;
  std::vector<TemplateSpecialToken> special_tokens;  // sorted by id (name)
  // Bert / Roberta
  std::pair<std::string, int32_t> sep, cls;
  bool trim_offsets = true;
  bool add_prefix_space = false;  // Roberta and ByteLevel
  bool use_regex = true;          // ByteLevel
  std::vector<PostProcessor> processors;  // Sequence
};

// transformers-level settings (tokenizer_config.json, special_tokens_map.json).
struct PretrainedSettings {
  TokenizerFamily family = TokenizerFamily::Custom;
  std::string tokenizer_class;  // as written in tokenizer_config.json ("BertTokenizer", "ElectraTokenizer", ...)
  int64_t model_max_length = Tokenizer::kNoModelMaxLength;
  std::vector<std::string> model_input_names;
  // Special tokens by attribute name (cls_token, sep_token, pad_token, unk_token, mask_token, bos_token,
  // eos_token) with their AddedToken flags.
  std::map<std::string, AddedToken> special_tokens;
  bool clean_up_tokenization_spaces = true;
};

struct TokenizerState {
  std::optional<Normalizer> normalizer;
  PreTokenizerKind pre_tokenizer = PreTokenizerKind::None;
  ByteLevelOptions byte_level;
  MetaspaceOptions metaspace;
  bool pre_tokenizer_in_sequence = false;  // written as Sequence[that one] (DebertaV2Converter)
  std::shared_ptr<const WordPiece> wordpiece;  // exactly one of the three models is set
  std::shared_ptr<const Bpe> bpe;
  std::shared_ptr<const Unigram> unigram;
  AddedVocabulary added;
  std::optional<PostProcessor> post_processor;
  nlohmann::ordered_json decoder;  // kept as read (or as transformers would build it); written back verbatim
  PretrainedSettings settings;
  mutable std::atomic<size_t> replaced_invalid_utf8{0};

  TokenizerState() = default;
  TokenizerState(const TokenizerState& o)
      : normalizer(o.normalizer), pre_tokenizer(o.pre_tokenizer), byte_level(o.byte_level), metaspace(o.metaspace),
        pre_tokenizer_in_sequence(o.pre_tokenizer_in_sequence),
        wordpiece(o.wordpiece), bpe(o.bpe), unigram(o.unigram), added(o.added), post_processor(o.post_processor), decoder(o.decoder), settings(o.settings),
        replaced_invalid_utf8(o.replaced_invalid_utf8.load()) {}

  int32_t model_token_to_id(std::string_view token) const {
    return wordpiece ? wordpiece->token_to_id(token) : bpe ? bpe->token_to_id(token) : unigram->token_to_id(token);
  }
  size_t model_vocab_size() const {
    return wordpiece ? wordpiece->vocab_size() : bpe ? bpe->vocab_size() : unigram->vocab_size();
  }
  const std::string* model_id_to_token(int32_t id) const {
    return wordpiece ? wordpiece->id_to_token(id) : bpe ? bpe->id_to_token(id) : unigram->id_to_token(id);
  }
  // HF token_to_id: added vocabulary first, then the model.
  int32_t token_to_id(std::string_view token) const {
    const int32_t id = added.token_to_id(token);
    return id >= 0 ? id : model_token_to_id(token);
  }
  // Normalizes a string with this pipeline's normalizer (identity when none).
  std::string normalize(std::string_view text) const;
  // add_prefix_space as RobertaTokenizerFast/GPT2TokenizerFast(add_prefix_space=...) set it: the ByteLevel
  // pre-tokenizer's flag, and a RobertaProcessing post-processor's (its offset trimming keeps the added space).
  void set_add_prefix_space(bool add_prefix_space);
  // Adds tokens to the added vocabulary and rebuilds the matchers.
  void add_tokens(const std::vector<AddedToken>& tokens);
};

// Post-processing (tokenizers/src/processors): number of special tokens added, and the merge of the encodings.
int64_t num_added_tokens(const PostProcessor* processor, bool pair);
// `a` (and `b`) are the truncated sequences with their overflowing windows; special tokens get offsets (0, 0)
// when `with_offsets`.
Encoding post_process(const PostProcessor* processor, Encoding a, std::optional<Encoding> b, bool add_special_tokens,
                      bool with_offsets);

}  // namespace accent::text
