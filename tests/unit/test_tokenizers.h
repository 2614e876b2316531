// tests/unit/test_tokenizers.h — the real tokenizers of tests/data/vocab, loaded once per test program.
#pragma once
#include <string>

#include "text/tokenizer.h"

namespace accent::testing {

inline const std::string kTestVocabDir = std::string(ACCENT_TEST_DATA_DIR) + "/vocab/";

inline const Tokenizer& bert() {
  static const Tokenizer t = Tokenizer::from_pretrained(kTestVocabDir + "bert-base-uncased");
  return t;
}
inline const Tokenizer& roberta() {
  static const Tokenizer t = Tokenizer::from_pretrained(kTestVocabDir + "roberta-base");
  return t;
}
inline const Tokenizer& gpt2() {
  static const Tokenizer t = Tokenizer::from_pretrained(kTestVocabDir + "gpt2");
  return t;
}

}  // namespace accent::testing
