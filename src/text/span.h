// text/span.h — a [begin, end) range of byte offsets into some text (a word of a pre-tokenized piece, or the
// original bytes a normalized byte came from: HF NormalizedString's per-byte "alignments").
#pragma once
#include <cstdint>

namespace accent::text {

struct Span {
  uint32_t begin, end;
};

}  // namespace accent::text
