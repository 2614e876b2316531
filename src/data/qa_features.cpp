// data/qa_features.cpp — run_qa.py's prepare_train_features / prepare_validation_features (see the header).
#include "data/qa_features.h"

#include <algorithm>

#include "core/error.h"
#include "text/unicode.h"

namespace accent {
namespace {

// Python's str.isspace() for one code point (bidirectional class WS/B/S or category Zs).
bool python_isspace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

std::optional<int32_t> special_token_id(const Tokenizer& tokenizer, const char* name) {
  if (auto token = tokenizer.special_token(name)) return tokenizer.token_to_id(*token);
  return std::nullopt;
}

// The tokenizer call shared by both functions: (question, context) or (context, question), truncating only the
// context, overflowing windows with stride, offsets; padded to max_seq_length when asked. Returns the windows
// in order (the encoding itself, then its overflowing ones, which are moved out of it).
std::vector<Encoding> encode_windows(const Tokenizer& tokenizer, const SquadExample& example,
                                     const QaDataArguments& args) {
  ACCENT_CHECK(args.max_seq_length > 0, "question answering: max_seq_length must be positive, got ",
               args.max_seq_length);
  ACCENT_CHECK(args.doc_stride >= 0, "question answering: doc_stride must be >= 0, got ", args.doc_stride);
  const std::string question = python_lstrip(example.question);
  EncodeOptions options;
  options.max_length = std::min(args.max_seq_length, tokenizer.model_max_length());
  options.truncation = args.pad_on_right ? TruncationStrategy::OnlySecond : TruncationStrategy::OnlyFirst;
  options.padding = args.pad_to_max_length ? PaddingStrategy::MaxLength : PaddingStrategy::None;
  options.padding_side = args.pad_on_right ? Side::Right : Side::Left;
  options.stride = args.doc_stride;
  options.return_overflowing_tokens = true;
  options.return_offsets_mapping = true;
  Encoding encoding;
  try {
    encoding = args.pad_on_right ? tokenizer.encode(question, example.context, options)
                                 : tokenizer.encode(example.context, question, options);
  } catch (const Error& e) {
    fail("question answering: example id \"", example.id, "\" cannot be split into windows of ",
         *options.max_length, " tokens with doc_stride ", args.doc_stride, ": ", e.what());
  }
  std::vector<Encoding> windows;
  std::vector<Encoding> overflowing = std::move(encoding.overflowing);
  encoding.overflowing.clear();
  windows.push_back(std::move(encoding));
  for (auto& w : overflowing) {
    w.overflowing.clear();
    windows.push_back(std::move(w));
  }
  return windows;
}

// run_qa.py's cls_index: the first cls_token_id in input_ids, else the first bos_token_id, else 0.
int64_t cls_index_of(const std::vector<int32_t>& ids, std::optional<int32_t> cls_id, std::optional<int32_t> bos_id) {
  for (auto id : {cls_id, bos_id}) {
    if (!id) continue;
    auto it = std::find(ids.begin(), ids.end(), *id);
    if (it != ids.end()) return it - ids.begin();
  }
  return 0;
}

// Labels one training window (run_qa.py's loop body). `context_sequence` is 1 (question first) or 0.
void label_window(QaTrainFeature& f, const SquadExample& example, int32_t context_sequence) {
  if (example.answer_starts_chars.empty()) {
    f.start_position = f.end_position = f.cls_index;
    return;
  }
  const int64_t start_char = example.answer_starts_chars[0];
  const int64_t end_char = start_char + utf8_code_points(example.answer_texts[0]);
  const auto& seq = f.sequence_ids;
  const auto& offsets = f.offsets;
  const int64_t n = static_cast<int64_t>(seq.size());
  // First and last context token of the window (every window holds at least one: the tokenizer guarantees it).
  int64_t first = 0;
  while (first < n && seq[first] != context_sequence) ++first;
  int64_t last = n - 1;
  while (last >= 0 && seq[last] != context_sequence) --last;
  ACCENT_CHECK(first < n && last >= 0, "question answering: example id \"", example.id,
               "\": a window holds no context token");
  if (!(offsets[first].first <= start_char && offsets[last].second >= end_char)) {
    f.start_position = f.end_position = f.cls_index;
    return;
  }
  int64_t t = first;
  while (t < n && offsets[t].first <= start_char) ++t;
  f.start_position = t - 1;
  f.start_past_context = f.start_position > last;
  t = last;
  // The token before the context is [SEP] or a question token; t >= 0 only guards an empty answer at 0, where
  // run_qa.py would wrap around to offsets[-1].
  while (t >= 0 && offsets[t].second >= end_char) --t;
  f.end_position = t + 1;
  f.answer_in_window = true;
}

}  // namespace

int64_t utf8_code_points(const std::string& s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

std::string utf8_slice(const std::string& s, int64_t begin, int64_t end) {
  const int64_t n = utf8_code_points(s);
  begin = std::clamp<int64_t>(begin, 0, n);
  end = std::clamp<int64_t>(end, 0, n);
  if (end <= begin) return "";
  const int64_t b = utf8_byte_offset(s, begin), e = utf8_byte_offset(s, end);
  return s.substr(static_cast<size_t>(b), static_cast<size_t>(e - b));
}

std::string python_lstrip(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const text::Utf8Step step = text::decode_utf8(s, i);
    if (!step.valid || !python_isspace(step.cp)) break;
    i += step.length;
  }
  return s.substr(i);
}

QaTrainFeatures prepare_train_features(const Tokenizer& tokenizer, const std::vector<SquadExample>& examples,
                                       const QaDataArguments& args) {
  const auto cls_id = special_token_id(tokenizer, "cls_token");
  const auto bos_id = special_token_id(tokenizer, "bos_token");
  const int32_t context_sequence = args.pad_on_right ? 1 : 0;
  QaTrainFeatures out;
  for (size_t e = 0; e < examples.size(); ++e) {
    const SquadExample& example = examples[e];
    ACCENT_CHECK(example.answer_texts.size() == example.answer_starts_chars.size(), "question answering: example id \"",
                 example.id, "\" has ", example.answer_texts.size(), " answer texts but ",
                 example.answer_starts_chars.size(), " answer starts");
    for (Encoding& w : encode_windows(tokenizer, example, args)) {
      QaTrainFeature f;
      f.input_ids = std::move(w.ids);
      f.token_type_ids = std::move(w.type_ids);
      f.attention_mask = std::move(w.attention_mask);
      f.offsets = std::move(w.offsets);
      f.sequence_ids = std::move(w.sequence_ids);
      f.cls_index = cls_index_of(f.input_ids, cls_id, bos_id);
      label_window(f, example, context_sequence);
      out.features.push_back(std::move(f));
      out.overflow_to_sample_mapping.push_back(static_cast<int64_t>(e));
    }
  }
  return out;
}

QaValidationFeatures prepare_validation_features(const Tokenizer& tokenizer,
                                                 const std::vector<SquadExample>& examples,
                                                 const QaDataArguments& args) {
  const int32_t context_sequence = args.pad_on_right ? 1 : 0;
  QaValidationFeatures out;
  for (size_t e = 0; e < examples.size(); ++e) {
    for (Encoding& w : encode_windows(tokenizer, examples[e], args)) {
      QaValidationFeature f;
      f.example_id = examples[e].id;
      f.offset_mapping.resize(w.offsets.size());
      for (size_t k = 0; k < w.offsets.size(); ++k)
        if (w.sequence_ids[k] == context_sequence) f.offset_mapping[k] = w.offsets[k];
      f.input_ids = std::move(w.ids);
      f.token_type_ids = std::move(w.type_ids);
      f.attention_mask = std::move(w.attention_mask);
      f.sequence_ids = std::move(w.sequence_ids);
      out.features.push_back(std::move(f));
      out.overflow_to_sample_mapping.push_back(static_cast<int64_t>(e));
    }
  }
  return out;
}

}  // namespace accent
