#include "data/dataset.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/json_parse.h"

namespace accent {

const char* label_kind_name(LabelKind kind) {
  switch (kind) {
    case LabelKind::None: return "none";
    case LabelKind::Integer: return "integer";
    case LabelKind::String: return "string";
    case LabelKind::Float: return "float";
    case LabelKind::MultiLabel: return "multi-label";
  }
  return "?";
}

std::string ReadSummary::to_string() const {
  std::ostringstream os;
  os << path << ": " << rows_read << " rows read, " << rows_kept << " kept";
  if (dropped_empty_text) os << "; dropped " << dropped_empty_text << " (empty text)";
  if (dropped_missing_label) os << "; dropped " << dropped_missing_label << " (missing label)";
  if (blank_lines_skipped) os << "; skipped " << blank_lines_skipped << " blank line" << (blank_lines_skipped > 1 ? "s" : "");
  if (padded_rows) os << "; " << padded_rows << " short row" << (padded_rows > 1 ? "s" : "") << " padded with empty cells";
  if (invalid_utf8_replaced)
    os << "; replaced " << invalid_utf8_replaced << " invalid UTF-8 sequence" << (invalid_utf8_replaced > 1 ? "s" : "")
       << " with U+FFFD on " << invalid_utf8_lines << " line" << (invalid_utf8_lines > 1 ? "s" : "");
  return os.str();
}

std::string Dataset::where(size_t row) const {
  if (lines_are_records) return path + ": record " + std::to_string(rows[row].line);
  return path + ":" + std::to_string(rows[row].line);
}

namespace {

using ojson = nlohmann::ordered_json;

std::string_view trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// An integer as pandas' C parser accepts it: optional surrounding spaces/tabs, optional sign, digits.
bool parse_integer(std::string_view cell, int64_t* out) {
  std::string_view s = trim(cell);
  if (s.empty()) return false;
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t k = i; k < s.size(); ++k)
    if (s[k] < '0' || s[k] > '9') return false;
  errno = 0;
  const std::string str(s);
  char* end = nullptr;
  const long long v = std::strtoll(str.c_str(), &end, 10);
  if (errno == ERANGE) return false;
  *out = v;
  return true;
}

// A decimal number: [sign] digits [. digits] [e [sign] digits], at least one digit before the exponent.
bool parse_number(std::string_view cell, double* out) {
  std::string_view s = trim(cell);
  size_t i = 0, digits = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  if (i != s.size()) return false;
  *out = std::strtod(std::string(s).c_str(), nullptr);
  return true;
}

enum class JsonCategory { Missing, Integer, Float, String, List, Other };

JsonCategory categorize(const ojson* v) {
  if (v == nullptr || v->is_null()) return JsonCategory::Missing;
  if (v->is_number_integer()) return JsonCategory::Integer;  // also unsigned
  if (v->is_number_float()) return JsonCategory::Float;
  if (v->is_string()) return v->get_ref<const std::string&>().empty() ? JsonCategory::Missing : JsonCategory::String;
  if (v->is_array()) return JsonCategory::List;
  return JsonCategory::Other;
}

const char* category_name(JsonCategory c) {
  switch (c) {
    case JsonCategory::Missing: return "missing";
    case JsonCategory::Integer: return "an integer";
    case JsonCategory::Float: return "a float";
    case JsonCategory::String: return "a string";
    case JsonCategory::List: return "a list";
    case JsonCategory::Other: return "an object or boolean";
  }
  return "?";
}

class DatasetBuilder {
 public:
  DatasetBuilder(const Table& t, const ReadOptions& o) : t_(t), o_(o) {}

  Dataset build() {
    Dataset d;
    d.path = t_.path;
    d.format = t_.format;
    d.lines_are_records = t_.lines_are_records;
    text_col_ = t_.require_column(o_.text_column, "text");
    if (!o_.text_pair_column.empty()) pair_col_ = static_cast<int64_t>(t_.require_column(o_.text_pair_column, "text-pair"));
    if (!o_.label_column.empty()) label_col_ = static_cast<int64_t>(t_.require_column(o_.label_column, "label"));
    is_json_ = !t_.records.empty();
    d.label_kind = infer_kind();

    ReadSummary& s = d.summary;
    s.path = t_.path;
    s.rows_read = static_cast<int64_t>(t_.rows.size());
    s.blank_lines_skipped = t_.blank_lines_skipped;
    s.padded_rows = t_.padded_rows;
    s.invalid_utf8_replaced = t_.invalid_utf8_replaced;
    s.invalid_utf8_lines = t_.invalid_utf8_lines;
    d.rows.reserve(t_.rows.size());
    for (size_t r = 0; r < t_.rows.size(); ++r) {
      Example ex;
      ex.line = t_.lines[r];
      ex.text = text_cell(r, text_col_, o_.text_column);
      if (ex.text.empty()) {
        ACCENT_CHECK(o_.drop_empty_text, t_.where(r), ": empty text in column '", o_.text_column,
                     "' (--drop-empty-text skips such rows; they are counted)");
        ++s.dropped_empty_text;
        continue;
      }
      if (pair_col_ >= 0) ex.text_pair = text_cell(r, static_cast<size_t>(pair_col_), o_.text_pair_column);
      if (d.label_kind != LabelKind::None) {
        if (is_missing_label(r, d.label_kind)) {
          ACCENT_CHECK(o_.drop_missing_labels, t_.where(r), ": empty label in column '", o_.label_column,
                       "' (--drop-missing-labels skips such rows; they are counted)");
          ++s.dropped_missing_label;
          continue;
        }
        ex.label = parse_label(r, d.label_kind);
      }
      d.rows.push_back(std::move(ex));
    }
    s.rows_kept = static_cast<int64_t>(d.rows.size());
    return d;
  }

 private:
  const ojson* json_value(size_t r, size_t col) const {
    const ojson& rec = t_.records[r];
    auto it = rec.find(t_.columns[col]);
    return it == rec.end() ? nullptr : &*it;
  }
  const std::string& cell(size_t r, size_t col) const { return t_.rows[r][col]; }

  std::string text_cell(size_t r, size_t col, const std::string& name) const {
    if (is_json_) {
      const ojson* v = json_value(r, col);
      ACCENT_CHECK(v == nullptr || v->is_null() || v->is_string(), t_.where(r), ": column '", name,
                   "' must be a string, got ", v->type_name(), " ", v->dump());
    }
    return cell(r, col);
  }

  bool is_missing_label(size_t r, LabelKind kind) const {
    if (is_json_) {
      const JsonCategory c = categorize(json_value(r, static_cast<size_t>(label_col_)));
      // For multi-label an empty string with a separator is "no labels", not missing.
      if (kind == LabelKind::MultiLabel && c == JsonCategory::Missing) {
        const ojson* v = json_value(r, static_cast<size_t>(label_col_));
        return v == nullptr || v->is_null();
      }
      return c == JsonCategory::Missing;
    }
    if (kind == LabelKind::MultiLabel) return false;  // an empty cell = no labels
    return trim(cell(r, static_cast<size_t>(label_col_))).empty();
  }

  LabelKind infer_kind() const {
    if (label_col_ < 0) return LabelKind::None;
    const std::string& type = o_.label_type;
    ACCENT_CHECK(type == "auto" || type == "class" || type == "multi" || type == "float", "unknown label type '", type,
                 "' (expected auto, class, multi or float)");
    if (type == "multi" || !o_.label_separator.empty()) {
      ACCENT_CHECK(type == "auto" || type == "multi", "a label separator means multi-label, but label type '", type,
                   "' was asked for");
      return LabelKind::MultiLabel;
    }
    if (type == "float") return LabelKind::Float;
    const auto col = static_cast<size_t>(label_col_);
    if (is_json_) {
      // The JSON types decide, like Arrow's typing in `datasets`: ints, floats (ints+floats = floats), strings,
      // lists; mixing other kinds is an error naming the first row that differs.
      std::optional<JsonCategory> seen;
      size_t first_row = 0;
      for (size_t r = 0; r < t_.rows.size(); ++r) {
        JsonCategory c = categorize(json_value(r, col));
        if (c == JsonCategory::Missing) continue;
        ACCENT_CHECK(c != JsonCategory::Other, t_.where(r), ": label must be a number, string or list, got ",
                     json_value(r, col)->dump());
        if (!seen) {
          seen = c, first_row = r;
          continue;
        }
        const bool numeric_mix = (*seen == JsonCategory::Integer || *seen == JsonCategory::Float) &&
                                 (c == JsonCategory::Integer || c == JsonCategory::Float);
        if (numeric_mix) {
          if (c == JsonCategory::Float) seen = JsonCategory::Float;
          continue;
        }
        ACCENT_CHECK(c == *seen, t_.where(r), ": label is ", category_name(c), " but the label at ", t_.where(first_row),
                     " is ", category_name(*seen), "; all labels must have one type");
      }
      if (!seen) return type == "class" ? LabelKind::String : LabelKind::None;
      switch (*seen) {
        case JsonCategory::Integer: return LabelKind::Integer;
        case JsonCategory::Float:
          if (type == "class") return LabelKind::Integer;  // floats must then be integral (checked per row)
          return LabelKind::Float;
        case JsonCategory::List: return LabelKind::MultiLabel;
        default: return LabelKind::String;
      }
    }
    bool all_int = true, all_num = true;
    for (size_t r = 0; r < t_.rows.size(); ++r) {
      const std::string& c = cell(r, col);
      if (trim(c).empty()) continue;
      int64_t i;
      double x;
      if (!parse_integer(c, &i)) all_int = false;
      if (!all_int && !parse_number(c, &x)) {
        all_num = false;
        break;
      }
    }
    if (all_int) return LabelKind::Integer;
    if (all_num && type == "auto") return LabelKind::Float;
    return LabelKind::String;
  }

  LabelValue parse_label(size_t r, LabelKind kind) const {
    const auto col = static_cast<size_t>(label_col_);
    const std::string& raw = cell(r, col);
    const ojson* v = is_json_ ? json_value(r, col) : nullptr;
    LabelValue out;
    switch (kind) {
      case LabelKind::Integer: {
        int64_t i = 0;
        if (v != nullptr && v->is_number_float()) {
          const double x = v->get<double>();
          ACCENT_CHECK(x == static_cast<double>(static_cast<int64_t>(x)), t_.where(r), ": label ", raw,
                       " is not an integer class");
          i = static_cast<int64_t>(x);
        } else {
          ACCENT_CHECK(parse_integer(raw, &i), t_.where(r), ": label '", raw, "' is not an integer");
        }
        out.names = {std::to_string(i)};
        out.value = static_cast<double>(i);
        break;
      }
      case LabelKind::String:
        out.names = {raw};
        break;
      case LabelKind::Float:
        if (v != nullptr && v->is_number())
          out.value = v->get<double>();
        else
          ACCENT_CHECK(parse_number(raw, &out.value), t_.where(r), ": label '", raw,
                       "' is not a number (regression labels must be numbers)");
        out.names = {raw};
        break;
      case LabelKind::MultiLabel:
        out.names = multi_names(r, raw, v);
        break;
      case LabelKind::None:
        break;
    }
    return out;
  }

  std::vector<std::string> multi_names(size_t r, const std::string& raw, const ojson* v) const {
    std::vector<std::string> names;
    auto add = [&](std::string_view name) {
      name = trim(name);
      if (!name.empty()) names.emplace_back(name);  // "a||b" and a trailing "|" add nothing
    };
    ojson list;
    bool is_list = false;
    if (v != nullptr && v->is_array()) {
      list = *v, is_list = true;
    } else if (v == nullptr && o_.label_separator.empty() && !trim(raw).empty() && trim(raw)[0] == '[') {
      list = parse_ordered_json(raw, t_.where(r) + ": label cell starting with '['"), is_list = list.is_array();
    }
    if (is_list) {
      for (const auto& e : list) {
        if (e.is_string())
          names.push_back(e.get<std::string>());
        else if (e.is_number_integer())
          names.push_back(e.dump());  // its decimal text (no wrap of a huge unsigned)
        else
          fail(t_.where(r), ": multi-label list elements must be strings or integers, got ", e.dump());
      }
    } else if (o_.label_separator.empty()) {
      add(raw);
    } else {
      size_t pos = 0;
      while (true) {
        const size_t next = raw.find(o_.label_separator, pos);
        add(std::string_view(raw).substr(pos, next == std::string::npos ? std::string::npos : next - pos));
        if (next == std::string::npos) break;
        pos = next + o_.label_separator.size();
      }
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
  }

  const Table& t_;
  const ReadOptions& o_;
  size_t text_col_ = 0;
  int64_t pair_col_ = -1;
  int64_t label_col_ = -1;
  bool is_json_ = false;
};

}  // namespace

Dataset dataset_from_table(const Table& table, const ReadOptions& options) {
  return DatasetBuilder(table, options).build();
}

Dataset read_dataset(const std::string& path, const ReadOptions& options) {
  TableOptions t;
  t.format = options.format;
  t.has_header = options.has_header;
  t.quoting = options.quoting;
  t.replace_invalid_utf8 = options.replace_invalid_utf8;
  return dataset_from_table(read_table(path, t), options);
}

}  // namespace accent
