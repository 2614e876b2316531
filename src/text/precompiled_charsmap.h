// text/precompiled_charsmap.h — SentencePiece's normalization rules as a "Precompiled" normalizer carries them
// (the precompiled_charsmap of a .model file, base64 in tokenizer.json), read as Hugging Face's spm_precompiled
// crate reads them. The blob is [u32 trie size in bytes][trie: u32 units, a Darts double array keyed by bytes]
// [normalized strings, each ended by '\0']; a key's value is the offset of its replacement in the strings.
//
// transform(chunk) looks up the SHORTEST prefix of chunk's bytes that is a key (the first leaf met walking the
// trie; a '\0' byte ends the walk) and returns that key's replacement — which then stands for the whole chunk
// (spm_precompiled's behaviour, kept as is). Normalizer "Precompiled" (normalizer.h) applies it per extended
// grapheme cluster of fewer than 6 bytes, else per character.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace accent::text {

class PrecompiledCharsmap {
 public:
  // `blob`: the raw charsmap bytes; accent::Error when the trie size does not fit or the strings are not UTF-8.
  explicit PrecompiledCharsmap(std::string blob);

  std::optional<std::string_view> transform(std::string_view chunk) const;
  const std::string& blob() const { return blob_; }

 private:
  std::string blob_;
  std::vector<uint32_t> trie_;
  std::string normalized_;
};

}  // namespace accent::text
