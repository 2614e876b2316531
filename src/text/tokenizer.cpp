// text/tokenizer.cpp — encoding (HF TokenizerImpl::encode + post_process, driven the way transformers'
// fast tokenizers call it) and the small public accessors. Loading/saving is in pretrained_files.cpp.
#include "text/tokenizer.h"

#include <algorithm>

#include "core/error.h"
#include "text/encoding_ops.h"
#include "text/pre_tokenizers.h"
#include "text/tokenizer_state.h"
#include "text/unicode.h"

namespace accent {
namespace text {

std::string TokenizerState::normalize(std::string_view s) const {
  if (!normalizer) return std::string(s);
  std::string out;
  normalizer->normalize(s, out);
  return out;
}

void TokenizerState::set_add_prefix_space(bool add_prefix_space) {
  byte_level.add_prefix_space = add_prefix_space;
  if (settings.family == TokenizerFamily::Roberta && post_processor && post_processor->kind == PostProcessor::Kind::Roberta)
    post_processor->add_prefix_space = add_prefix_space;
}

void TokenizerState::add_tokens(const std::vector<AddedToken>& tokens) {
  for (const AddedToken& t : tokens)
    added.add({t}, [this](std::string_view c) { return model_token_to_id(c); }, model_vocab_size());
  added.rebuild_matchers([this](std::string_view c) { return normalize(c); },
                         [this](std::string_view c) { return model_token_to_id(c); });
}

namespace {

// Scratch buffers reused across calls on one thread (no per-word allocations in the hot loop).
struct Scratch {
  std::string normalized, prefixed, mapped;
  std::vector<AddedSplit> raw_splits, norm_splits;
  std::vector<Span> words;
  // Offsets only: per byte of the normalized text, the original bytes it came from; per token its bytes in its word.
  std::vector<Span> alignment, token_spans;
  std::vector<Span> first_alignment;  // Metaspace "first" without offsets: the first piece's alignment
  std::vector<uint32_t> token_lengths, mapped_source;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Token strings for the ids the model appended (those without one yet).
void push_model_ids(const TokenizerState& s, std::vector<int32_t>& ids, Encoding& e) {
  for (size_t k = e.tokens.size(); k < ids.size(); ++k) {
    const std::string* t = s.model_id_to_token(ids[k]);
    e.tokens.push_back(t ? *t : std::string());
  }
}

// The original-text byte range of piece bytes [begin, end) (HF convert_offsets: the first byte's alignment start
// to the last byte's alignment end). `align` has one entry per piece byte.
std::pair<int32_t, int32_t> original_range(const Span* align, uint32_t begin, uint32_t end) {
  if (end <= begin) return {static_cast<int32_t>(align[begin].begin), static_cast<int32_t>(align[begin].begin)};
  return {static_cast<int32_t>(align[begin].begin), static_cast<int32_t>(align[end - 1].end)};
}

// Pre-tokenizes one normalized piece and runs the model on each word. `word` counts the sequence's words
// (tokenizers' PreTokenizedString splits, empty ones dropped); each token records the word it came from.
// With `align` (one original-text byte range per piece byte), each token's original byte range is appended to
// e.offsets.
// `at_text_start`: the piece begins at the start of its text (Metaspace's prepend_scheme "first").
void tokenize_piece(const TokenizerState& s, std::string_view piece, const Span* align, Encoding& e, Scratch& sc,
                    int32_t& word, bool at_text_start) {
  if (piece.empty()) return;
  // Runs the model on `text` = piece bytes [at, at + text.size()) and records offsets through `to_piece`, which
  // maps a byte of `text` to a byte of the piece.
  auto run_model = [&](std::string_view text, auto&& to_piece) {
    if (text.empty()) return;
    const size_t before = e.ids.size();
    // A token covering bytes [t.begin, t.end) of `text`: its original range.
    auto push_span_offsets = [&](const Span& t) {
      e.offsets.emplace_back(align[to_piece(t.begin)].begin, align[to_piece(t.end - 1)].end);
    };
    if (s.unigram) {
      // Unigram: an unknown piece's token string is its text (tokenizers' Token), so the spans are always kept.
      sc.token_spans.clear();
      s.unigram->tokenize(text, e.ids, &sc.token_spans);
      const std::optional<int32_t> unk = s.unigram->unk_id();
      for (size_t k = 0; k < sc.token_spans.size(); ++k) {
        const Span& t = sc.token_spans[k];
        const int32_t id = e.ids[before + k];
        if (unk && id == *unk) e.tokens.emplace_back(text.substr(t.begin, t.end - t.begin));
        else e.tokens.push_back(*s.unigram->id_to_token(id));
        if (align) push_span_offsets(t);
      }
    } else if (!align) {
      if (s.wordpiece) s.wordpiece->tokenize(text, e.ids);
      else s.bpe->tokenize(text, e.ids);
    } else if (s.wordpiece) {
      sc.token_spans.clear();
      s.wordpiece->tokenize(text, e.ids, &sc.token_spans);
      for (const Span& t : sc.token_spans) push_span_offsets(t);
    } else {
      sc.token_lengths.clear();
      s.bpe->tokenize(text, e.ids, &sc.token_lengths);
      uint32_t at = 0;
      for (uint32_t length : sc.token_lengths) {
        if (length == 0) e.offsets.push_back(original_range(align, to_piece(at), to_piece(at)));
        else e.offsets.emplace_back(align[to_piece(at)].begin, align[to_piece(at + length - 1)].end);
        at += length;
      }
    }
    e.word_ids.insert(e.word_ids.end(), e.ids.size() - before, word++);
  };
  switch (s.pre_tokenizer) {
    case PreTokenizerKind::None:
      run_model(piece, [](uint32_t b) { return b; });
      break;
    case PreTokenizerKind::Bert: {
      sc.words.clear();
      bert_pre_tokenize(piece, sc.words);
      for (const Span& w : sc.words)
        run_model(piece.substr(w.begin, w.end - w.begin), [&](uint32_t b) { return w.begin + b; });
      break;
    }
    case PreTokenizerKind::ByteLevel: {
      std::string_view text = piece;
      // HF prepend(" "): the added space takes the alignment of the piece's first character. After a Split
      // pre-tokenizer the ByteLevel step sees each split word on its own, so the space goes before each word.
      const bool split_first = s.byte_level.split != SplitPattern::None;
      const bool prefixed = s.byte_level.add_prefix_space && !split_first && piece[0] != ' ';
      if (prefixed) {
        sc.prefixed.assign(1, ' ');
        sc.prefixed.append(piece);
        text = sc.prefixed;
      }
      sc.words.clear();
      if (s.byte_level.split != SplitPattern::None)
        llama3_regex_split(text, s.byte_level.split == SplitPattern::Llama3 ? 3 : 1, sc.words);
      else if (s.byte_level.use_regex) gpt2_regex_split(text, sc.words);
      else sc.words.push_back({0, static_cast<uint32_t>(text.size())});
      for (const Span& w : sc.words) {
        if (w.end == w.begin) continue;
        sc.mapped.clear();
        const std::string_view raw = text.substr(w.begin, w.end - w.begin);
        const bool word_prefixed = split_first && s.byte_level.add_prefix_space && raw[0] != ' ';
        if (word_prefixed) append_byte_level(" ", sc.mapped);
        append_byte_level(raw, sc.mapped);
        if (align) {  // each mapped character comes from one byte of `raw`
          sc.mapped_source.clear();
          const auto& table = bytes_to_unicode();
          if (word_prefixed) sc.mapped_source.insert(sc.mapped_source.end(), utf8_length(table[' ']), w.begin);
          for (uint32_t j = 0; j < raw.size(); ++j) {
            const uint32_t text_byte = w.begin + j;
            const uint32_t piece_byte = prefixed ? (text_byte == 0 ? 0 : text_byte - 1) : text_byte;
            sc.mapped_source.insert(sc.mapped_source.end(), utf8_length(table[static_cast<unsigned char>(raw[j])]),
                                    piece_byte);
          }
        }
        run_model(sc.mapped, [&](uint32_t b) { return sc.mapped_source[b]; });
      }
      break;
    }
    case PreTokenizerKind::Metaspace: {
      // ' ' → replacement (aligned to the space), the replacement put in front (aligned to the first char),
      // then words start at every replacement character.
      const MetaspaceOptions& m = s.metaspace;
      const std::string& rep = m.replacement;
      sc.mapped.clear();
      sc.mapped_source.clear();
      const bool starts_with_rep = piece.compare(0, rep.size(), rep) == 0 || piece[0] == ' ';
      const bool prepend = !starts_with_rep && (m.prepend_scheme == MetaspaceOptions::Prepend::Always ||
                                                (m.prepend_scheme == MetaspaceOptions::Prepend::First && at_text_start));
      if (prepend) {
        sc.mapped += rep;
        sc.mapped_source.insert(sc.mapped_source.end(), rep.size(), 0);
      }
      for (uint32_t b = 0; b < piece.size(); ++b) {
        if (piece[b] == ' ') {
          sc.mapped += rep;
          sc.mapped_source.insert(sc.mapped_source.end(), rep.size(), b);
        } else {
          sc.mapped.push_back(piece[b]);
          sc.mapped_source.push_back(b);
        }
      }
      const std::string_view text = sc.mapped;
      auto run_word = [&](size_t begin, size_t end) {
        if (end > begin)
          run_model(text.substr(begin, end - begin), [&](uint32_t b) { return sc.mapped_source[begin + b]; });
      };
      if (!m.split) {
        run_word(0, text.size());
        break;
      }
      size_t word_begin = 0;
      for (size_t at = text.find(rep, 1); at != std::string_view::npos; at = text.find(rep, at + rep.size())) {
        run_word(word_begin, at);
        word_begin = at;
      }
      run_word(word_begin, text.size());
      break;
    }
  }
  push_model_ids(s, e.ids, e);
}

void push_added(Encoding& e, int32_t id, std::string_view text, int32_t& word) {
  e.ids.push_back(id);
  e.tokens.emplace_back(text);
  e.word_ids.push_back(word++);
}

// HF NormalizedString::from(text) alignments: every byte of a character maps to the character's byte range.
void identity_alignment(std::string_view text, uint32_t shift, std::vector<Span>& out) {
  out.clear();
  for (size_t i = 0; i < text.size();) {
    const uint32_t length = decode_utf8(text, i).length;
    const Span whole{shift + static_cast<uint32_t>(i), shift + static_cast<uint32_t>(i + length)};
    out.insert(out.end(), length, whole);
    i += length;
  }
}

// Byte offsets into valid UTF-8 `text` → code point offsets (what Python's str indices and tokenizers'
// OffsetType::Char give).
void offsets_to_code_points(std::string_view text, std::vector<std::pair<int32_t, int32_t>>& offsets) {
  std::vector<int32_t> code_point_at(text.size() + 1);
  int32_t count = 0;
  for (size_t b = 0; b < text.size(); ++b) {
    code_point_at[b] = count;
    count += (static_cast<unsigned char>(text[b]) & 0xC0) != 0x80;
  }
  code_point_at[text.size()] = count;
  for (auto& [begin, end] : offsets) {
    begin = code_point_at[static_cast<size_t>(begin)];
    end = code_point_at[static_cast<size_t>(end)];
  }
}

// HF encode_single_sequence: added tokens on the raw text, normalizer per remaining piece, added
// (normalized) tokens on the normalized pieces, then pre-tokenizer and model. `sequence` (0 or 1) is the type id
// and sequence id every token starts with.
Encoding encode_sequence(const TokenizerState& s, std::string_view input, int32_t sequence, bool with_offsets) {
  Scratch& sc = scratch();
  Encoding e;
  std::string_view text = input;
  std::string own_valid;
  if (!is_valid_utf8(text)) {
    e.replaced_invalid_utf8 = to_valid_utf8(text, own_valid);
    text = own_valid;
  }
  std::vector<AddedSplit>& raw_splits = sc.raw_splits;
  raw_splits.clear();
  if (s.added.raw_matcher().empty()) {
    if (!text.empty()) raw_splits.push_back({0, static_cast<uint32_t>(text.size()), -1});
  } else {
    s.added.raw_matcher().split(text, raw_splits);
  }
  std::string& normalized = sc.normalized;
  std::vector<AddedSplit>& norm_splits = sc.norm_splits;
  std::vector<Span>* alignment = with_offsets ? &sc.alignment : nullptr;
  int32_t word = 0;
  const bool first_scheme = s.pre_tokenizer == PreTokenizerKind::Metaspace &&
                            s.metaspace.prepend_scheme == MetaspaceOptions::Prepend::First;
  for (const AddedSplit& split : raw_splits) {
    const std::string_view piece = text.substr(split.begin, split.end - split.begin);
    if (split.token_id >= 0) {
      push_added(e, split.token_id, piece, word);
      if (with_offsets) e.offsets.emplace_back(split.begin, split.end);
      continue;
    }
    // Metaspace "first": whether a normalized piece starts at original byte 0. tokenizers slices every piece out
    // of the normalized text, so a piece begins where its first normalized byte came from (a normalizer that
    // deleted leading characters moves it past 0). Only the first raw split can start there; without offsets
    // its normalization records an alignment of its own for this.
    std::vector<Span>* norm_align =
        alignment ? alignment : (first_scheme && split.begin == 0 && s.normalizer) ? &sc.first_alignment : nullptr;
    std::string_view norm = piece;
    if (s.normalizer) {
      normalized.clear();
      if (norm_align) {
        norm_align->clear();
        s.normalizer->normalize(piece, normalized, norm_align);
        for (Span& a : *norm_align) a.begin += split.begin, a.end += split.begin;
      } else {
        s.normalizer->normalize(piece, normalized);
      }
      norm = normalized;
    } else if (alignment) {
      identity_alignment(piece, split.begin, *alignment);
    }
    const Span* align = alignment ? alignment->data() : nullptr;
    auto at_text_start = [&](uint32_t normalized_begin) {
      if (split.begin != 0 || normalized_begin >= norm.size()) return false;
      if (!s.normalizer) return normalized_begin == 0;
      return first_scheme && (*norm_align)[normalized_begin].begin == 0;
    };
    if (s.added.normalized_matcher().empty()) {
      tokenize_piece(s, norm, align, e, sc, word, at_text_start(0));
      continue;
    }
    norm_splits.clear();
    s.added.normalized_matcher().split(norm, norm_splits);
    for (const AddedSplit& ns : norm_splits) {
      const std::string_view sub = norm.substr(ns.begin, ns.end - ns.begin);
      const Span* sub_align = align ? align + ns.begin : nullptr;
      if (ns.token_id >= 0) {
        push_added(e, ns.token_id, sub, word);
        if (sub_align) e.offsets.push_back(original_range(sub_align, 0, static_cast<uint32_t>(sub.size())));
      } else {
        tokenize_piece(s, sub, sub_align, e, sc, word, at_text_start(ns.begin));
      }
    }
  }
  if (with_offsets) offsets_to_code_points(text, e.offsets);
  e.special_tokens_mask.assign(e.ids.size(), 0);
  e.type_ids.assign(e.ids.size(), sequence);
  e.sequence_ids.assign(e.ids.size(), sequence);
  e.attention_mask.assign(e.ids.size(), 1);
  return e;
}

// HF encode_single_sequence of a pre-tokenized input (is_split_into_words): every word is encoded on its own
// (added tokens, normalizer, pre-tokenizer, model) and all its tokens get the word's index as word id; offsets
// stay relative to each word (Encoding::merge with growing_offsets = false), as transformers returns them.
Encoding encode_words_sequence(const TokenizerState& s, const std::vector<std::string>& words, int32_t sequence,
                               bool with_offsets) {
  ACCENT_CHECK(s.pre_tokenizer != PreTokenizerKind::ByteLevel || s.byte_level.add_prefix_space,
               "pre-tokenized input (is_split_into_words) with a byte-level tokenizer needs add_prefix_space=True, "
               "as in transformers (RobertaTokenizerFast/GPT2TokenizerFast.from_pretrained(..., add_prefix_space=True))");
  Encoding merged;
  for (size_t i = 0; i < words.size(); ++i) {
    Encoding w = encode_sequence(s, words[i], sequence, with_offsets);
    w.word_ids.assign(w.size(), static_cast<int32_t>(i));
    merge_with(merged, w);
  }
  merged.type_ids.assign(merged.size(), sequence);  // also when there are no words
  merged.sequence_ids.assign(merged.size(), sequence);
  return merged;
}

const char* strategy_name(TruncationStrategy t) {
  switch (t) {
    case TruncationStrategy::None: return "none";
    case TruncationStrategy::LongestFirst: return "longest_first";
    case TruncationStrategy::OnlyFirst: return "only_first";
    case TruncationStrategy::OnlySecond: return "only_second";
  }
  return "?";
}

// tokenizers/src/utils/truncation.rs truncate_encodings, with `limit` = max_length − added tokens. The cut-off
// tokens become overflowing windows (overlapping by `stride`) when `keep_overflow`.
void truncate_encodings(Encoding& a, std::optional<Encoding>& b, size_t limit, TruncationStrategy strategy, Side side,
                        size_t stride, bool keep_overflow) {
  auto truncate = [&](Encoding& e, size_t length, Side direction) {
    truncate_into_windows(e, length, stride, direction, keep_overflow);
  };
  if (limit == 0) {
    truncate(a, 0, side);
    if (b) truncate(*b, 0, side);
    return;
  }
  const size_t total = a.size() + (b ? b->size() : 0);
  if (total <= limit) return;
  const size_t to_remove = total - limit;
  switch (strategy) {
    case TruncationStrategy::LongestFirst: {
      if (!b) {
        truncate(a, total - to_remove, side);
        return;
      }
      // n1 <= n2: keep the shorter, cut the longer to max(n1, limit - n1); if both must be cut, the
      // shorter gets limit/2 and the longer limit/2 + limit%2 (the extra token goes to B when |A| <= |B|).
      size_t n1 = a.size(), n2 = b->size();
      const bool swap = n1 > n2;
      if (swap) std::swap(n1, n2);
      n2 = n1 > limit ? n1 : std::max(n1, limit - n1);
      if (n1 + n2 > limit) {
        n1 = limit / 2;
        n2 = n1 + limit % 2;
      }
      if (swap) std::swap(n1, n2);
      truncate(a, n1, side);
      truncate(*b, n2, side);
      return;
    }
    case TruncationStrategy::OnlyFirst:
    case TruncationStrategy::OnlySecond: {
      Encoding* target = &a;
      if (strategy == TruncationStrategy::OnlySecond) {
        ACCENT_CHECK(b.has_value(), "truncation only_second: the input has no second sequence");
        target = &*b;
      }
      ACCENT_CHECK(target->size() > to_remove, "truncation ", strategy_name(strategy), ": the ",
                   strategy == TruncationStrategy::OnlyFirst ? "first" : "second", " sequence has ", target->size(),
                   " tokens but ", to_remove, " must be removed to fit max_length (use longest_first)");
      truncate(*target, target->size() - to_remove, side);
      return;
    }
    case TruncationStrategy::None:
      return;
  }
}

struct ResolvedOptions {
  bool add_special = true;
  TruncationStrategy truncation = TruncationStrategy::None;
  size_t max_length = 0;  // used by truncation and fixed padding
  PaddingStrategy padding = PaddingStrategy::None;
  size_t pad_to_multiple_of = 0;
  bool offsets = false;
  bool overflow = false;
  size_t stride = 0;
};

// transformers' _get_padding_truncation_strategies.
ResolvedOptions resolve(const TokenizerState& s, const EncodeOptions& o) {
  ResolvedOptions r;
  r.add_special = o.add_special_tokens;
  r.truncation = o.truncation;
  r.padding = o.padding;
  if (o.max_length && r.truncation == TruncationStrategy::None && r.padding == PaddingStrategy::None)
    r.truncation = TruncationStrategy::LongestFirst;  // transformers: max_length alone implies longest_first
  std::optional<int64_t> max_length = o.max_length;
  const int64_t model_max = s.settings.model_max_length;
  if (!max_length && (r.truncation != TruncationStrategy::None || r.padding == PaddingStrategy::MaxLength)) {
    if (model_max == Tokenizer::kNoModelMaxLength) {
      // No limit known: transformers warns and skips truncation / max_length padding.
      r.truncation = TruncationStrategy::None;
      if (r.padding == PaddingStrategy::MaxLength) r.padding = PaddingStrategy::None;
    } else {
      max_length = model_max;
    }
  }
  if (max_length) {
    ACCENT_CHECK(*max_length >= 0, "max_length must be >= 0, got ", *max_length);
    r.max_length = static_cast<size_t>(*max_length);
  }
  r.offsets = o.return_offsets_mapping;
  r.overflow = o.return_overflowing_tokens;
  ACCENT_CHECK(o.stride >= 0, "stride must be >= 0, got ", o.stride);
  r.stride = static_cast<size_t>(o.stride);
  if (o.pad_to_multiple_of) {
    ACCENT_CHECK(*o.pad_to_multiple_of > 0, "pad_to_multiple_of must be > 0, got ", *o.pad_to_multiple_of);
    r.pad_to_multiple_of = static_cast<size_t>(*o.pad_to_multiple_of);
  }
  return r;
}

// Truncation (with windows) and post-processing of encoded sequences: the rest of HF TokenizerImpl::encode.
Encoding finish(const TokenizerState& s, Encoding a, std::optional<Encoding> b, const ResolvedOptions& r,
                const EncodeOptions& o) {
  if (r.truncation != TruncationStrategy::None) {
    const int64_t added = r.add_special ? num_added_tokens(s.post_processor ? &*s.post_processor : nullptr, b.has_value()) : 0;
    ACCENT_CHECK(static_cast<int64_t>(r.max_length) >= added, "max_length ", r.max_length, " is smaller than the ",
                 added, " special tokens this tokenizer adds");
    truncate_encodings(a, b, r.max_length - static_cast<size_t>(added), r.truncation, o.truncation_side, r.stride,
                       r.overflow);
  }
  const size_t replaced = a.replaced_invalid_utf8 + (b ? b->replaced_invalid_utf8 : 0);
  if (replaced) s.replaced_invalid_utf8 += replaced;
  return post_process(s.post_processor ? &*s.post_processor : nullptr, std::move(a), std::move(b), r.add_special,
                      r.offsets);
}

Encoding encode_one(const TokenizerState& s, std::string_view text, std::optional<std::string_view> pair,
                    const ResolvedOptions& r, const EncodeOptions& o) {
  Encoding a = encode_sequence(s, text, 0, r.offsets);
  std::optional<Encoding> b;
  if (pair) b = encode_sequence(s, *pair, 1, r.offsets);
  return finish(s, std::move(a), std::move(b), r, o);
}

void pad_batch(const TokenizerState& s, std::vector<Encoding>& encodings, const ResolvedOptions& r, const EncodeOptions& o) {
  if (r.padding == PaddingStrategy::None || encodings.empty()) return;
  const auto pad_it = s.settings.special_tokens.find("pad_token");
  ACCENT_CHECK(pad_it != s.settings.special_tokens.end(),
               "asking to pad but the tokenizer has no pad token (GPT-2 has none; set one, e.g. pad = eos)");
  const std::string& pad_token = pad_it->second.content;
  const int32_t pad_id = s.token_to_id(pad_token);
  ACCENT_CHECK(pad_id >= 0, "pad token '", pad_token, "' is not in the vocabulary");
  size_t target = r.max_length;
  if (r.padding == PaddingStrategy::Longest) {
    target = 0;
    for (const Encoding& e : encodings) target = std::max(target, e.size());
  }
  if (r.pad_to_multiple_of && target % r.pad_to_multiple_of)
    target += r.pad_to_multiple_of - target % r.pad_to_multiple_of;
  for (Encoding& e : encodings) pad_encoding(e, target, pad_id, pad_token, o.padding_side, r.offsets);
}

}  // namespace
}  // namespace text

using text::TokenizerState;

Tokenizer::Tokenizer(std::unique_ptr<TokenizerState> state) : state_(std::move(state)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::Tokenizer(const Tokenizer& o) : state_(std::make_unique<TokenizerState>(*o.state_)) {}
Tokenizer& Tokenizer::operator=(const Tokenizer& o) {
  if (this != &o) state_ = std::make_unique<TokenizerState>(*o.state_);
  return *this;
}
Tokenizer::~Tokenizer() = default;

Encoding Tokenizer::encode(std::string_view text, std::optional<std::string_view> pair, const EncodeOptions& options) const {
  const text::ResolvedOptions r = text::resolve(*state_, options);
  std::vector<Encoding> one;
  one.push_back(text::encode_one(*state_, text, pair, r, options));
  text::pad_batch(*state_, one, r, options);
  return std::move(one[0]);
}

Encoding Tokenizer::encode_words(const std::vector<std::string>& words, const std::optional<std::vector<std::string>>& pair,
                                 const EncodeOptions& options) const {
  const text::ResolvedOptions r = text::resolve(*state_, options);
  Encoding a = text::encode_words_sequence(*state_, words, 0, r.offsets);
  std::optional<Encoding> b;
  if (pair) b = text::encode_words_sequence(*state_, *pair, 1, r.offsets);
  std::vector<Encoding> one;
  one.push_back(text::finish(*state_, std::move(a), std::move(b), r, options));
  text::pad_batch(*state_, one, r, options);
  return std::move(one[0]);
}

void Tokenizer::set_add_prefix_space(bool add_prefix_space) { state_->set_add_prefix_space(add_prefix_space); }

bool Tokenizer::add_prefix_space() const { return state_->byte_level.add_prefix_space; }

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::pair<std::string, std::optional<std::string>>>& inputs,
                                              const EncodeOptions& options) const {
  const text::ResolvedOptions r = text::resolve(*state_, options);
  std::vector<Encoding> out(inputs.size());
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 16) if (inputs.size() >= 256)
  for (size_t i = 0; i < inputs.size(); ++i) {
    try {
      const auto& [a, b] = inputs[i];
      out[i] = text::encode_one(*state_, a, b ? std::optional<std::string_view>(*b) : std::nullopt, r, options);
    } catch (...) {
#pragma omp critical
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  text::pad_batch(*state_, out, r, options);
  return out;
}

int64_t Tokenizer::vocab_size() const {
  // len(tokenizer): distinct tokens of the model vocabulary and the added vocabulary.
  int64_t n = static_cast<int64_t>(state_->model_vocab_size());
  for (const auto& [id, t] : state_->added.sorted_by_id())
    if (state_->model_token_to_id(t.content) < 0) ++n;
  return n;
}

std::optional<int32_t> Tokenizer::pad_token_id() const {
  auto it = state_->settings.special_tokens.find("pad_token");
  if (it == state_->settings.special_tokens.end()) return std::nullopt;
  const int32_t id = state_->token_to_id(it->second.content);
  return id >= 0 ? std::optional<int32_t>(id) : std::nullopt;
}

int64_t Tokenizer::model_max_length() const { return state_->settings.model_max_length; }

bool Tokenizer::returns_token_type_ids() const {
  const auto& names = state_->settings.model_input_names;
  return std::find(names.begin(), names.end(), "token_type_ids") != names.end();
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  const int32_t id = state_->token_to_id(token);
  return id >= 0 ? std::optional<int32_t>(id) : std::nullopt;
}

std::string Tokenizer::id_to_token(int32_t id) const {
  if (const text::AddedToken* t = state_->added.token_for_id(id)) return t->content;
  const std::string* t = state_->model_id_to_token(id);
  return t ? *t : std::string();
}

int64_t Tokenizer::num_special_tokens_to_add(bool pair) const {
  return text::num_added_tokens(state_->post_processor ? &*state_->post_processor : nullptr, pair);
}

TokenizerFamily Tokenizer::family() const { return state_->settings.family; }

std::optional<std::string> Tokenizer::special_token(std::string_view name) const {
  auto it = state_->settings.special_tokens.find(std::string(name));
  if (it == state_->settings.special_tokens.end()) return std::nullopt;
  return it->second.content;
}

size_t Tokenizer::invalid_utf8_replacements() const { return state_->replaced_invalid_utf8.load(); }

}  // namespace accent
