// run_qa.py's feature preparation on the first two articles of the SQuAD v1.1 dev set (1057 questions) and the
// hand-made v2.0 file, with the real bert-base-uncased and roberta-base tokenizers: every answer label must point
// back (through the offsets) at text that holds the answer, CLS labels only where the answer is not in the window,
// consecutive windows overlap by doc_stride context tokens, and validation offsets are kept for context tokens only.
#include <gtest/gtest.h>

#include <cstdio>

#include "core/error.h"
#include "data/qa_features.h"
#include "data/squad_data.h"
#include "error_text.h"
#include "test_tokenizers.h"

namespace accent {
namespace {

using accent::testing::bert;
using accent::testing::roberta;

using testing::error_of;

const std::string kQa = std::string(ACCENT_TEST_DATA_DIR) + "/question-answering/";

const std::vector<SquadExample>& squad_v1() {
  static const std::vector<SquadExample> e = read_squad_file(kQa + "squad-v1.1/dev-v1.1-first2.json").examples;
  return e;
}

struct LabelCounts {
  size_t features = 0, with_answer = 0, cls = 0, past_context = 0, examples_answered = 0;
};

// Checks every label of `out` against its example and counts them.
LabelCounts check_labels(const std::vector<SquadExample>& examples, const QaTrainFeatures& out,
                         const QaDataArguments& args, int64_t expected_length) {
  LabelCounts c;
  const int32_t context_sequence = args.pad_on_right ? 1 : 0;
  EXPECT_EQ(out.features.size(), out.overflow_to_sample_mapping.size());
  std::vector<bool> answered(examples.size(), false);
  int64_t previous_example = -1;
  for (size_t i = 0; i < out.features.size(); ++i) {
    const QaTrainFeature& f = out.features[i];
    const int64_t e = out.overflow_to_sample_mapping[i];
    EXPECT_GE(e, previous_example) << "features come in example order";
    previous_example = e;
    const SquadExample& ex = examples[static_cast<size_t>(e)];
    ++c.features;
    if (expected_length > 0) EXPECT_EQ(static_cast<int64_t>(f.input_ids.size()), expected_length);
    EXPECT_EQ(f.input_ids.size(), f.offsets.size());
    EXPECT_EQ(f.input_ids.size(), f.attention_mask.size());
    // Context token range of the window and the characters it covers.
    int64_t first = -1, last = -1;
    for (size_t t = 0; t < f.sequence_ids.size(); ++t)
      if (f.sequence_ids[t] == context_sequence) {
        if (first < 0) first = static_cast<int64_t>(t);
        last = static_cast<int64_t>(t);
      }
    EXPECT_GE(first, 0);
    const int64_t window_begin = f.offsets[first].first, window_end = f.offsets[last].second;
    if (ex.is_impossible) {
      EXPECT_EQ(f.start_position, f.cls_index);
      EXPECT_EQ(f.end_position, f.cls_index);
      EXPECT_FALSE(f.answer_in_window);
      ++c.cls;
      continue;
    }
    const int64_t start_char = ex.answer_starts_chars[0];
    const int64_t end_char = start_char + utf8_code_points(ex.answer_texts[0]);
    const bool inside = window_begin <= start_char && window_end >= end_char;
    EXPECT_EQ(f.answer_in_window, inside) << ex.id << " feature " << i;
    if (!inside) {
      EXPECT_EQ(f.start_position, f.cls_index);
      EXPECT_EQ(f.end_position, f.cls_index);
      ++c.cls;
      continue;
    }
    ++c.with_answer;
    answered[static_cast<size_t>(e)] = true;
    if (f.start_past_context) {
      // run_qa.py's edge case: the answer starts in the last context token of the window.
      ++c.past_context;
      std::printf("  run_qa.py edge case: %s, answer \"%s\" starts in the window's last context token %lld\n",
                  ex.id.c_str(), ex.answer_texts[0].c_str(), static_cast<long long>(last));
      EXPECT_LE(f.offsets[last].first, start_char) << ex.id;
      EXPECT_EQ(f.start_position, static_cast<int64_t>(f.input_ids.size()) - 1) << ex.id;
      continue;
    }
    if (!(first <= f.start_position && f.start_position <= f.end_position && f.end_position <= last)) {
      ADD_FAILURE() << ex.id << " feature " << i << ": start " << f.start_position << ", end " << f.end_position
                    << ", context tokens " << first << ".." << last;
      continue;
    }
    const std::string span = utf8_slice(ex.context, f.offsets[f.start_position].first, f.offsets[f.end_position].second);
    EXPECT_NE(span.find(ex.answer_texts[0]), std::string::npos)
        << ex.id << ": tokens " << f.start_position << ".." << f.end_position << " read \"" << span
        << "\", answer \"" << ex.answer_texts[0] << "\"";
    // The span is the tightest: dropping its first or last token loses part of the answer.
    EXPECT_LE(f.offsets[f.start_position].first, start_char);
    EXPECT_GE(f.offsets[f.end_position].second, end_char);
    if (f.start_position < f.end_position) {
      EXPECT_GT(f.offsets[f.start_position + 1].first, start_char);
      EXPECT_LT(f.offsets[f.end_position - 1].second, end_char);
    }
  }
  for (bool a : answered) c.examples_answered += a;
  return c;
}

void print_counts(const char* what, const LabelCounts& c) {
  std::printf("%s: %zu features, %zu windows with the answer, %zu CLS-pointed, %zu past the context, "
              "%zu examples answered in some window\n",
              what, c.features, c.with_answer, c.cls, c.past_context, c.examples_answered);
}

TEST(QaFeatures, DefaultsAreRunQas) {
  const QaDataArguments args;
  EXPECT_EQ(args.max_seq_length, 384);
  EXPECT_EQ(args.doc_stride, 128);
  EXPECT_TRUE(args.pad_to_max_length);
  EXPECT_EQ(args.max_answer_length, 30);
  EXPECT_EQ(args.n_best_size, 20);
  EXPECT_FALSE(args.version_2_with_negative);
  EXPECT_EQ(args.null_score_diff_threshold, 0.0);
}

// The first question: "Which NFL team represented the AFC at Super Bowl 50?" -> "Denver Broncos" (char 177).
TEST(QaFeatures, FirstQuestionLabelsDenverBroncos) {
  const std::vector<SquadExample> one(squad_v1().begin(), squad_v1().begin() + 1);
  const QaTrainFeatures out = prepare_train_features(bert(), one);
  ASSERT_EQ(out.features.size(), 1u);
  const QaTrainFeature& f = out.features[0];
  EXPECT_EQ(f.input_ids.size(), 384u);
  EXPECT_EQ(f.cls_index, 0);
  EXPECT_EQ(bert().id_to_token(f.input_ids[f.start_position]), "denver");
  EXPECT_EQ(bert().id_to_token(f.input_ids[f.end_position]), "broncos");
  EXPECT_EQ(f.end_position, f.start_position + 1);
  EXPECT_EQ(f.sequence_ids[f.start_position], 1);
}

TEST(QaFeatures, SquadV11BertDefaults) {
  const QaDataArguments args;
  const QaTrainFeatures out = prepare_train_features(bert(), squad_v1(), args);
  const LabelCounts c = check_labels(squad_v1(), out, args, 384);
  print_counts("bert-base-uncased, 384/128", c);
  EXPECT_GE(c.features, squad_v1().size());
  EXPECT_EQ(c.examples_answered, squad_v1().size());
}

// Short windows: most contexts split, so answers fall outside some windows (CLS) and across the overlap.
TEST(QaFeatures, SquadV11ShortWindowsBertAndRoberta) {
  QaDataArguments args;
  args.max_seq_length = 96;
  args.doc_stride = 32;
  for (const Tokenizer* tok : {&bert(), &roberta()}) {
    const QaTrainFeatures out = prepare_train_features(*tok, squad_v1(), args);
    const LabelCounts c = check_labels(squad_v1(), out, args, 96);
    print_counts(tok == &bert() ? "bert-base-uncased, 96/32" : "roberta-base, 96/32", c);
    EXPECT_GT(c.features, 5 * squad_v1().size() / 2);
    EXPECT_GT(c.cls, c.features / 3);
    EXPECT_GT(c.with_answer, squad_v1().size());
    // An answer longer than the overlap can miss every window; none in this data is.
    EXPECT_EQ(c.examples_answered, squad_v1().size());
    // Consecutive windows of one example share doc_stride context tokens.
    size_t overlaps = 0;
    const int32_t cls_id = *tok->token_to_id(*tok->special_token("cls_token"));
    for (size_t i = 0; i + 1 < out.features.size(); ++i) {
      if (out.overflow_to_sample_mapping[i] != out.overflow_to_sample_mapping[i + 1]) continue;
      std::vector<std::pair<int32_t, int32_t>> a, b;
      for (size_t t = 0; t < out.features[i].offsets.size(); ++t)
        if (out.features[i].sequence_ids[t] == 1) a.push_back(out.features[i].offsets[t]);
      for (size_t t = 0; t < out.features[i + 1].offsets.size(); ++t)
        if (out.features[i + 1].sequence_ids[t] == 1) b.push_back(out.features[i + 1].offsets[t]);
      ASSERT_GE(a.size(), 32u);
      ASSERT_GE(b.size(), 32u);
      EXPECT_TRUE(std::equal(a.end() - 32, a.end(), b.begin())) << "feature " << i;
      EXPECT_EQ(out.features[i].input_ids[0], cls_id);
      ++overlaps;
    }
    EXPECT_GT(overlaps, 1000u);
  }
}

// Tokenizers that pad on the left: (context, question), only_first truncation, context = sequence 0.
TEST(QaFeatures, PadOnLeftPutsTheContextFirst) {
  QaDataArguments args;
  args.max_seq_length = 128;
  args.doc_stride = 48;
  args.pad_on_right = false;
  const std::vector<SquadExample> some(squad_v1().begin(), squad_v1().begin() + 200);
  const QaTrainFeatures out = prepare_train_features(bert(), some, args);
  const LabelCounts c = check_labels(some, out, args, 128);
  print_counts("bert-base-uncased, context first, 128/48", c);
  EXPECT_EQ(c.examples_answered, some.size());
  // Left padding: a short window starts with [PAD]s, and CLS follows them.
  size_t padded = 0;
  for (const auto& f : out.features)
    if (f.attention_mask[0] == 0) {
      ++padded;
      EXPECT_EQ(bert().id_to_token(f.input_ids[f.cls_index]), "[CLS]");
      EXPECT_GT(f.cls_index, 0);
    }
  EXPECT_GT(padded, 0u);
}

TEST(QaFeatures, UnanswerableQuestionsPointAtCls) {
  const SquadData data = read_squad_file(kQa + "squad-v2.0/dev-v2.0-handmade.json");
  for (const Tokenizer* tok : {&bert(), &roberta()}) {
    const QaTrainFeatures out = prepare_train_features(*tok, data.examples);
    const LabelCounts c = check_labels(data.examples, out, {}, 384);
    print_counts(tok == &bert() ? "bert, hand-made v2.0" : "roberta, hand-made v2.0", c);
    EXPECT_EQ(c.cls, 3u);
    EXPECT_EQ(c.with_answer, 5u);
  }
}

TEST(QaFeatures, ValidationFeaturesKeepContextOffsetsOnly) {
  QaDataArguments args;
  args.max_seq_length = 96;
  args.doc_stride = 32;
  args.pad_to_max_length = false;
  const std::vector<SquadExample> some(squad_v1().begin(), squad_v1().begin() + 100);
  const QaValidationFeatures out = prepare_validation_features(roberta(), some, args);
  ASSERT_EQ(out.features.size(), out.overflow_to_sample_mapping.size());
  EXPECT_GT(out.features.size(), 200u);
  bool shorter = false;
  for (size_t i = 0; i < out.features.size(); ++i) {
    const QaValidationFeature& f = out.features[i];
    EXPECT_EQ(f.example_id, some[static_cast<size_t>(out.overflow_to_sample_mapping[i])].id);
    EXPECT_LE(f.input_ids.size(), 96u);
    shorter |= f.input_ids.size() < 96u;
    ASSERT_EQ(f.offset_mapping.size(), f.input_ids.size());
    for (size_t t = 0; t < f.offset_mapping.size(); ++t)
      EXPECT_EQ(f.offset_mapping[t].has_value(), f.sequence_ids[t] == 1) << "feature " << i << " token " << t;
    EXPECT_FALSE(f.token_is_max_context.has_value());
  }
  EXPECT_TRUE(shorter) << "without pad_to_max_length the last window of a context is shorter";
}

TEST(QaFeatures, QuestionIsLeftStrippedLikePython) {
  EXPECT_EQ(python_lstrip(" \t\n\x0b\x0c\r\x1c\x1f Who?"), "Who?");
  EXPECT_EQ(python_lstrip("\xC2\xA0\xE3\x80\x80\xE2\x80\x8A\xC2\x85Who? "), "Who? ");  // NBSP, U+3000, U+200A, NEL
  EXPECT_EQ(python_lstrip("\xE2\x80\x8BWho?"), "\xE2\x80\x8BWho?");  // U+200B is not str.isspace()
  EXPECT_EQ(python_lstrip("   "), "");
  SquadExample padded = squad_v1()[0];
  const QaTrainFeatures plain = prepare_train_features(bert(), {padded});
  padded.question = "\xE3\x80\x80   " + padded.question;
  const QaTrainFeatures stripped = prepare_train_features(bert(), {padded});
  EXPECT_EQ(plain.features[0].input_ids, stripped.features[0].input_ids);
}

TEST(QaFeatures, Utf8Helpers) {
  const std::string s = "Caf\xC3\xA9 1895";  // "Café 1895"
  EXPECT_EQ(utf8_code_points(s), 9);
  EXPECT_EQ(utf8_slice(s, 5, 9), "1895");
  EXPECT_EQ(utf8_slice(s, 2, 4), "f\xC3\xA9");
  EXPECT_EQ(utf8_slice(s, 4, 2), "");
  EXPECT_EQ(utf8_slice(s, 7, 100), "95");
}

TEST(QaFeatures, StrideTooLargeIsAnError) {
  QaDataArguments args;
  args.max_seq_length = 64;
  args.doc_stride = 60;
  const std::string message = error_of([&] { prepare_train_features(bert(), {squad_v1()[0]}, args); });
  EXPECT_NE(message.find("56be4db0acb8001400a502ec"), std::string::npos) << message;
  EXPECT_NE(message.find("doc_stride 60"), std::string::npos) << message;
  std::printf("%s\n", message.c_str());
}

}  // namespace
}  // namespace accent
