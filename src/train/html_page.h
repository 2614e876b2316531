// train/html_page.h — the pieces every self-contained HTML page of accent shares (the training report,
// `accent explain`): one stylesheet, headline cards and table rows. No script, no external resource.
#pragma once
#include <string>
#include <vector>

namespace accent {

// A headline number: key above, value below (both escaped).
std::string html_card(const std::string& key, const std::string& value);
// One table row; the first cell is a left-aligned name. Cells are HTML (escape text before passing it).
std::string html_row(const std::vector<std::string>& cells, bool header = false);
// <!doctype html> … <body><header>title, subtitle</header><main> with the shared stylesheet (page frame, sections,
// cards, tables, charts) and `extra_style` after it — close with html_page_end().
std::string html_page_begin(const std::string& title, const std::string& subtitle, const std::string& extra_style = "");
std::string html_page_end();

}  // namespace accent
