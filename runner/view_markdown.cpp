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

void render_block(const Block& b, int level, std::string& md) {
    const std::string hashes(static_cast<std::size_t>(level + 1 + b.depth), '#');
    switch (b.kind) {
        case Block::Kind::heading: md += hashes + " " + b.text + "\n\n"; break;
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
        case Block::Kind::fold:
            md += "#" + hashes + " " + b.text + (b.verdict ? fmt::format(": **{}**", to_string(*b.verdict)) : "") +
                  "\n\n";
            for (const auto& c : b.children) render_block(c, level, md);
            break;
        case Block::Kind::result_table: md += render_table_markdown(*b.result) + "\n"; break;
        case Block::Kind::figure: md += fmt::format("![{}]({})\n\n*{}*\n\n", b.text, b.path, b.text); break;
        case Block::Kind::code: md += "```sh\n" + b.text + (b.text.ends_with('\n') ? "" : "\n") + "```\n\n"; break;
    }
}

}  // namespace

std::string render_markdown(const View& v, int level) {
    std::string md = v.title.empty() ? "" : std::string(static_cast<std::size_t>(level), '#') + " " + v.title + "\n\n";
    for (const auto& b : v.blocks) render_block(b, level, md);
    return md;
}

}  // namespace proclab::suite
