// text/post_processor.cpp — TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel and Sequence
// post-processors (tokenizers/src/processors/{template,bert,roberta,byte_level,sequence}.rs), with the
// overflowing windows: the legacy Bert/Roberta processors wrap each window in its own special tokens; a template
// leaves them to merge_with, which gives the same windows.
#include <algorithm>

#include "core/error.h"
#include "text/encoding_ops.h"
#include "text/tokenizer_state.h"

namespace accent::text {
namespace {

Encoding special_piece(const std::vector<int32_t>& ids, const std::vector<std::string>& tokens, int32_t type_id,
                       bool with_offsets) {
  Encoding e;
  e.ids = ids;
  e.tokens = tokens;
  e.type_ids.assign(ids.size(), type_id);
  e.special_tokens_mask.assign(ids.size(), 1);
  e.attention_mask.assign(ids.size(), 1);
  e.word_ids.assign(ids.size(), -1);
  e.sequence_ids.assign(ids.size(), -1);
  if (with_offsets) e.offsets.assign(ids.size(), {0, 0});
  return e;
}

// The main encoding's type ids only (tokenizers' set_type_ids): the windows keep the type id they were encoded
// with (0 for the first text, 1 for the second).
void set_type_ids(Encoding& e, int32_t type_id) { e.type_ids.assign(e.ids.size(), type_id); }

// `before` + e + `after` as one encoding, e's windows wrapped the same way (BertProcessing/RobertaProcessing).
// `type_id` < 0 keeps e's own type ids for its tokens.
Encoding wrap(const Encoding* before, Encoding e, const Encoding& after, int32_t type_id) {
  std::vector<Encoding> windows = std::move(e.overflowing);
  e.overflowing.clear();
  auto wrap_one = [&](Encoding inner) {
    if (type_id >= 0) inner.type_ids.assign(inner.ids.size(), type_id);
    if (!before) {
      merge_with(inner, after);
      return inner;
    }
    Encoding out = *before;
    merge_with(out, inner);
    merge_with(out, after);
    return out;
  };
  Encoding out = wrap_one(std::move(e));
  for (Encoding& w : windows) out.overflowing.push_back(wrap_one(std::move(w)));
  return out;
}

const TemplateSpecialToken& find_special(const PostProcessor& p, const std::string& id) {
  for (const TemplateSpecialToken& t : p.special_tokens)
    if (t.id == id) return t;
  fail("TemplateProcessing: special token '", id, "' is used in a template but missing from special_tokens");
}

// process_encodings of one processor: a list of encodings in, a list out (merged by the caller).
std::vector<Encoding> process_encodings(const PostProcessor& p, std::vector<Encoding> encodings, bool add_special,
                                        bool with_offsets) {
  switch (p.kind) {
    case PostProcessor::Kind::ByteLevel:
      if (p.trim_offsets)
        for (Encoding& e : encodings) trim_offsets(e, p.add_prefix_space);
      return encodings;
    case PostProcessor::Kind::Sequence:
      for (const PostProcessor& inner : p.processors)
        encodings = process_encodings(inner, std::move(encodings), add_special, with_offsets);
      return encodings;
    case PostProcessor::Kind::Bert:
    case PostProcessor::Kind::Roberta: {
      const bool roberta = p.kind == PostProcessor::Kind::Roberta;
      if (roberta && p.trim_offsets)
        for (Encoding& e : encodings) trim_offsets(e, p.add_prefix_space);
      // "Roberta is weird, and every encoding is type_id=0" (roberta.rs), with or without special tokens.
      if (roberta)
        for (Encoding& e : encodings) set_type_ids(e, 0);
      if (!add_special) return encodings;
      const Encoding cls = special_piece({p.cls.second}, {p.cls.first}, 0, with_offsets);
      std::vector<Encoding> out;
      for (size_t i = 0; i < encodings.size(); ++i) {
        const int32_t type = (roberta || i == 0) ? 0 : 1;
        const Encoding sep = special_piece({p.sep.second}, {p.sep.first}, type, with_offsets);
        // Bert keeps each window's own type ids; Roberta sets 0 everywhere.
        const int32_t window_type = roberta ? 0 : -1;
        if (i == 0) out.push_back(wrap(&cls, std::move(encodings[i]), sep, window_type));
        else if (roberta) out.push_back(wrap(&sep, std::move(encodings[i]), sep, window_type));
        else out.push_back(wrap(nullptr, std::move(encodings[i]), sep, window_type));
      }
      return out;
    }
    case PostProcessor::Kind::Template: {
      const std::vector<TemplatePiece>& tmpl = encodings.size() == 2 ? p.pair : p.single;
      ACCENT_CHECK(encodings.size() == 1 || encodings.size() == 2, "TemplateProcessing: ", encodings.size(),
                   " sequences (expected 1 or 2)");
      std::vector<Encoding> out;
      for (const TemplatePiece& piece : tmpl) {
        if (piece.is_special) {
          if (!add_special) continue;
          const TemplateSpecialToken& t = find_special(p, piece.id);
          out.push_back(special_piece(t.ids, t.tokens, piece.type_id, with_offsets));
        } else {
          const size_t index = piece.id == "A" ? 0 : 1;
          ACCENT_CHECK(index < encodings.size(), "TemplateProcessing: template uses $B for a single sequence");
          Encoding e = encodings[index];
          set_type_ids(e, piece.type_id);
          out.push_back(std::move(e));
        }
      }
      return out;
    }
  }
  return encodings;
}

}  // namespace

int64_t num_added_tokens(const PostProcessor* p, bool pair) {
  if (!p) return 0;
  switch (p->kind) {
    case PostProcessor::Kind::ByteLevel:
      return 0;
    case PostProcessor::Kind::Bert:
      return pair ? 3 : 2;
    case PostProcessor::Kind::Roberta:
      return pair ? 4 : 2;
    case PostProcessor::Kind::Sequence: {
      int64_t n = 0;
      for (const PostProcessor& inner : p->processors) n += num_added_tokens(&inner, pair);
      return n;
    }
    case PostProcessor::Kind::Template: {
      int64_t n = 0;
      for (const TemplatePiece& piece : pair ? p->pair : p->single)
        if (piece.is_special) n += static_cast<int64_t>(find_special(*p, piece.id).ids.size());
      return n;
    }
  }
  return 0;
}

Encoding post_process(const PostProcessor* p, Encoding a, std::optional<Encoding> b, bool add_special,
                      bool with_offsets) {
  std::vector<Encoding> encodings;
  encodings.push_back(std::move(a));
  if (b) encodings.push_back(std::move(*b));
  // PostProcessor::process: sequence id i on each encoding and its windows, type id i on the encoding.
  for (size_t i = 0; i < encodings.size(); ++i) {
    const int32_t id = static_cast<int32_t>(i);
    set_type_ids(encodings[i], id);
    encodings[i].sequence_ids.assign(encodings[i].size(), id);
    for (Encoding& w : encodings[i].overflowing) w.sequence_ids.assign(w.size(), id);
  }
  if (p) encodings = process_encodings(*p, std::move(encodings), add_special, with_offsets);
  // Encoding::merge(encodings, growing_offsets = false); a template without pieces (a missing "pair") leaves none:
  // the empty encoding, as merging nothing gives in tokenizers.
  if (encodings.empty()) return Encoding{};
  Encoding merged = std::move(encodings[0]);
  for (size_t i = 1; i < encodings.size(); ++i) merge_with(merged, encodings[i]);
  if (!p && encodings.size() == 2) {
    // tokenizers' default_process (no post-processor) gives sequence ranges to the two encodings but not to
    // their windows, so the merged windows read as one sequence, all 0 — except the last |B.overflowing| ones,
    // A itself with a window of B, where A's tokens are 0 and B's none (-1). merge_with nests windows in
    // windows (A's windows with B's); those have no ranges either: all 0.
    const size_t a_size = merged.size() - encodings[1].size();
    const size_t first_with_a = merged.overflowing.size() - encodings[1].overflowing.size();
    for (size_t k = 0; k < merged.overflowing.size(); ++k) {
      std::vector<Encoding*> todo{&merged.overflowing[k]};
      while (!todo.empty()) {
        Encoding* e = todo.back();
        todo.pop_back();
        e->sequence_ids.assign(e->size(), 0);
        for (Encoding& nested : e->overflowing) todo.push_back(&nested);
      }
      Encoding& w = merged.overflowing[k];
      if (k >= first_with_a)
        std::fill(w.sequence_ids.begin() + static_cast<std::ptrdiff_t>(std::min(a_size, w.size())), w.sequence_ids.end(), -1);
    }
  }
  return merged;
}

}  // namespace accent::text
