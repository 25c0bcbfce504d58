// A View as an HTML fragment: verdicts as styled spans, a flagged cell in the flag style, tables
// that scroll sideways (or become cards on a phone) so they never run off a narrow screen. The
// page around it (html.cpp) carries the style sheet.
#include "view.hpp"

#include "proclab/render.hpp"

#include <fmt/format.h>

namespace proclab::suite {

namespace {

std::string cell_html(const ViewCell& c) {
    std::string text = html_escape(c.text);
    if (c.code) text = "<code>" + text + "</code>";
    if (c.verdict) {
        text = fmt::format("<span class=\"verdict {}\">{}</span>", html_escape(to_string(*c.verdict)), text);
        return c.flagged ? text + " <span class=\"flag\">*</span>" : text;
    }
    return c.flagged ? "<span class=\"flag\">" + text + "</span>" : text;
}

}  // namespace

std::string render_html_table(const ViewTable& t) {
    std::string h = t.cards ? "<div class=\"scroll\"><table class=\"stack\"><thead><tr>"
                            : "<div class=\"scroll\"><table><thead><tr>";
    for (const auto& c : t.columns) h += "<th>" + html_escape(c) + "</th>";
    h += "</tr></thead><tbody>\n";
    for (const auto& row : t.rows) {
        h += "<tr>";
        for (std::size_t i = 0; i < row.size(); ++i)
            h += fmt::format("<td data-label=\"{}\">{}</td>", i < t.columns.size() ? html_escape(t.columns[i]) : "",
                             cell_html(row[i]));
        h += "</tr>\n";
    }
    return h + "</tbody></table></div>\n";
}

std::string render_html_blocks(const View& v, bool with_title) {
    std::string h = with_title && !v.title.empty() ? "<h1>" + html_escape(v.title) + "</h1>\n" : "";
    for (const auto& b : v.blocks) {
        switch (b.kind) {
            case Block::Kind::heading: h += "<h2>" + html_escape(b.text) + "</h2>\n"; break;
            case Block::Kind::paragraph: h += "<p>" + html_escape(b.text) + "</p>\n"; break;
            case Block::Kind::note: h += "<p class=\"note\">" + html_escape(b.text) + "</p>\n"; break;
            case Block::Kind::items:
                h += "<ul>";
                for (const auto& item : b.items) h += "<li>" + html_escape(item) + "</li>";
                h += "</ul>\n";
                break;
            case Block::Kind::table: h += render_html_table(b.table); break;
        }
    }
    return h;
}

}  // namespace proclab::suite
