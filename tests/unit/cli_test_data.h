// Data shared by the CLI tests: real SST-2 rows from tests/data as a text,label CSV, and a tiny BERT to train.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

#include "core/fs.h"
#include "data/csv_writer.h"
#include "io/config.h"

namespace accent::testing {

// The first `n` rows of SST-2 train (tests/data) as text,label with label names "negative"/"positive";
// `one_class` labels every row "positive" (for the one-class error).
inline void write_sst2_csv(const std::filesystem::path& path, size_t n, bool one_class = false) {
  std::ifstream in(std::string(ACCENT_TEST_DATA_DIR) + "/sentiment/sst2/train.tsv");
  std::string line;
  std::getline(in, line);  // header
  std::string out = csv_record({"text", "label"});
  for (size_t i = 0; i < n && std::getline(in, line); ++i) {
    const size_t tab = line.rfind('\t');
    const bool positive = one_class || line.substr(tab + 1) == "1";
    out += csv_record({line.substr(0, tab), positive ? "positive" : "negative"});
  }
  write_file_atomic(path.string(), out);
}

// The shape of a tiny BERT (2 heads; bert-base-uncased's vocabulary).
struct TinyBert {
  int64_t hidden = 32;
  int64_t layers = 2;
  int64_t intermediate = 64;
  int64_t max_positions = 64;
};

// A tiny BERT config without weights (accent initialises it) and bert-base-uncased's real WordPiece vocabulary.
inline void write_tiny_bert(const std::filesystem::path& dir, TinyBert size = {}) {
  const std::string vocab = std::string(ACCENT_TEST_DATA_DIR) + "/vocab/bert-base-uncased/";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(vocab + "vocab.txt", dir / "vocab.txt");
  std::filesystem::copy_file(vocab + "tokenizer_config.json", dir / "tokenizer_config.json");
  ModelConfig c;
  c.model_type = "bert";
  c.architectures = {"BertForMaskedLM"};
  c.vocab_size = 30522;
  c.hidden_size = size.hidden;
  c.num_hidden_layers = size.layers;
  c.num_attention_heads = 2;
  c.intermediate_size = size.intermediate;
  c.max_position_embeddings = size.max_positions;
  c.pad_token_id = 0;
  c.set_num_labels(2);
  save_config((dir / "config.json").string(), c);
}

}  // namespace accent::testing
