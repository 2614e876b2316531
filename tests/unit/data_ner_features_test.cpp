// data_ner_features_test.cpp — data/ner_features.h: run_ner.py's tokenize_and_align_labels on the real WNUT-17
// sentences with bert-base-uncased and roberta-base (add_prefix_space). The expected labels are rebuilt without
// word_ids: each word is tokenized on its own (as is_split_into_words does) to count its sub-tokens, so the label
// must land on exactly the first of them, with the special tokens around the sentence.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/ner_data.h"
#include "data/ner_features.h"
#include "text/tokenizer.h"

namespace accent {
namespace {

const std::string kData = ACCENT_TEST_DATA_DIR;

std::vector<TaggedSentence> wnut(const char* file) {
  return read_conll_file(kData + "/token-classification/wnut17/" + file);
}

int32_t index_of(const std::vector<std::string>& list, const std::string& label) {
  for (size_t i = 0; i < list.size(); ++i)
    if (list[i] == label) return static_cast<int32_t>(i);
  return -1;
}

TEST(BToILabel, RunNerRules) {
  const std::vector<std::string> labels = {"B-B-x", "B-LOC", "B-PER", "B-corp", "I-I-x", "I-LOC", "I-PER", "O"};
  // B-corp has no I-corp: it stays itself; "B-B-x".replace("B-", "I-") is "I-I-x".
  EXPECT_EQ(b_to_i_label_ids(labels), (std::vector<int32_t>{4, 5, 6, 3, 4, 5, 6, 7}));
  EXPECT_THROW(b_to_i_label_ids({"O", "O"}), Error);
}

// Checks every feature against the per-word tokenization; returns {words, tokens, words split in several
// sub-tokens, words without any token}.
struct AlignmentCounts {
  size_t sentences = 0, words = 0, tokens = 0, multi_token_words = 0, empty_words = 0, labelled_tokens = 0;
};

AlignmentCounts check_alignment(const Tokenizer& tok, const std::vector<TaggedSentence>& sentences,
                                const std::vector<std::string>& label_list, bool label_all_tokens) {
  NerFeatureOptions options;
  options.label_all_tokens = label_all_tokens;
  const std::vector<NerFeature> features = tokenize_and_align_labels(tok, sentences, label_list, options);
  EXPECT_EQ(features.size(), sentences.size());
  EncodeOptions word_options;
  word_options.add_special_tokens = false;
  AlignmentCounts c;
  for (size_t s = 0; s < sentences.size(); ++s) {
    const TaggedSentence& sentence = sentences[s];
    std::vector<int32_t> want = {kIgnoredLabelId};  // [CLS] / <s>
    for (size_t w = 0; w < sentence.tokens.size(); ++w) {
      const size_t pieces = tok.encode_words({sentence.tokens[w]}, std::nullopt, word_options).size();
      const std::string& tag = sentence.tags[w];
      const bool begins = tag.rfind("B-", 0) == 0 && index_of(label_list, "I-" + tag.substr(2)) >= 0;
      const int32_t later = label_all_tokens ? index_of(label_list, begins ? "I-" + tag.substr(2) : tag)
                                             : kIgnoredLabelId;
      for (size_t p = 0; p < pieces; ++p) want.push_back(p == 0 ? index_of(label_list, tag) : later);
      c.multi_token_words += pieces > 1;
      c.empty_words += pieces == 0;
    }
    want.push_back(kIgnoredLabelId);  // [SEP] / </s>
    const NerFeature& f = features[s];
    EXPECT_EQ(f.labels.size(), f.encoding.size());
    EXPECT_EQ(f.labels, want) << "sentence at line " << sentence.line;
    ++c.sentences;
    c.words += sentence.tokens.size();
    c.tokens += f.encoding.size();
    for (int32_t l : f.labels) c.labelled_tokens += l != kIgnoredLabelId;
  }
  return c;
}

void run_wnut(const Tokenizer& tok, const char* name) {
  std::vector<TaggedSentence> sentences = wnut("wnut17train.conll");
  const std::vector<std::string> label_list = accent::label_list(sentences);
  ASSERT_EQ(label_list.size(), 13u);
  for (TaggedSentence& s : wnut("emerging.dev.conll")) sentences.push_back(std::move(s));
  for (bool all : {false, true}) {
    const AlignmentCounts c = check_alignment(tok, sentences, label_list, all);
    std::printf("[ner_features] %-17s label_all_tokens=%d: %zu sentences, %zu words, %zu tokens, %zu labelled tokens, "
                "%zu words in several sub-tokens, %zu words without a token\n",
                name, all, c.sentences, c.words, c.tokens, c.labelled_tokens, c.multi_token_words, c.empty_words);
    EXPECT_GT(c.multi_token_words, 1000u);
    if (!all) EXPECT_EQ(c.labelled_tokens, c.words - c.empty_words);
  }
}

TEST(TokenizeAndAlignLabels, Wnut17BertBaseUncased) {
  run_wnut(Tokenizer::from_pretrained(kData + "/vocab/bert-base-uncased"), "bert-base-uncased");
}

TEST(TokenizeAndAlignLabels, Wnut17RobertaBaseAddPrefixSpace) {
  Tokenizer tok = Tokenizer::from_pretrained(kData + "/vocab/roberta-base");
  tok.set_add_prefix_space(true);
  run_wnut(tok, "roberta-base");
}

TEST(TokenizeAndAlignLabels, HandMadeSentence) {
  const Tokenizer tok = Tokenizer::from_pretrained(kData + "/vocab/bert-base-uncased");
  const std::vector<std::string> labels = {"B-person", "I-person", "O"};
  TaggedSentence s{{"Johanssonberg", "went", "home"}, {"B-person", "O", "O"}, 1, false};
  NerFeatureOptions options;
  const NerFeature plain = tokenize_and_align_labels(tok, s, labels, options);
  ASSERT_EQ(plain.encoding.tokens,
            (std::vector<std::string>{"[CLS]", "johansson", "##berg", "went", "home", "[SEP]"}));
  EXPECT_EQ(plain.labels, (std::vector<int32_t>{-100, 0, -100, 2, 2, -100}));
  options.label_all_tokens = true;
  EXPECT_EQ(tokenize_and_align_labels(tok, s, labels, options).labels,
            (std::vector<int32_t>{-100, 0, 1, 2, 2, -100}));
}

TEST(TokenizeAndAlignLabels, TruncationAndPadding) {
  const Tokenizer tok = Tokenizer::from_pretrained(kData + "/vocab/bert-base-uncased");
  const std::vector<TaggedSentence> sentences = wnut("emerging.dev.conll");
  const std::vector<std::string> labels = label_list(sentences);
  NerFeatureOptions options;
  options.max_seq_length = 16;
  options.pad_to_max_length = true;
  size_t truncated = 0, padded = 0;
  for (const NerFeature& f : tokenize_and_align_labels(tok, sentences, labels, options)) {
    ASSERT_EQ(f.encoding.size(), 16u);
    ASSERT_EQ(f.labels.size(), 16u);
    for (size_t t = 0; t < 16; ++t)
      if (f.encoding.word_ids[t] < 0) EXPECT_EQ(f.labels[t], kIgnoredLabelId);
    truncated += f.encoding.ids[15] == *tok.token_to_id("[SEP]") && f.encoding.word_ids[14] >= 0;
    padded += f.encoding.attention_mask[15] == 0;
  }
  std::printf("[ner_features] max_seq_length 16: %zu full features, %zu padded\n", truncated, padded);
  EXPECT_GT(truncated, 100u);
  EXPECT_GT(padded, 10u);
  // Unpadded, truncated features keep the labels of the words they keep: the same as the full feature's prefix.
  options.pad_to_max_length = false;
  size_t compared = 0;
  for (const TaggedSentence& s : sentences) {
    const NerFeature full = tokenize_and_align_labels(tok, s, labels, NerFeatureOptions{});
    if (full.labels.size() <= 16) continue;
    const NerFeature cut = tokenize_and_align_labels(tok, s, labels, options);
    ASSERT_EQ(cut.labels.size(), 16u);
    EXPECT_TRUE(std::equal(cut.labels.begin(), cut.labels.end() - 1, full.labels.begin())) << "line " << s.line;
    ++compared;
  }
  std::printf("[ner_features] %zu truncated features keep the labels of the full ones\n", compared);
  EXPECT_GT(compared, 400u);  // sentences longer than 16 tokens (the full features counted above include exact fits)
}

TEST(TokenizeAndAlignLabels, ClearErrors) {
  const Tokenizer bert = Tokenizer::from_pretrained(kData + "/vocab/bert-base-uncased");
  const TaggedSentence s{{"Paris", "is"}, {"B-city", "O"}, 7, false};
  try {
    tokenize_and_align_labels(bert, s, {"B-location", "O"}, NerFeatureOptions{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 7, word 1 'Paris': tag 'B-city' is not in the label list"),
              std::string::npos)
        << e.what();
  }
  const Tokenizer roberta = Tokenizer::from_pretrained(kData + "/vocab/roberta-base");  // no add_prefix_space
  EXPECT_THROW(tokenize_and_align_labels(roberta, s, {"B-city", "O"}, NerFeatureOptions{}), Error);
}

}  // namespace
}  // namespace accent
