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

}  // namespace proclab::suite
