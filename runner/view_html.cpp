// A View as an HTML fragment: verdicts as styled spans, a flagged cell in the flag style, tables
// that scroll sideways (or become cards on a phone) so they never run off a narrow screen. The
// page around it (html.cpp) carries the style sheet.
#include "view.hpp"

#include "proclab/environment.hpp"
#include "proclab/render.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace proclab::suite {

std::string base64(std::string_view bytes) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = (unsigned(static_cast<unsigned char>(bytes[i])) << 16) |
                           (unsigned(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                           unsigned(static_cast<unsigned char>(bytes[i + 2]));
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (const std::size_t rest = bytes.size() - i; rest > 0) {
        unsigned v = unsigned(static_cast<unsigned char>(bytes[i])) << 16;
        if (rest == 2) v |= unsigned(static_cast<unsigned char>(bytes[i + 1])) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

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

namespace {

void render_block(const Block& b, std::string& h) {
    const int level = std::min(6, 2 + b.depth);
    switch (b.kind) {
        case Block::Kind::heading: h += fmt::format("<h{}>{}</h{}>\n", level, html_escape(b.text), level); break;
        case Block::Kind::paragraph: h += "<p>" + html_escape(b.text) + "</p>\n"; break;
        case Block::Kind::note: h += "<p class=\"note\">" + html_escape(b.text) + "</p>\n"; break;
        case Block::Kind::items:
            h += "<ul>";
            for (const auto& item : b.items) h += "<li>" + html_escape(item) + "</li>";
            h += "</ul>\n";
            break;
        case Block::Kind::table: h += render_html_table(b.table); break;
        case Block::Kind::fold:
            h += "<details><summary>" + html_escape(b.text);
            if (b.verdict) h += " &mdash; " + cell_html(verdict_cell(b.verdict));
            h += "</summary>\n";
            for (const auto& c : b.children) render_block(c, h);
            h += "</details>\n";
            break;
        case Block::Kind::result_table: h += render_table_html(*b.result); break;
        case Block::Kind::figure: {
            const std::string caption = html_escape(b.text);
            const std::string src = b.embed_from.empty()
                                        ? html_escape(b.path)
                                        : "data:image/png;base64," + base64(read_small_file(b.embed_from).value_or(""));
            h += fmt::format("<figure><img alt=\"{}\" src=\"{}\"><figcaption>{}</figcaption></figure>\n", caption, src,
                             caption);
            break;
        }
        case Block::Kind::code: h += "<pre><code>" + html_escape(b.text) + "</code></pre>\n"; break;
    }
}

}  // namespace

std::string render_html_blocks(const View& v, bool with_title) {
    std::string h = with_title && !v.title.empty() ? "<h1>" + html_escape(v.title) + "</h1>\n" : "";
    for (const auto& b : v.blocks) render_block(b, h);
    return h;
}

}  // namespace proclab::suite
