// The runner's views for people as data: compare, the fleet, stability and the crosscheck each
// build a View (headings, paragraphs, lists, tables whose cells know whether they hold a verdict
// or a flagged figure), and one renderer per format draws any View: view_text.cpp (the
// terminal), view_markdown.cpp, view_html.cpp. A new format is one new renderer; a sentence or a
// rule of a view is written once, where the view is built. (The JSON of each is its data, not a
// view: comparison_json, fleet_json, stability_json, crosscheck_json.)
#pragma once

#include "proclab/evidence.hpp"
#include "proclab/result.hpp"

#include <optional>
#include <string>
#include <vector>

namespace proclab::suite {

struct ViewCell {
    ViewCell() = default;
    ViewCell(std::string text_) : text(std::move(text_)) {}
    ViewCell(const char* text_) : text(text_) {}
    std::string text;
    std::optional<Verdict> verdict = {};  // the text is this verdict: coloured, styled
    bool flagged = false;                 // stands out (bold, the flag style; the table's mark in the terminal)
    bool code = false;                    // a command or a path
};

// A verdict as the views and the JSON write it: its name, or "-" where a run lacks the claim.
std::string verdict_text(const std::optional<Verdict>& v);
// A verdict as a cell, its text verdict_text's.
ViewCell verdict_cell(const std::optional<Verdict>& v, bool flagged = false);
// Text that stands out where `flagged`.
ViewCell flag_cell(std::string text, bool flagged);

struct ViewTable {
    std::vector<std::string> columns = {};
    std::vector<std::vector<ViewCell>> rows = {};
    std::string terminal_mark = {};  // after a flagged cell in the terminal, where colour cannot be relied on (" *")
    bool cards = false;              // HTML: on a narrow screen each row becomes a card
};

struct Block {
    // fold: a section a reader opens (HTML's details; a heading and its blocks elsewhere);
    // result_table: a demo's own table (common render.hpp draws it); figure: a plot; code: commands.
    enum class Kind { heading, paragraph, note, items, table, fold, result_table, figure, code };
    Kind kind = Kind::paragraph;
    std::string text = {};                // heading, paragraph, note, code; a fold's summary; a figure's caption
    std::vector<std::string> items = {};  // items
    ViewTable table = {};
    int depth = 0;                        // heading, fold: levels below the view's sections
    std::optional<Verdict> verdict = {};  // fold: shown beside its summary
    std::vector<Block> children = {};     // fold
    std::optional<Table> result = {};     // result_table
    std::string path = {};                // figure: as the page links it ("plots/x.png")
    std::string embed_from = {};          // figure: the file whose bytes HTML embeds; empty: linked
};

struct View {
    std::string title = {};  // "# title" in Markdown, the page's h1 in HTML
    std::vector<Block> blocks = {};

    View& heading(std::string text);
    View& paragraph(std::string text);
    View& note(std::string text);  // smaller, a method or a caveat
    View& items(std::vector<std::string> items);
    View& table(ViewTable table);
    View& code(std::string commands);
    // A section that another view is: its title as a heading, its blocks one level down.
    View& section(const View& sub);
    View& add(Block b);
};

// Builders of the blocks that nest or carry more than text.
Block fold(std::string summary, std::vector<Block> children, std::optional<Verdict> verdict = std::nullopt);
Block items_block(std::vector<std::string> items);
Block note_block(std::string text);
Block result_table_block(Table t);
Block figure_block(std::string caption, std::string path, std::string embed_from = {});

struct TextStyle {
    int width = 100;
    bool colour = false;
};
std::string render_text(const View& v, const TextStyle& style = {});
// `level`: the title's heading level (2 for a view that is a section of a larger page).
std::string render_markdown(const View& v, int level = 1);
// The blocks as an HTML fragment (the title as h1 when `with_title`), for a page to hold.
std::string render_html_blocks(const View& v, bool with_title = true);
std::string render_html_table(const ViewTable& t);
std::string base64(std::string_view bytes);

}  // namespace proclab::suite
