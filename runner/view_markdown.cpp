// A View as Markdown: the title as "#", headings as "##", tables as pipe tables (a flagged cell in
// bold), each block followed by a blank line.
#include "view.hpp"

#include "proclab/render.hpp"

#include <fmt/format.h>

namespace proclab::suite {

namespace {

std::string cell_markdown(const ViewCell& c) {
    std::string text = markdown_cell(c.text);
    if (c.code) text = "`" + text + "`";
    return c.flagged ? "**" + text + "**" : text;
}

}  // namespace

std::string render_markdown(const View& v, int level) {
    const std::string title(static_cast<std::size_t>(level), '#'), section = title + "#";
    std::string md = v.title.empty() ? "" : title + " " + v.title + "\n\n";
    for (const auto& b : v.blocks) {
        switch (b.kind) {
            case Block::Kind::heading: md += section + " " + b.text + "\n\n"; break;
            case Block::Kind::paragraph:
            case Block::Kind::note: md += markdown_cell(b.text) + "\n\n"; break;
            case Block::Kind::items:
                for (const auto& item : b.items) md += "- " + markdown_cell(item) + "\n";
                md += "\n";
                break;
            case Block::Kind::table: {
                std::string head = "|", rule = "|";
                for (const auto& c : b.table.columns) {
                    head += fmt::format(" {} |", markdown_cell(c));
                    rule += "---|";
                }
                md += head + "\n" + rule + "\n";
                for (const auto& row : b.table.rows) {
                    md += "|";
                    for (const auto& c : row) md += fmt::format(" {} |", cell_markdown(c));
                    md += "\n";
                }
                md += "\n";
                break;
            }
        }
    }
    return md;
}

}  // namespace proclab::suite
