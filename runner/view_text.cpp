// A View for the terminal: headings on a line of their own, paragraphs and lists wrapped at the
// terminal's width, tables aligned (common TextTable), verdicts coloured where colour is on.
#include "view.hpp"

#include "proclab/render.hpp"

namespace proclab::suite {

namespace {

std::string cell_text(const ViewCell& c, const ViewTable& t, bool colour) {
    std::string text =
        c.verdict && colour && c.text == to_string(*c.verdict) ? colour_verdict(*c.verdict, true) : c.text;
    return c.flagged ? text + t.terminal_mark : text;
}

}  // namespace

std::string render_text(const View& v, const TextStyle& style) {
    const auto width = static_cast<std::size_t>(style.width);
    std::string out = v.title.empty() ? "" : v.title + "\n";
    for (const auto& b : v.blocks) {
        switch (b.kind) {
            case Block::Kind::heading: out += "\n" + b.text + "\n"; break;
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
                out += t.render();
                break;
            }
        }
    }
    return out;
}

}  // namespace proclab::suite
