// data/ner_features.cpp — run_ner.py's tokenize_and_align_labels (rules in ner_features.h).
#include "data/ner_features.h"

#include <unordered_map>

#include "core/error.h"

namespace accent {
namespace {

using LabelIds = std::unordered_map<std::string, int32_t>;

LabelIds number_labels(const std::vector<std::string>& label_list) {
  LabelIds ids;
  for (size_t i = 0; i < label_list.size(); ++i) {
    const bool fresh = ids.emplace(label_list[i], static_cast<int32_t>(i)).second;
    ACCENT_CHECK(fresh, "NER label list: label '", label_list[i], "' appears twice (positions ", ids[label_list[i]],
                 " and ", i, ")");
  }
  return ids;
}

// Python's label.replace("B-", "I-"): every occurrence, left to right.
std::string replace_b_with_i(const std::string& label) {
  std::string out;
  for (size_t i = 0; i < label.size();) {
    if (label.compare(i, 2, "B-") == 0) {
      out += "I-";
      i += 2;
    } else {
      out += label[i++];
    }
  }
  return out;
}

EncodeOptions encode_options_for(const NerFeatureOptions& options) {
  EncodeOptions e;
  e.max_length = options.max_seq_length;
  e.truncation = TruncationStrategy::LongestFirst;  // truncation=True
  e.padding = options.pad_to_max_length ? PaddingStrategy::MaxLength : PaddingStrategy::None;
  return e;
}

NerFeature align_one(const Tokenizer& tok, const TaggedSentence& sentence, const LabelIds& label_ids,
                     const std::vector<int32_t>& b_to_i, const NerFeatureOptions& options) {
  ACCENT_CHECK(sentence.tokens.size() == sentence.tags.size(), "NER sentence at line ", sentence.line, ": ",
               sentence.tokens.size(), " words but ", sentence.tags.size(), " tags");
  // The label id of every word, looked up once. run_ner.py raises KeyError on an unknown tag only when a token of
  // its word survives truncation; accent reports it in every case, naming the line.
  std::vector<int32_t> word_label(sentence.tags.size());
  for (size_t w = 0; w < sentence.tags.size(); ++w) {
    auto it = label_ids.find(sentence.tags[w]);
    ACCENT_CHECK(it != label_ids.end(), "NER sentence at line ", sentence.line, ", word ", w + 1, " '",
                 sentence.tokens[w], "': tag '", sentence.tags[w],
                 "' is not in the label list (labels come from the training data)");
    word_label[w] = it->second;
  }

  NerFeature feature;
  feature.encoding = tok.encode_words(sentence.tokens, std::nullopt, encode_options_for(options));
  const std::vector<int32_t>& word_ids = feature.encoding.word_ids;
  feature.labels.reserve(word_ids.size());
  int32_t previous = -1;  // None
  for (const int32_t word : word_ids) {
    if (word < 0) {
      feature.labels.push_back(kIgnoredLabelId);
    } else if (word != previous) {
      feature.labels.push_back(word_label[static_cast<size_t>(word)]);
    } else {
      feature.labels.push_back(options.label_all_tokens ? b_to_i[static_cast<size_t>(word_label[static_cast<size_t>(word)])]
                                                        : kIgnoredLabelId);
    }
    previous = word;
  }
  return feature;
}

}  // namespace

std::vector<int32_t> b_to_i_label_ids(const std::vector<std::string>& label_list) {
  const LabelIds ids = number_labels(label_list);
  std::vector<int32_t> out(label_list.size());
  for (size_t i = 0; i < label_list.size(); ++i) {
    out[i] = static_cast<int32_t>(i);
    const std::string& label = label_list[i];
    if (label.compare(0, 2, "B-") != 0) continue;
    auto it = ids.find(replace_b_with_i(label));
    if (it != ids.end()) out[i] = it->second;  // label_list.index(...): the first (and only) position
  }
  return out;
}

std::vector<NerFeature> tokenize_and_align_labels(const Tokenizer& tok, const std::vector<TaggedSentence>& sentences,
                                                  const std::vector<std::string>& label_list,
                                                  const NerFeatureOptions& options) {
  const LabelIds label_ids = number_labels(label_list);
  const std::vector<int32_t> b_to_i = b_to_i_label_ids(label_list);
  std::vector<NerFeature> out;
  out.reserve(sentences.size());
  for (const TaggedSentence& s : sentences) out.push_back(align_one(tok, s, label_ids, b_to_i, options));
  return out;
}

NerFeature tokenize_and_align_labels(const Tokenizer& tok, const TaggedSentence& sentence,
                                     const std::vector<std::string>& label_list, const NerFeatureOptions& options) {
  return align_one(tok, sentence, number_labels(label_list), b_to_i_label_ids(label_list), options);
}

}  // namespace accent
