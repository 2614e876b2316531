// fuzz/jsonl_fuzz.cpp — data files as JSON Lines or a JSON array → parse_table → dataset_from_table (what `accent
// data`, `train`, `evaluate` and `predict -i` run on a .jsonl/.json file).
//
// The first byte picks the variant (file name .jsonl or .json, invalid UTF-8 replaced or refused, label typing);
// the rest is the file. Invariants of an accepted file: one source line per row, every row as wide as the columns,
// every kept example names a line of the file, and the streaming parser fed the bytes in two pieces (cut where
// the mode's high bits say) gives the same rows as the whole (data/table_stream.h).
#include "core/error.h"
#include "data/dataset.h"
#include "data/table.h"
#include "data/table_stream.h"
#include "fuzz/fuzz_util.h"

using namespace accent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view bytes = fuzz::as_view(data + 1, size - 1);
  const std::string path = (mode & 1) ? "fuzz/rows.json" : "fuzz/rows.jsonl";
  TableOptions topt;
  topt.replace_invalid_utf8 = (mode & 2) != 0;
  Table table;
  try {
    table = parse_table(bytes, path, topt);
  } catch (const Error&) {
    return 0;
  }
  FUZZ_ASSERT(table.rows.size() == table.lines.size(), "one line number per row");
  for (const auto& row : table.rows) FUZZ_ASSERT(row.size() == table.columns.size(), "rows as wide as the columns");
  {
    TableParser parser(path, topt);
    std::vector<TableRow> rows;
    const size_t cut = bytes.empty() ? 0 : (size_t{mode} * 131) % bytes.size();
    parser.feed(bytes.substr(0, cut), rows);
    parser.feed(bytes.substr(cut), rows);
    parser.finish(rows);
    FUZZ_ASSERT(rows.size() == table.rows.size() && parser.columns() == table.columns, "pieces read as the whole");
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i].cells.resize(table.columns.size());
      FUZZ_ASSERT(rows[i].cells == table.rows[i] && rows[i].line == table.lines[i], "pieces read as the whole");
    }
  }
  ReadOptions ropt;
  static const char* kLabelTypes[] = {"auto", "class", "multi", "float"};
  ropt.label_type = kLabelTypes[(mode >> 2) & 3];
  ropt.drop_empty_text = (mode & 16) != 0;
  ropt.drop_missing_labels = (mode & 32) != 0;
  try {
    const Dataset d = dataset_from_table(table, ropt);
    for (const Example& ex : d.rows) FUZZ_ASSERT(ex.line >= 1, "every example names its line");
  } catch (const Error&) {
  }
  return 0;
}
