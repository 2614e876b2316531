// data/dataset.h — labelled text examples read from a user's file: columns chosen, labels typed, problems named.
//
// read_dataset(path, options) reads the table (data/table.h: pandas-exact CSV/TSV, raw TSV, JSON Lines, JSON),
// picks the text / text-pair / label columns by name and types the labels the way a Hugging Face script would
// see them after `load_dataset("csv"|"json")` (pandas / Arrow typing):
//   Integer    every label is an integer ("1", " 2", "+3", JSON 3)        -> classes, sorted numerically
//   String     anything else that is not all-numeric (JSON strings stay strings, "1" included)
//                                                                          -> classes, sorted by code point
//   Float      all numeric with at least one non-integer ("0.5", "1e3", JSON 0.5) -> regression targets
//              (run_glue.py treats a float label column as regression; force "class" to avoid that)
//   MultiLabel a JSON list per row (["a","b"], [1,3]), or label_separator set (cell "a|b" -> {"a","b"}, names
//              trimmed of surrounding spaces, an empty cell = no labels)
// label_type forces a kind: "class" (Integer or String), "multi", "float"; "auto" infers as above.
//
// Nothing is dropped silently. By default an empty text, an empty label cell, a JSON text that is not a string,
// a label that does not fit the forced type — each is an accent::Error naming file:line. With drop_empty_text /
// drop_missing_labels such rows are dropped and counted in the ReadSummary (one-line human form: to_string()).
// Only "" counts as empty (a text of spaces is kept, like pandas keeps it). pandas' NA strings ("NA", "null",
// "nan", ...) are NOT treated as missing: they are text.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/table.h"

namespace accent {

enum class LabelKind { None, Integer, String, Float, MultiLabel };
const char* label_kind_name(LabelKind kind);  // "none", "integer", "string", "float", "multi-label"

struct ReadOptions {
  std::string format = "auto";        // auto | csv | tsv | tsv-raw | jsonl | json (see data/table.h)
  std::optional<bool> has_header;     // unset: csv/tsv yes, tsv-raw no; without a header columns are "0", "1", ...
  bool quoting = true;                // csv/tsv: false = pandas quoting=QUOTE_NONE ('"' is plain text)
  bool replace_invalid_utf8 = false;  // invalid UTF-8 -> U+FFFD (counted) instead of an error
  std::string text_column = "text";
  std::string text_pair_column;       // empty: single-text examples
  std::string label_column = "label";  // empty: no labels (e.g. prediction input)
  std::string label_type = "auto";    // auto | class | multi | float
  std::string label_separator;        // csv/tsv multi-label cells, e.g. "|"; setting it implies multi-label
  bool drop_empty_text = false;       // drop rows with text "" (counted) instead of failing
  bool drop_missing_labels = false;   // drop rows with an empty/null label (counted) instead of failing
};

// One row's label. Integer/String: names = {class name} (integers in canonical decimal: " +01" -> "1") and, for
// Integer, value = the integer. Float: value = the target, names = {cell text}. MultiLabel: names = the labels.
struct LabelValue {
  std::vector<std::string> names;
  double value = 0;
};

struct Example {
  std::string text;
  std::optional<std::string> text_pair;
  LabelValue label;
  int64_t line = 0;  // 1-based line of the row in its file (JSON array: record number)
};

struct ReadSummary {
  std::string path;
  int64_t rows_read = 0;              // data rows in the file (header and blank lines not included)
  int64_t rows_kept = 0;
  int64_t dropped_empty_text = 0;
  int64_t dropped_missing_label = 0;
  int64_t blank_lines_skipped = 0;
  int64_t padded_rows = 0;            // rows with fewer fields than the header (missing cells read as "")
  int64_t invalid_utf8_replaced = 0;  // sequences replaced by U+FFFD
  int64_t invalid_utf8_lines = 0;
  // e.g. "train.csv: 1000 rows read, 998 kept; dropped 2 (empty text); skipped 3 blank lines"
  std::string to_string() const;
};

struct Dataset {
  std::string path;
  std::string format;  // resolved table format
  std::vector<Example> rows;
  LabelKind label_kind = LabelKind::None;
  bool lines_are_records = false;
  ReadSummary summary;
  std::string where(size_t row) const;  // "path:line" for messages
};

Dataset read_dataset(const std::string& path, const ReadOptions& options);
// Same from an already-read table (e.g. to reuse one file for several column choices).
Dataset dataset_from_table(const Table& table, const ReadOptions& options);

}  // namespace accent
