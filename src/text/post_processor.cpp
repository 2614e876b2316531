// text/post_processor.cpp — TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel and Sequence
// post-processors (tokenizers/src/processors/{template,bert,roberta,byte_level,sequence}.rs), ids only
// (offsets are not tracked by accent).
#include <algorithm>

#include "core/error.h"
#include "text/tokenizer_state.h"

namespace accent::text {
namespace {

Encoding special_piece(const std::vector<int32_t>& ids, const std::vector<std::string>& tokens, int32_t type_id) {
  Encoding e;
  e.ids = ids;
  e.tokens = tokens;
  e.type_ids.assign(ids.size(), type_id);
  e.special_tokens_mask.assign(ids.size(), 1);
  e.word_ids.assign(ids.size(), -1);
  return e;
}

void set_type_ids(Encoding& e, int32_t type_id) { e.type_ids.assign(e.ids.size(), type_id); }

const TemplateSpecialToken& find_special(const PostProcessor& p, const std::string& id) {
  for (const TemplateSpecialToken& t : p.special_tokens)
    if (t.id == id) return t;
  fail("TemplateProcessing: special token '", id, "' is used in a template but missing from special_tokens");
}

// process_encodings of one processor: a list of encodings in, a list out (merged by the caller).
std::vector<Encoding> process_encodings(const PostProcessor& p, std::vector<Encoding> encodings, bool add_special) {
  switch (p.kind) {
    case PostProcessor::Kind::ByteLevel:
      return encodings;  // only adjusts offsets
    case PostProcessor::Kind::Sequence:
      for (const PostProcessor& inner : p.processors) encodings = process_encodings(inner, std::move(encodings), add_special);
      return encodings;
    case PostProcessor::Kind::Bert:
    case PostProcessor::Kind::Roberta: {
      const bool roberta = p.kind == PostProcessor::Kind::Roberta;
      // "Roberta is weird, and every encoding is type_id=0" (roberta.rs), with or without special tokens.
      if (roberta)
        for (Encoding& e : encodings) set_type_ids(e, 0);
      if (!add_special) return encodings;
      std::vector<Encoding> out;
      for (size_t i = 0; i < encodings.size(); ++i) {
        Encoding& e = encodings[i];
        const int32_t type = (roberta || i == 0) ? 0 : 1;
        if (i == 0) out.push_back(special_piece({p.cls.second}, {p.cls.first}, 0));
        else if (roberta) out.push_back(special_piece({p.sep.second}, {p.sep.first}, 0));
        set_type_ids(e, type);
        out.push_back(std::move(e));
        out.push_back(special_piece({p.sep.second}, {p.sep.first}, type));
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
          out.push_back(special_piece(t.ids, t.tokens, piece.type_id));
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

Encoding post_process(const PostProcessor* p, Encoding a, std::optional<Encoding> b, bool add_special) {
  std::vector<Encoding> encodings;
  encodings.push_back(std::move(a));
  if (b) encodings.push_back(std::move(*b));
  // PostProcessor::process sets type id = sequence index first; without a processor the type ids are the
  // ones given at encode time (0 for A, 1 for B), which is the same.
  for (size_t i = 0; i < encodings.size(); ++i) set_type_ids(encodings[i], static_cast<int32_t>(i));
  if (p) encodings = process_encodings(*p, std::move(encodings), add_special);
  Encoding merged;
  for (Encoding& e : encodings) {
    merged.ids.insert(merged.ids.end(), e.ids.begin(), e.ids.end());
    merged.type_ids.insert(merged.type_ids.end(), e.type_ids.begin(), e.type_ids.end());
    merged.special_tokens_mask.insert(merged.special_tokens_mask.end(), e.special_tokens_mask.begin(),
                                      e.special_tokens_mask.end());
    merged.word_ids.insert(merged.word_ids.end(), e.word_ids.begin(), e.word_ids.end());
    for (std::string& t : e.tokens) merged.tokens.push_back(std::move(t));
    merged.replaced_invalid_utf8 += e.replaced_invalid_utf8;
  }
  merged.attention_mask.assign(merged.ids.size(), 1);
  return merged;
}

}  // namespace accent::text
