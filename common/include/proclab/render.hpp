// Views of one Result for people: the aligned terminal report, and the one formatter of numbers
// and tables that the terminal, Markdown and HTML views share (the JSON view: serialize.hpp).
#pragma once

#include "proclab/result.hpp"
#include "proclab/units.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace proclab {

struct RenderStyle {
    bool colour = false;
    int width = 100;       // where long reasons wrap
    bool verbose = false;  // unknown facts with their full reasons
};

// Colour only on a terminal, and never when NO_COLOR is set to a non-empty value (no-color.org).
bool want_colour(int fd);

// Where text for `fd` should wrap: the terminal's width when `fd` is one (TIOCGWINSZ), else
// $COLUMNS when set, else 100; kept within 60..160 so a table stays readable.
int terminal_width(int fd);

std::string render_terminal(const Result& r, const RenderStyle& style);
std::string render_environment(const Environment& env, bool verbose = false, std::size_t width = 0);

// format_value(), the one formatter of a figure with its unit, is in units.hpp.

std::string colour_verdict(Verdict v, bool colour);

// A table cell as text: a number by its column's unit (format_value; "x" as a factor, "fraction"
// as a percentage), text as it is, a missing cell as "-".
std::string format_cell(const Cell& cell, const Column& column);
// One table, three ways: aligned text (with its title and note, wrapped at `width`), a Markdown
// table (title in bold, note under it), an HTML table (title as h3, number cells right-aligned).
std::string render_table_terminal(const Table& t, std::size_t width, bool colour = false);
std::string render_table_markdown(const Table& t);
std::string render_table_html(const Table& t);
// Text for one Markdown table cell: pipes become '/', newlines spaces.
std::string markdown_cell(std::string text);
std::string html_escape(std::string_view text);

// Aligned columns; widths measured in characters, not bytes, and ignoring ANSI colour codes.
class TextTable {
public:
    explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
    void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    // Aligned columns. Where `width` is given and the natural layout is wider, the widest columns
    // narrow and their cells wrap at spaces (a blank line between rows where a first cell wraps); where even
    // each column's longest word would not fit, every row is printed as "column: value" lines.
    std::string render(std::string_view indent = "  ", std::size_t width = 0) const;

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

std::size_t display_width(std::string_view text);

// Greedy word wrap for text printed after a prefix as wide as `indent`: lines end by column
// `width`, and continuation lines start with `indent`.
std::string wrap(std::string_view text, std::size_t width, std::string_view indent);

}  // namespace proclab
