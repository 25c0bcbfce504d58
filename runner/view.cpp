// The View builder (view.hpp); each format's renderer is in a file of its own.
#include "view.hpp"

namespace proclab::suite {

std::string verdict_text(const std::optional<Verdict>& v) { return v ? std::string(to_string(*v)) : "-"; }

ViewCell verdict_cell(const std::optional<Verdict>& v, bool flagged) {
    ViewCell c(verdict_text(v));
    c.verdict = v;
    c.flagged = flagged;
    return c;
}

ViewCell flag_cell(std::string text, bool flagged) {
    ViewCell c(std::move(text));
    c.flagged = flagged;
    return c;
}

View& View::heading(std::string text) {
    blocks.push_back({.kind = Block::Kind::heading, .text = std::move(text)});
    return *this;
}

View& View::paragraph(std::string text) {
    blocks.push_back({.kind = Block::Kind::paragraph, .text = std::move(text)});
    return *this;
}

View& View::note(std::string text) {
    blocks.push_back({.kind = Block::Kind::note, .text = std::move(text)});
    return *this;
}

View& View::items(std::vector<std::string> list) {
    blocks.push_back({.kind = Block::Kind::items, .items = std::move(list)});
    return *this;
}

View& View::table(ViewTable t) {
    blocks.push_back({.kind = Block::Kind::table, .table = std::move(t)});
    return *this;
}

View& View::code(std::string commands) {
    blocks.push_back({.kind = Block::Kind::code, .text = std::move(commands)});
    return *this;
}

View& View::add(Block b) {
    blocks.push_back(std::move(b));
    return *this;
}

namespace {
void deepen(Block& b) {
    ++b.depth;
    for (auto& c : b.children) deepen(c);
}
}  // namespace

View& View::section(const View& sub) {
    if (!sub.title.empty()) heading(sub.title);
    for (Block b : sub.blocks) {
        deepen(b);
        blocks.push_back(std::move(b));
    }
    return *this;
}

Block fold(std::string summary, std::vector<Block> children, std::optional<Verdict> verdict) {
    return {.kind = Block::Kind::fold, .text = std::move(summary), .verdict = verdict, .children = std::move(children)};
}

Block items_block(std::vector<std::string> items) { return {.kind = Block::Kind::items, .items = std::move(items)}; }

Block note_block(std::string text) { return {.kind = Block::Kind::note, .text = std::move(text)}; }

Block result_table_block(Table t) { return {.kind = Block::Kind::result_table, .result = std::move(t)}; }

Block figure_block(std::string caption, std::string path, std::string embed_from) {
    return {.kind = Block::Kind::figure,
            .text = std::move(caption),
            .path = std::move(path),
            .embed_from = std::move(embed_from)};
}

}  // namespace proclab::suite
