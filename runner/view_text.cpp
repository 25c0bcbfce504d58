// A View for the terminal: headings on a line of their own, paragraphs and lists wrapped at the
// terminal's width, tables aligned (common TextTable), verdicts coloured where colour is on.
#include "view.hpp"

#include "proclab/render.hpp"

#include <sstream>

namespace proclab::suite {

namespace {

std::string cell_text(const ViewCell& c, const ViewTable& t, bool colour) {
    std::string text =
        c.verdict && colour && c.text == to_string(*c.verdict) ? colour_verdict(*c.verdict, true) : c.text;
    return c.flagged ? text + t.terminal_mark : text;
}

void render_block(const Block& b, const TextStyle& style, std::string& out) {
    const auto width = static_cast<std::size_t>(style.width);
    switch (b.kind) {
        case Block::Kind::heading:
            out += '\n';
            out += wrap(b.text, width, "  ");
            out += '\n';
            break;
        case Block::Kind::paragraph:
        case Block::Kind::note: out += "  " + wrap(b.text, width, "  ") + "\n"; break;
        case Block::Kind::items:
            for (const auto& item : b.items) out += "  " + wrap(item, width, "    ") + "\n";
            break;
        case Block::Kind::table: {
            TextTable t(b.table.columns);
            for (const auto& row : b.table.rows) {
                std::vector<std::string> cells;
                for (const auto& c : row) cells.push_back(cell_text(c, b.table, style.colour));
                t.add_row(std::move(cells));
            }
            out += t.render("  ", width);
            break;
        }
        case Block::Kind::fold:
            out += "\n" + b.text + (b.verdict ? ": " + colour_verdict(*b.verdict, style.colour) : "") + "\n";
            for (const auto& c : b.children) render_block(c, style, out);
            break;
        case Block::Kind::result_table: out += render_table_terminal(*b.result, width, style.colour); break;
        case Block::Kind::figure: out += "  " + wrap(b.text + " (" + b.path + ")", width, "  ") + "\n"; break;
        case Block::Kind::code: {
            std::istringstream lines(b.text);
            for (std::string line; std::getline(lines, line);) out += "    " + line + "\n";
            break;
        }
    }
}

}  // namespace

std::string render_text(const View& v, const TextStyle& style) {
    std::string out = v.title.empty() ? "" : wrap(v.title, static_cast<std::size_t>(style.width), "  ") + "\n";
    for (const auto& b : v.blocks) render_block(b, style, out);
    return out;
}

}  // namespace proclab::suite
