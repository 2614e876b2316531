// text/encoding_ops.h — what tokenizers' Encoding does to itself (tokenizers/src/tokenizer/encoding.rs): cut into
// overlapping windows, merge with the next part of a template, pad. Every per-token field moves together
// (ids, type ids, tokens, word ids, sequence ids, masks, and offsets when they are tracked).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "text/tokenizer.h"

namespace accent::text {

// Encoding::truncate(max_len, stride, direction): keeps the first window of `max_len` tokens (Right: from the
// start; Left: the last max_len) and, when `keep_overflow`, appends the next windows to e.overflowing: window k
// starts (max_len − stride)·k tokens further (Left: ends that much earlier) and the last one reaches the end.
// max_len 0 moves everything into one overflowing window. stride must be < max_len (an error otherwise, where
// tokenizers panics).
void truncate_into_windows(Encoding& e, size_t max_len, size_t stride, Side side, bool keep_overflow);

// Encoding::merge_with(pair, growing_offsets = false): appends `pair`'s tokens to `self` and combines the
// overflowing windows as tokenizers does — each of self's windows followed by pair, then by each of pair's
// windows; then self followed by each of pair's windows.
void merge_with(Encoding& self, const Encoding& pair);

// Encoding::pad: pads to `target` tokens with the pad id/token, type id 0, attention 0, special 1, word and
// sequence id -1 and offsets (0, 0) when `with_offsets`; the overflowing windows are padded too.
void pad_encoding(Encoding& e, size_t target, int32_t pad_id, const std::string& pad_token, Side side, bool with_offsets);

// ByteLevel's process_offsets (trim_offsets): a token whose text starts (ends) with spaces ('Ġ', U+0120, or
// white space) has its offsets moved past them — except one leading space of the first token (index 0 or
// offset 0) when `add_prefix_space` (that space was added, it is not in the text). Applied to e and its windows.
void trim_offsets(Encoding& e, bool add_prefix_space);

}  // namespace accent::text
