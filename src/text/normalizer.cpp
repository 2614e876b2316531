// text/normalizer.cpp — see normalizer.h.
//
// Steps other than BertNormalizer work on code points, each carrying the original byte range HF's
// NormalizedString would give it, and are written as HF's (char, change) transforms so that the alignments
// (hence token offsets) come out as tokenizers computes them.
#include "text/normalizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "text/unicode.h"

namespace accent::text {
namespace {

// Code points with their original byte ranges.
struct Chars {
  std::u32string cp;
  std::vector<Span> from;
};

struct Change {
  char32_t c;
  int32_t change;  // 0 replaces the next char, +1 inserted, -N replaces the next and removes N more
};

// HF NormalizedString::transform over the whole string: `initial_offset` chars are removed first.
void transform(Chars& text, const std::vector<Change>& dest, size_t initial_offset) {
  Chars out;
  out.cp.reserve(dest.size());
  out.from.reserve(dest.size());
  size_t next = initial_offset;  // index of the next current char to be replaced
  const size_t n = text.cp.size();
  for (const Change& d : dest) {
    Span from{0, 0};
    if (d.change > 0) {
      if (next > 0) from = text.from[std::min(next, n) - 1];
    } else {
      if (next < n) from = text.from[next];
      next += 1 + static_cast<size_t>(-d.change);
    }
    out.cp.push_back(d.c);
    out.from.push_back(from);
  }
  text = std::move(out);
}

// Decomposition as (char, change): the first code point of each character's decomposition replaces it, the
// others are inserted; the flags travel with the code points through canonical ordering.
std::vector<Change> decompose(const std::u32string& cp, bool compatibility) {
  std::u32string out;
  std::vector<uint8_t> inserted;
  append_nfd(cp, out, &inserted, compatibility);
  std::vector<Change> changes(out.size());
  for (size_t k = 0; k < out.size(); ++k) changes[k] = {out[k], inserted[k] ? 1 : 0};
  return changes;
}

// Canonical composition of a decomposed (char, change) stream, as the unicode-normalization-alignments crate's
// Recompositions does it: a starter (the "composee") absorbs each following char that composes with it and is
// not blocked (no char in between of combining class >= its own); the composite carries the summed changes
// minus one per absorbed char. Chars that do not compose are kept in order after the composee.
std::vector<Change> compose(const std::vector<Change>& in) {
  std::vector<Change> out, buffer;
  out.reserve(in.size());
  std::optional<Change> composee;
  int last_ccc = -1;  // -1: nothing buffered since the composee
  for (const Change& ch : in) {
    const int ch_class = hf_combining_class(ch.c);
    if (!composee) {
      if (ch_class != 0) {
        out.push_back(ch);
        continue;
      }
      composee = ch;
      continue;
    }
    if (last_ccc < 0 || last_ccc < ch_class) {
      if (const char32_t r = compose_pair(composee->c, ch.c)) {
        composee = Change{r, composee->change + ch.change - 1};
        continue;
      }
      if (last_ccc < 0 && ch_class == 0) {
        out.push_back(*composee);
        composee = ch;
        continue;
      }
      buffer.push_back(ch);
      last_ccc = ch_class;
      continue;
    }
    // Blocked from the composee.
    if (ch_class == 0) {
      out.push_back(*composee);
      out.insert(out.end(), buffer.begin(), buffer.end());
      buffer.clear();
      composee = ch;
      last_ccc = -1;
      continue;
    }
    buffer.push_back(ch);
    last_ccc = ch_class;
  }
  if (composee) out.push_back(*composee);
  out.insert(out.end(), buffer.begin(), buffer.end());
  return out;
}

// tokenizers normalizers/precompiled.rs `replace`: the (char, change) pairs for `old_count` chars becoming `now`.
void push_replacement(std::vector<Change>& changes, size_t old_count, std::string_view now) {
  const std::u32string chars = to_code_points(now);
  for (char32_t c : chars) changes.push_back({c, 0});
  const size_t new_count = chars.size();
  const int64_t diff = static_cast<int64_t>(new_count) - static_cast<int64_t>(old_count);
  if (diff > 0) {
    for (size_t k = 0; k < static_cast<size_t>(diff); ++k) changes[changes.size() - 1 - k].change = 1;
  } else if (diff < 0 && !changes.empty()) {
    changes.back().change += static_cast<int32_t>(diff);
  }
}

std::vector<Change> precompiled_changes(const PrecompiledCharsmap& charsmap, const std::u32string& cp) {
  std::vector<Change> changes;
  changes.reserve(cp.size());
  std::string cluster, one;
  utf8proc_int32_t state = 0;
  for (size_t begin = 0; begin < cp.size();) {
    size_t end = begin + 1;
    while (end < cp.size() && !utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(cp[end - 1]),
                                                                static_cast<utf8proc_int32_t>(cp[end]), &state))
      ++end;
    cluster.clear();
    for (size_t k = begin; k < end; ++k) append_utf8(cluster, cp[k]);
    if (cluster.size() < 6) {
      if (const auto now = charsmap.transform(cluster)) {
        push_replacement(changes, end - begin, *now);
        begin = end;
        continue;
      }
    }
    for (size_t k = begin; k < end; ++k) {
      one.clear();
      append_utf8(one, cp[k]);
      if (const auto now = charsmap.transform(one)) push_replacement(changes, 1, *now);
      else changes.push_back({cp[k], 0});
    }
    begin = end;
  }
  return changes;
}

// `pattern` / `content`: the step's Replace pattern and content, or Prepend content, as code points.
void apply_step(const NormalizerStep& step, const BertNormalizer* bert, const std::u32string& pattern,
                const std::u32string& content, Chars& text) {
  using Kind = NormalizerStep::Kind;
  switch (step.kind) {
    case Kind::Bert: {
      // Run on UTF-8, then map each output byte's local source back to the char it came from.
      std::string utf8;
      std::vector<uint32_t> char_of_byte;
      for (size_t k = 0; k < text.cp.size(); ++k) {
        const size_t before = utf8.size();
        append_utf8(utf8, text.cp[k]);
        char_of_byte.insert(char_of_byte.end(), utf8.size() - before, static_cast<uint32_t>(k));
      }
      std::string out;
      std::vector<Span> local;
      bert->normalize(utf8, out, &local);
      Chars next;
      for (size_t i = 0; i < out.size();) {
        const Utf8Step s = decode_utf8(out, i);
        next.cp.push_back(s.cp);
        next.from.push_back(local[i].end > local[i].begin ? text.from[char_of_byte[local[i].begin]] : Span{0, 0});
        i += s.length;
      }
      text = std::move(next);
      return;
    }
    case Kind::Nfd:
    case Kind::Nfkd:
    case Kind::Nfc:
    case Kind::Nfkc: {
      const bool compat = step.kind == Kind::Nfkd || step.kind == Kind::Nfkc;
      const bool composed = step.kind == Kind::Nfc || step.kind == Kind::Nfkc;
      const char32_t stable_below = compat ? 0xA0 : composed ? 0x300 : 0xC0;  // no char below changes
      if (std::all_of(text.cp.begin(), text.cp.end(), [&](char32_t c) { return c < stable_below; })) return;
      std::vector<Change> changes = decompose(text.cp, compat);
      if (composed) changes = compose(changes);
      transform(text, changes, 0);
      return;
    }
    case Kind::Lowercase: {
      std::vector<Change> changes;
      std::u32string lower;
      for (char32_t c : text.cp) {
        lower.clear();
        append_lowercase(lower, c);
        for (size_t k = 0; k < lower.size(); ++k) changes.push_back({lower[k], k > 0 ? 1 : 0});
      }
      transform(text, changes, 0);
      return;
    }
    case Kind::StripAccents:
    case Kind::Strip: {
      // Filters: kept chars keep their own alignment.
      size_t begin = 0, end = text.cp.size();
      if (step.kind == Kind::Strip) {
        auto space = [&](size_t k) { return (char_class(text.cp[k]) & kWhiteSpace) != 0; };
        if (step.strip_left)
          while (begin < end && space(begin)) ++begin;
        if (step.strip_right)
          while (end > begin && space(end - 1)) --end;
      }
      Chars kept;
      for (size_t k = begin; k < end; ++k) {
        if (step.kind == Kind::StripAccents && hf_is_combining_mark(text.cp[k])) continue;
        kept.cp.push_back(text.cp[k]);
        kept.from.push_back(text.from[k]);
      }
      text = std::move(kept);
      return;
    }
    case Kind::Replace: {  // (the constructor refuses an empty pattern)
      // Length of the match at k (0: none).
      auto match_at = [&](size_t k) -> size_t {
        if (!step.spaces_regex) return text.cp.compare(k, pattern.size(), pattern) == 0 ? pattern.size() : 0;
        size_t e = k;
        while (e < text.cp.size() && text.cp[e] == U' ') ++e;
        return e - k >= 2 ? e - k : 0;
      };
      Chars out;
      for (size_t k = 0; k < text.cp.size();) {
        if (const size_t length = match_at(k)) {
          // HF replace: transform_range over the match with all of it removed first and content inserted,
          // so every content char takes the alignment of the match's last char.
          const Span last = text.from[k + length - 1];
          for (char32_t c : content) out.cp.push_back(c), out.from.push_back(last);
          k += length;
        } else {
          out.cp.push_back(text.cp[k]);
          out.from.push_back(text.from[k]);
          ++k;
        }
      }
      text = std::move(out);
      return;
    }
    case Kind::Precompiled:
      transform(text, precompiled_changes(*step.charsmap, text.cp), 0);
      return;
    case Kind::Prepend: {
      if (text.cp.empty()) return;
      Chars out;
      out.cp = content;
      out.from.assign(content.size(), text.from[0]);
      out.cp += text.cp;
      out.from.insert(out.from.end(), text.from.begin(), text.from.end());
      text = std::move(out);
      return;
    }
  }
}

}  // namespace

Normalizer::Normalizer(std::vector<NormalizerStep> steps, bool as_sequence)
    : steps_(std::move(steps)), as_sequence_(as_sequence) {
  for (const NormalizerStep& s : steps_) {
    if (s.kind == NormalizerStep::Kind::Bert) bert_.emplace_back(s.bert);
    patterns_.push_back(to_code_points(s.pattern));
    contents_.push_back(to_code_points(s.content));
    ACCENT_CHECK(s.kind != NormalizerStep::Kind::Replace || !s.pattern.empty(),
                 "a Replace normalizer needs a non-empty pattern");
    ACCENT_CHECK(s.kind != NormalizerStep::Kind::Precompiled || s.charsmap, "a Precompiled normalizer needs its charsmap");
  }
}

void Normalizer::normalize(std::string_view in, std::string& out, std::vector<Span>* alignment) const {
  if (steps_.size() == 1 && steps_[0].kind == NormalizerStep::Kind::Bert) {
    bert_[0].normalize(in, out, alignment);
    return;
  }
  Chars text;
  for (size_t i = 0; i < in.size();) {
    const Utf8Step s = decode_utf8(in, i);
    text.cp.push_back(s.cp);
    text.from.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(i + s.length)});
    i += s.length;
  }
  size_t bert_index = 0;
  for (size_t k = 0; k < steps_.size(); ++k) {
    const NormalizerStep& step = steps_[k];
    const BertNormalizer* bert = step.kind == NormalizerStep::Kind::Bert ? &bert_[bert_index++] : nullptr;
    apply_step(step, bert, patterns_[k], contents_[k], text);
  }
  for (size_t k = 0; k < text.cp.size(); ++k) {
    const size_t before = out.size();
    append_utf8(out, text.cp[k]);
    if (alignment) alignment->insert(alignment->end(), out.size() - before, text.from[k]);
  }
}

}  // namespace accent::text
