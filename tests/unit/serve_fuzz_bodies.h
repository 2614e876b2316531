// Mutated request bodies for the `accent serve` fuzz cases: valid TEI and Inference API bodies, then each mutated
// by one to four of byte flips, insertions of JSON-significant or invalid-UTF-8 bytes, deletions, duplications,
// truncation, splices of two bodies, and substitutions of hostile values (deep nesting, long strings, lone
// surrogates, huge numbers, many inputs). Deterministic for a seed.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace accent::testing {

inline std::vector<std::string> fuzz_seed_bodies() {
  return {
      R"({"inputs": "a gripping, funny film"})",
      R"({"inputs": ["a premise", "a hypothesis"], "raw_scores": true})",
      R"({"inputs": [["one"], ["two", "pair"], "three"], "truncate": true, "truncation_direction": "left"})",
      R"({"inputs": "caf\u00e9 \ud83d\ude00", "truncate": false, "raw_scores": false})",
      R"({"inputs": ["a", "b", "c", "d"]})",
      R"({"inputs": "great", "parameters": {"top_k": 2, "function_to_apply": "sigmoid"}})",
      R"({"inputs": [{"text": "b", "text_pair": "c"}, "d"], "parameters": {"top_k": null, "truncation": true}})",
  };
}

inline std::string fuzz_hostile_value(std::mt19937_64& rng) {
  switch (rng() % 9) {
    case 0: return std::string(200 + rng() % 300, '[') + std::string(200, ']');
    case 1: return "\"" + std::string(1000 + rng() % 20000, 'x') + "\"";
    case 2: return "\"\\ud800\"";
    case 3: return "1e999999";
    case 4: return "-9223372036854775809";
    case 5: {
      std::string many = "[";
      for (int i = 0; i < 40; ++i) many += std::string(i ? "," : "") + "\"w\"";
      return many + "]";
    }
    case 6: return "{\"text\": " + std::string(1 + rng() % 3, '[') + "}";
    case 7: return "\"\xff\xfe\xc0\x80\"";
    default: return "null";
  }
}

inline std::string mutate_body(std::string s, std::mt19937_64& rng, const std::vector<std::string>& seeds) {
  static const std::string kSignificant = "[]{}\",:\\ \x00\xff\xc3\x80" "0123456789-.eEtrufalsn";
  const int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    const size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 8) {
      case 0:
        if (!s.empty()) s[at % s.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1: s.insert(at, 1, kSignificant[rng() % kSignificant.size()]); break;
      case 2:
        if (!s.empty()) s.erase(at % s.size(), 1 + rng() % 8);
        break;
      case 3:
        if (!s.empty()) {
          const size_t from = rng() % s.size();
          s.insert(at, s.substr(from, 1 + rng() % 16));
        }
        break;
      case 4: s.resize(at); break;
      case 5: {
        const std::string& other = seeds[rng() % seeds.size()];
        s = s.substr(0, at) + other.substr(rng() % (other.size() + 1));
        break;
      }
      case 6: {
        // Replace the value after a ':' with a hostile one.
        const size_t colon = s.find(':', at);
        if (colon != std::string::npos) {
          size_t end = colon + 1;
          while (end < s.size() && s[end] != ',' && s[end] != '}') ++end;
          s = s.substr(0, colon + 1) + " " + fuzz_hostile_value(rng) + s.substr(end);
        }
        break;
      }
      default: s.insert(at, fuzz_hostile_value(rng)); break;
    }
  }
  return s;
}

inline std::vector<std::string> fuzzed_bodies(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<std::string> seeds = fuzz_seed_bodies();
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(mutate_body(seeds[rng() % seeds.size()], rng, seeds));
  return out;
}

}  // namespace accent::testing
