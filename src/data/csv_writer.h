// data/csv_writer.h — writing rows as RFC 4180 CSV that pandas.read_csv reads back unchanged.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace accent {

// A field quoted only when it must be (a comma, quote, CR or LF inside, or leading/trailing spaces so that no
// reader strips them); quotes doubled. Same rule as Python's csv.QUOTE_MINIMAL plus the space case.
std::string csv_field(std::string_view field);
// One record: fields joined by ',' and terminated by '\n'.
std::string csv_record(const std::vector<std::string>& fields);

}  // namespace accent
