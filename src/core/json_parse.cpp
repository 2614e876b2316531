// core/json_parse.cpp — see json_parse.h.
#include "core/json_parse.h"

#include <set>
#include <vector>

#include "core/error.h"
#include "core/fs.h"

namespace accent {
namespace {

// Thrown from the parser callback to stop at the first violation (the parse unwinds and frees what it built).
struct TooDeep {};
struct DuplicateKey {
  std::string key;
};

template <typename Json>
Json parse_with_limits(std::string_view text, const std::string& origin, const JsonParseOptions& options) {
  std::vector<std::set<std::string>> keys_per_object;  // only filled when duplicates are refused
  auto callback = [&](int depth, typename Json::parse_event_t event, Json& parsed) {
    using Event = typename Json::parse_event_t;
    // `depth` counts the containers around this one: 0 for the top-level value.
    if ((event == Event::object_start || event == Event::array_start) && depth >= options.max_depth) throw TooDeep{};
    if (options.reject_duplicate_keys) {
      if (event == Event::object_start) keys_per_object.emplace_back();
      if (event == Event::object_end && !keys_per_object.empty()) keys_per_object.pop_back();
      if (event == Event::key && !keys_per_object.empty()) {
        std::string key = parsed.template get<std::string>();
        if (!keys_per_object.back().insert(key).second) throw DuplicateKey{std::move(key)};
      }
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), callback);
  } catch (const TooDeep&) {
    fail(origin, ": JSON nests deeper than ", options.max_depth, " levels");
  } catch (const DuplicateKey& d) {
    fail(origin, ": a JSON object has the key \"", d.key, "\" twice");
  } catch (const typename Json::exception& e) {
    fail(origin, ": not valid JSON (", e.what(), ")");
  }
}

}  // namespace

nlohmann::json parse_json(std::string_view text, const std::string& origin, const JsonParseOptions& options) {
  return parse_with_limits<nlohmann::json>(text, origin, options);
}

nlohmann::ordered_json parse_ordered_json(std::string_view text, const std::string& origin,
                                          const JsonParseOptions& options) {
  return parse_with_limits<nlohmann::ordered_json>(text, origin, options);
}

nlohmann::json read_json_file(const std::string& path, const JsonParseOptions& options) {
  return parse_json(read_file(path), path, options);
}

}  // namespace accent
