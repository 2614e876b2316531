// text/bpe.cpp — see bpe.h.
#include "text/bpe.h"

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "core/error.h"
#include "text/unicode.h"

namespace accent::text {
namespace {

std::atomic<uint64_t> next_cache_owner{1};

// Per-thread cache of word → ids, shared by all BPE models of the thread (keyed by owner id).
struct WordCache {
  static constexpr size_t kMaxEntries = 1 << 16;   // cleared when full
  static constexpr size_t kMaxWordBytes = 256;     // longer words are not cached
  uint64_t owner = 0;
  StringIdMap index;                               // word → entry number
  std::vector<std::pair<uint32_t, uint32_t>> entries;  // (offset, count) into ids
  std::vector<int32_t> ids;
  std::vector<uint32_t> lengths;  // byte length in the word of each cached token (parallel to ids)
  void clear() {
    index.clear();
    entries.clear();
    ids.clear();
    lengths.clear();
  }
};

std::vector<uint32_t>& scratch_lengths() {
  thread_local std::vector<uint32_t> lengths;
  return lengths;
}

WordCache& cache_for(uint64_t owner) {
  thread_local std::vector<WordCache> caches(4);
  thread_local size_t next_victim = 0;
  for (WordCache& c : caches)
    if (c.owner == owner) return c;
  WordCache& c = caches[next_victim];
  next_victim = (next_victim + 1) % caches.size();
  c.clear();
  c.owner = owner;
  return c;
}

struct Symbol {
  int32_t id;
  int32_t prev, next;
  uint32_t length;  // bytes; 0 = merged away
};
struct Candidate {
  uint32_t rank;
  uint32_t pos;
  int32_t new_id;
  // std::push_heap builds a max-heap: invert so the lowest (rank, pos) is on top.
  bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

}  // namespace

void Bpe::MergeMap::build(const std::vector<std::pair<uint64_t, MergeValue>>& entries) {
  size_t capacity = 16;
  while (capacity < entries.size() * 2) capacity *= 2;
  keys.assign(capacity, ~0ULL);
  values.assign(capacity, MergeValue{0, -1});
  mask = capacity - 1;
  for (const auto& [key, value] : entries) {  // later duplicates overwrite (HF collects into a HashMap)
    size_t i = (key * 0x9E3779B97F4A7C15ULL) >> 20 & mask;
    while (keys[i] != ~0ULL && keys[i] != key) i = (i + 1) & mask;
    keys[i] = key;
    values[i] = value;
  }
}

const Bpe::MergeValue* Bpe::MergeMap::find(int32_t left, int32_t right) const {
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  size_t i = (key * 0x9E3779B97F4A7C15ULL) >> 20 & mask;
  while (keys[i] != ~0ULL) {
    if (keys[i] == key) return &values[i];
    i = (i + 1) & mask;
  }
  return nullptr;
}

Bpe::Bpe(std::vector<std::pair<std::string, int32_t>> vocab, std::vector<std::pair<std::string, std::string>> merges,
         BpeOptions options)
    : merges_(std::move(merges)), options_(std::move(options)), cache_owner_(next_cache_owner++) {
  ACCENT_CHECK(!options_.dropout || *options_.dropout == 0.0, "BPE: dropout ", *options_.dropout,
               " is not supported (it makes tokenization random; use null)");
  prefix_ = options_.continuing_subword_prefix.value_or("");
  suffix_ = options_.end_of_word_suffix.value_or("");
  int32_t max_id = -1;
  for (const auto& [token, id] : vocab) {
    ACCENT_CHECK(id >= 0, "BPE vocab: negative id ", id, " for token '", token, "'");
    max_id = std::max(max_id, id);
  }
  tokens_by_id_.assign(static_cast<size_t>(max_id + 1), std::string());
  for (auto& [token, id] : vocab) {
    vocab_.set(token, id);
    tokens_by_id_[id] = std::move(token);
  }
  has_token_.assign(tokens_by_id_.size(), 0);
  for (size_t id = 0; id < tokens_by_id_.size(); ++id)
    has_token_[id] = vocab_.find(tokens_by_id_[id]) == static_cast<int32_t>(id);

  std::vector<std::pair<uint64_t, MergeValue>> entries;
  entries.reserve(merges_.size());
  std::string joined;
  for (size_t rank = 0; rank < merges_.size(); ++rank) {
    const auto& [a, b] = merges_[rank];
    const int32_t a_id = vocab_.find(a), b_id = vocab_.find(b);
    ACCENT_CHECK(a_id >= 0, "BPE merges line ", rank + 1, ": token '", a, "' is not in the vocabulary");
    ACCENT_CHECK(b_id >= 0, "BPE merges line ", rank + 1, ": token '", b, "' is not in the vocabulary");
    ACCENT_CHECK(b.size() >= prefix_.size(), "BPE merges line ", rank + 1, ": '", b, "' is shorter than the prefix");
    joined.assign(a).append(b, prefix_.size(), std::string::npos);
    const int32_t new_id = vocab_.find(joined);
    ACCENT_CHECK(new_id >= 0, "BPE merges line ", rank + 1, ": merged token '", joined, "' is not in the vocabulary");
    entries.push_back({(static_cast<uint64_t>(static_cast<uint32_t>(a_id)) << 32) | static_cast<uint32_t>(b_id),
                       MergeValue{static_cast<uint32_t>(rank), new_id}});
  }
  merge_map_.build(entries);

  small_char_id_.assign(0x180, -1);
  std::string one;
  for (char32_t cp = 0; cp < 0x180; ++cp) {
    one.clear();
    append_utf8(one, cp);
    small_char_id_[cp] = vocab_.find(one);
  }
}

const std::string* Bpe::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_by_id_.size() || !has_token_[id]) return nullptr;
  return &tokens_by_id_[id];
}

std::vector<std::pair<std::string, int32_t>> Bpe::vocab_by_id() const {
  std::vector<std::pair<std::string, int32_t>> out;
  out.reserve(vocab_.size());
  for (size_t id = 0; id < tokens_by_id_.size(); ++id)
    if (has_token_[id]) out.emplace_back(tokens_by_id_[id], static_cast<int32_t>(id));
  return out;
}

void Bpe::tokenize(std::string_view word, std::vector<int32_t>& ids, std::vector<uint32_t>* lengths) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    const int32_t id = vocab_.find(word);
    if (id >= 0) {
      ids.push_back(id);
      if (lengths) lengths->push_back(static_cast<uint32_t>(word.size()));
      return;
    }
  }
  if (word.size() > WordCache::kMaxWordBytes) {
    merge_word(word, ids, lengths);
    return;
  }
  WordCache& cache = cache_for(cache_owner_);
  const uint64_t h = hash_bytes(word);
  const int32_t entry = cache.index.find_hashed(word, h);
  if (entry >= 0) {
    const auto [offset, count] = cache.entries[entry];
    ids.insert(ids.end(), cache.ids.begin() + offset, cache.ids.begin() + offset + count);
    if (lengths) lengths->insert(lengths->end(), cache.lengths.begin() + offset, cache.lengths.begin() + offset + count);
    return;
  }
  const size_t first = ids.size();
  std::vector<uint32_t>& merged_lengths = scratch_lengths();
  merged_lengths.clear();
  merge_word(word, ids, &merged_lengths);
  if (lengths) lengths->insert(lengths->end(), merged_lengths.begin(), merged_lengths.end());
  if (cache.entries.size() >= WordCache::kMaxEntries) cache.clear();
  cache.entries.push_back({static_cast<uint32_t>(cache.ids.size()), static_cast<uint32_t>(ids.size() - first)});
  cache.ids.insert(cache.ids.end(), ids.begin() + first, ids.end());
  cache.lengths.insert(cache.lengths.end(), merged_lengths.begin(), merged_lengths.end());
  cache.index.set(word, static_cast<int32_t>(cache.entries.size() - 1));
}

void Bpe::merge_word(std::string_view word, std::vector<int32_t>& ids, std::vector<uint32_t>* lengths) const {
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<Candidate> heap;
  thread_local std::string piece;
  symbols.clear();
  heap.clear();
  auto add = [&](int32_t id, uint32_t length) {
    const int32_t n = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, n - 1, -1, length});
    if (n > 0) symbols[n - 1].next = n;
  };
  // Pending unknown run: (id, byte length), -1 when none (HF merge_word).
  int32_t unk_id = -1;
  uint32_t unk_length = 0;
  const bool plain = prefix_.empty() && suffix_.empty();
  for (size_t i = 0; i < word.size();) {
    const Utf8Step step = decode_utf8(word, i);
    const bool is_first = i == 0;
    const bool is_last = i + step.length >= word.size();
    int32_t id = -1;
    if (plain && step.cp < 0x180) {
      id = small_char_id_[step.cp];
    } else {
      piece.clear();
      if (!is_first) piece += prefix_;
      piece.append(word.substr(i, step.length));
      if (is_last) piece += suffix_;
      id = vocab_.find(piece);
    }
    if (id < 0 && (plain && step.cp < 0x180)) {  // rebuild the piece for byte fallback
      piece.assign(word.substr(i, step.length));
    }
    if (id >= 0) {
      if (unk_id >= 0) add(unk_id, unk_length), unk_id = -1;
      add(id, step.length);
    } else {
      bool handled = false;
      if (options_.byte_fallback) {
        std::vector<int32_t> byte_ids;
        char code[8];
        for (unsigned char b : piece) {
          std::snprintf(code, sizeof code, "<0x%02X>", b);
          const int32_t bid = vocab_.find(code);
          if (bid < 0) break;
          byte_ids.push_back(bid);
        }
        if (byte_ids.size() == piece.size()) {
          for (int32_t bid : byte_ids) add(bid, 1);
          handled = true;
        }
      }
      if (!handled && options_.unk_token) {
        const int32_t unk = vocab_.find(*options_.unk_token);
        ACCENT_CHECK(unk >= 0, "BPE: unk_token '", *options_.unk_token, "' is not in the vocabulary");
        if (unk_id >= 0 && options_.fuse_unk) {
          unk_length += step.length;
        } else {
          if (unk_id >= 0) add(unk_id, unk_length);
          unk_id = unk, unk_length = step.length;
        }
      }
      // Without unk_token and byte fallback an unknown character is dropped, as in HF.
    }
    i += step.length;
  }
  if (unk_id >= 0) add(unk_id, unk_length);

  // Word::merge_all.
  for (size_t p = 0; p + 1 < symbols.size(); ++p)
    if (const MergeValue* m = merge_map_.find(symbols[p].id, symbols[p + 1].id))
      heap.push_back({m->rank, static_cast<uint32_t>(p), m->new_id});
  std::make_heap(heap.begin(), heap.end());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& cur = symbols[top.pos];
    if (cur.length == 0 || cur.next < 0) continue;
    const int32_t next_pos = cur.next;
    const Symbol right = symbols[next_pos];
    const MergeValue* m = merge_map_.find(cur.id, right.id);
    if (!m || m->new_id != top.new_id) continue;  // stale entry
    cur.id = top.new_id;
    cur.length += right.length;
    cur.next = right.next;
    symbols[next_pos].length = 0;
    if (right.next >= 0) symbols[right.next].prev = static_cast<int32_t>(top.pos);
    if (cur.prev >= 0) {
      if (const MergeValue* pm = merge_map_.find(symbols[cur.prev].id, cur.id)) {
        heap.push_back({pm->rank, static_cast<uint32_t>(cur.prev), pm->new_id});
        std::push_heap(heap.begin(), heap.end());
      }
    }
    if (cur.next >= 0) {
      if (const MergeValue* nm = merge_map_.find(cur.id, symbols[cur.next].id)) {
        heap.push_back({nm->rank, top.pos, nm->new_id});
        std::push_heap(heap.begin(), heap.end());
      }
    }
  }
  for (const Symbol& s : symbols) {
    if (s.length == 0) continue;
    ids.push_back(s.id);
    if (lengths) lengths->push_back(s.length);
  }
}

}  // namespace accent::text
