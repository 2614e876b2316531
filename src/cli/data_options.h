// cli/data_options.h — the flags every data-reading verb shares (train, evaluate, data), mapped onto ReadOptions.
#pragma once
#include <CLI/CLI.hpp>

#include "data/dataset.h"

namespace accent::cli {

inline void add_read_options(CLI::App& app, ReadOptions& r) {
  app.add_option("--text-column", r.text_column, "Column holding the text")->capture_default_str();
  app.add_option("--text-pair-column", r.text_pair_column, "Column holding the second text of a pair");
  app.add_option("--label-column", r.label_column, "Column holding the label")->capture_default_str();
  app.add_option("--format", r.format, "auto|csv|tsv|tsv-raw|jsonl|json (auto: by file extension)")
      ->capture_default_str();
  app.add_option("--label-type", r.label_type, "auto|class|multi|float (float = regression targets)")
      ->capture_default_str();
  app.add_option("--label-separator", r.label_separator, "Separator of several labels in one cell (multi-label)");
  app.add_flag("--no-quoting", [&r](int64_t) { r.quoting = false; }, "Treat '\"' as plain text in CSV/TSV");
  app.add_flag("--replace-invalid-utf8", r.replace_invalid_utf8, "Replace invalid UTF-8 with U+FFFD (counted) "
               "instead of stopping with an error");
  app.add_flag("--drop-empty-text", r.drop_empty_text, "Drop (and count) rows with an empty text instead of failing");
}

}  // namespace accent::cli
