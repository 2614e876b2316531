// text/decoder.h — from tokens (or ids) back to text, as Hugging Face does it:
//
//   convert_tokens_to_string(tok, tokens)  = transformers PreTrainedTokenizerFast.convert_tokens_to_string: the
//       backend decoder's decode(tokens) (tokenizers `Decoder::decode` = decode_chain joined with ""), or the
//       tokens joined by " " when the tokenizer has no decoder.
//   decode_tokens_backend(tok, ids, skip)  = tokenizers `Tokenizer::decode`: each id to its token (added
//       vocabulary first, then the model; ids neither knows are dropped), special added tokens dropped when
//       `skip_special_tokens`, then the decoder.
//   decode(tok, ids, skip)                 = transformers tokenizer.decode: the backend decode, then
//       clean_up_tokenization when the tokenizer's clean_up_tokenization_spaces is set.
//
// Decoders (the tokenizer.json "decoder" object; TokenizerState::decoder):
//   WordPiece {prefix = "##", cleanup = true} (tokenizers/src/decoders/wordpiece.rs; also what transformers'
//       BertConverter builds for a vocab.txt-only BERT): every token but the first loses a leading `prefix` or,
//       lacking it, gets a " " in front; then, per token, when `cleanup`, wordpiece_cleanup below.
//   ByteLevel (tokenizers/src/pre_tokenizers/byte_level.rs, Decoder impl): a token whose every character is in
//       GPT-2's byte alphabet (bytes_to_unicode) becomes those bytes, any other token its own UTF-8 bytes; the
//       bytes of all tokens are concatenated and decoded lossily (each maximal invalid subpart → U+FFFD, Rust's
//       String::from_utf8_lossy).
//   ByteFallback (decoders/byte_fallback.rs): each run of "<0xXX>" tokens becomes its bytes as one token when they
//       are valid UTF-8, else one U+FFFD per byte.
//   Fuse: all tokens joined into one.   Replace {pattern: String, content}: per token, every occurrence.
//   Strip {content, start, stop}: per token, up to `start` leading and `stop` trailing `content` chars removed.
//   Metaspace {replacement, prepend_scheme}: per token, the replacement char becomes ' ', except on the first
//       token (prepend_scheme not "never") where it is removed.
//   Sequence {decoders}: each decoder's decode_chain in turn.
//   null: no decoder.
// Any other decoder type is an error naming it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.h"

namespace accent {

std::string convert_tokens_to_string(const Tokenizer& tok, const std::vector<std::string>& tokens);

std::string decode_tokens_backend(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special_tokens);

std::string decode(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special_tokens);

// transformers PreTrainedTokenizerBase.clean_up_tokenization, on the whole decoded string, in this order:
// " ." → ".", " ?" → "?", " !" → "!", " ," → ",", " ' " → "'", " n't" → "n't", " 'm" → "'m", " 's" → "'s",
// " 've" → "'ve", " 're" → "'re" (each a left-to-right, non-overlapping replace-all, like Python's str.replace).
std::string clean_up_tokenization(std::string_view text);

// The WordPiece decoder's cleanup (tokenizers decoders/wordpiece.rs `cleanup`), applied to ONE token at a time:
// the clean_up_tokenization list with " do not" → " don't" inserted after " 'm" (before " 's").
std::string wordpiece_cleanup(std::string_view token);

}  // namespace accent
