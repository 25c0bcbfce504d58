#include "proclab/render.hpp"

#include "proclab/claims.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace proclab {

bool want_colour(int fd) {
    const char* no_colour = std::getenv("NO_COLOR");
    if (no_colour && *no_colour) return false;
    return ::isatty(fd) == 1;
}

int terminal_width(int fd) {
    int columns = 100;
    winsize size{};
    if (::isatty(fd) == 1 && ::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
        columns = size.ws_col;
    } else if (const char* env = std::getenv("COLUMNS"); env && *env) {
        columns = std::atoi(env) > 0 ? std::atoi(env) : columns;
    }
    return std::clamp(columns, 60, 160);
}

std::string colour_verdict(Verdict v, bool colour) {
    const auto text = std::string(to_string(v));
    if (!colour) return text;
    const char* code = "";
    switch (v) {
        case Verdict::confirmed: code = "\033[32m"; break;
        case Verdict::refuted: code = "\033[31;1m"; break;
        case Verdict::nuanced: code = "\033[33m"; break;
        case Verdict::not_measured: code = "\033[90m"; break;
    }
    return code + text + "\033[0m";
}

std::size_t display_width(std::string_view text) {
    std::size_t width = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == 0x1b) {  // skip an ANSI escape up to its final letter
            while (i < text.size() && !std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
            continue;
        }
        if ((c & 0xC0) != 0x80) ++width;  // count UTF-8 lead bytes only
    }
    return width;
}

namespace {
// `text` in lines of at most `width` columns, broken at spaces; a word wider than that keeps a
// line of its own.
std::vector<std::string> wrap_lines(std::string_view text, std::size_t width) {
    std::vector<std::string> lines;
    std::string line;
    std::size_t used = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find(' ', pos);
        if (end == std::string_view::npos) end = text.size();
        const auto word = text.substr(pos, end - pos);
        const auto w = display_width(word);
        if (used > 0 && used + 1 + w > width) {
            lines.push_back(std::move(line));
            line.clear();
            used = 0;
        }
        if (used > 0) {
            line += ' ';
            ++used;
        }
        line += word;
        used += w;
        pos = end + 1;
    }
    lines.push_back(std::move(line));
    return lines;
}
}  // namespace

std::string wrap(std::string_view text, std::size_t width, std::string_view indent) {
    // Every line, the first included, is taken to start after `indent` columns: the caller
    // prints a prefix of that width before the first line.
    const std::size_t start = display_width(indent);
    std::string out;
    bool first = true;
    for (const auto& line : wrap_lines(text, width > start + 10 ? width - start : 10)) {
        if (!first) {
            out += '\n';
            out += indent;
        }
        out += line;
        first = false;
    }
    return out;
}

namespace {

std::size_t longest_word(std::string_view text) {
    std::size_t most = 0, pos = 0;
    while (pos <= text.size()) {
        auto end = text.find(' ', pos);
        if (end == std::string_view::npos) end = text.size();
        most = std::max(most, display_width(text.substr(pos, end - pos)));
        pos = end + 1;
    }
    return most;
}

// The narrowest a cell may wrap to: its longest word, or the whole cell where it is a value with its
// unit ("7.72 µs", "1.5 ms"): a number split from its unit reads as two figures.
std::size_t least_width(std::string_view cell) {
    const auto space = cell.find(' ');
    const bool value_with_unit = space != std::string_view::npos &&
                                 cell.find(' ', space + 1) == std::string_view::npos && space > 0 &&
                                 std::isdigit(static_cast<unsigned char>(cell[space - 1])) && display_width(cell) <= 12;
    return value_with_unit ? display_width(cell) : longest_word(cell);
}
}  // namespace

std::string TextTable::render(std::string_view indent, std::size_t width) const {
    const std::size_t columns = header_.size();
    std::vector<std::size_t> widths(columns, 0), least(columns, 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size() && i < columns; ++i) {
            widths[i] = std::max(widths[i], display_width(row[i]));
            least[i] = std::max(least[i], least_width(row[i]));
        }
    };
    measure(header_);
    for (const auto& row : rows_) measure(row);
    const std::size_t gaps = columns > 0 ? 2 * (columns - 1) : 0;
    auto total = [&](const std::vector<std::size_t>& w) {
        std::size_t sum = display_width(indent) + gaps;
        for (auto x : w) sum += x;
        return sum;
    };
    auto cell_of = [&](const std::vector<std::string>& row, std::size_t i) { return i < row.size() ? row[i] : ""; };

    if (width > 0 && total(least) > width) {
        // Too many columns for the width: each row as "column: value" lines under its first cell.
        std::string out;
        const std::string inner = std::string(indent) + "  ";
        for (std::size_t r = 0; r < rows_.size(); ++r) {
            if (r > 0) out += "\n";
            out += std::string(indent) + wrap(cell_of(rows_[r], 0), width, indent) + "\n";
            for (std::size_t i = 1; i < columns; ++i) {
                const std::string label = header_[i] + ": ";
                out += inner + wrap(label + cell_of(rows_[r], i), width, inner + "  ") + "\n";
            }
        }
        return out;
    }
    if (width > 0)  // narrow the widest column a column at a time until the table fits
        while (total(widths) > width) {
            std::size_t widest = columns;
            for (std::size_t i = 0; i < columns; ++i)
                if (widths[i] > least[i] && (widest == columns || widths[i] > widths[widest])) widest = i;
            if (widest == columns) break;
            --widths[widest];
        }

    bool wrapped = false;
    auto lines_of = [&](const std::vector<std::string>& row) {
        std::vector<std::vector<std::string>> cells;
        std::size_t height = 1;
        for (std::size_t i = 0; i < columns; ++i) {
            cells.push_back(wrap_lines(cell_of(row, i), widths[i]));
            height = std::max(height, cells.back().size());
        }
        std::string out;
        for (std::size_t l = 0; l < height; ++l) {
            std::string line(indent);
            for (std::size_t i = 0; i < columns; ++i) {
                const std::string part = l < cells[i].size() ? cells[i][l] : "";
                line += part;
                if (i + 1 < columns) line += std::string(widths[i] - std::min(widths[i], display_width(part)) + 2, ' ');
            }
            while (!line.empty() && line.back() == ' ') line.pop_back();
            out += line + "\n";
        }
        return std::pair{out, height};
    };
    std::string out = lines_of(header_).first;
    std::string rule(indent);
    for (std::size_t i = 0; i < columns; ++i) rule += std::string(widths[i], '-') + (i + 1 < columns ? "  " : "");
    out += rule + "\n";
    std::vector<std::pair<std::string, std::size_t>> rows;
    // A row whose first cell wraps needs a gap to be told from the next; where first cells fit,
    // a continuation line starts blank and reads as one.
    for (const auto& row : rows_) {
        rows.push_back(lines_of(row));
        wrapped = wrapped || (columns > 0 && display_width(cell_of(row, 0)) > widths[0]);
    }
    for (std::size_t r = 0; r < rows.size(); ++r) {
        if (wrapped && r > 0) out += "\n";  // rows of several lines need a gap to be told apart
        out += rows[r].first;
    }
    return out;
}

std::string format_cell(const Cell& cell, const Column& column) {
    if (cell.is_number()) return format_value(cell.number, column.unit);
    if (cell.is_text()) return cell.text;
    return "-";
}

std::string render_table_terminal(const Table& t, std::size_t width, bool colour) {
    std::vector<std::string> header;
    for (const auto& c : t.columns) header.push_back(c.label);
    TextTable tt(header);
    for (const auto& row : t.rows) {
        std::vector<std::string> cells;
        for (std::size_t i = 0; i < row.size(); ++i)
            cells.push_back(format_cell(row[i], i < t.columns.size() ? t.columns[i] : Column{}));
        tt.add_row(std::move(cells));
    }
    const std::string title = wrap(t.title, width, "  ");
    std::string out = (colour ? fmt::format("\033[1m{}\033[0m", title) : title) + "\n" + tt.render("  ", width);
    if (!t.note.empty()) out += "  " + wrap(t.note, width, "  ") + "\n";
    return out;
}

std::string markdown_cell(std::string text) {
    for (auto& c : text)
        if (c == '|') c = '/';
        else if (c == '\n') c = ' ';
    return text;
}

std::string render_table_markdown(const Table& t) {
    std::string md = fmt::format("**{}**\n\n|", markdown_cell(t.title));
    for (const auto& c : t.columns) md += fmt::format(" {} |", markdown_cell(c.label));
    md += "\n|";
    for (const auto& c : t.columns) md += c.unit.empty() ? "---|" : "--:|";
    md += "\n";
    for (const auto& row : t.rows) {
        md += "|";
        for (std::size_t i = 0; i < t.columns.size(); ++i)
            md += fmt::format(" {} |", markdown_cell(i < row.size() ? format_cell(row[i], t.columns[i]) : ""));
        md += "\n";
    }
    if (!t.note.empty()) md += fmt::format("\n{}\n", t.note);
    return md;
}

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string render_table_html(const Table& t) {
    std::string h = "<h3>" + html_escape(t.title) + "</h3>\n<div class=\"scroll\"><table><thead><tr>";
    for (const auto& c : t.columns) h += "<th>" + html_escape(c.label) + "</th>";
    h += "</tr></thead><tbody>\n";
    for (const auto& row : t.rows) {
        h += "<tr>";
        for (std::size_t i = 0; i < t.columns.size(); ++i) {
            const Cell cell = i < row.size() ? row[i] : Cell{};
            h += cell.is_number() ? "<td class=\"num\">" : "<td>";
            h += html_escape(format_cell(cell, t.columns[i])) + "</td>";
        }
        h += "</tr>\n";
    }
    h += "</tbody></table></div>\n";
    if (!t.note.empty()) h += "<p class=\"note\">" + html_escape(t.note) + "</p>\n";
    return h;
}

std::string render_environment(const Environment& env, bool verbose, std::size_t width) {
    TextTable t({"fact", "value"});
    for (const auto& f : env.facts) t.add_row({f.label, f.shown(verbose)});
    return t.render("  ", width);
}

std::string render_terminal(const Result& r, const RenderStyle& style) {
    const bool c = style.colour;
    auto bold = [&](std::string_view s) { return c ? fmt::format("\033[1m{}\033[0m", s) : std::string(s); };
    const auto width = static_cast<std::size_t>(std::max(40, style.width));

    std::string out;
    out += bold(wrap(fmt::format("{} — {}", r.demo, r.title), width, "  ")) + "\n";
    std::string claim_list;
    for (const auto& id : r.claims) claim_list += (claim_list.empty() ? "" : ", ") + id;
    if (claim_list.empty()) claim_list = "none (an instrument)";
    out += wrap(fmt::format("proclab {} · claims {} · wall time {:.2f} s · {}{}", r.proclab_version, claim_list,
                            r.wall_time_s, r.config.quick ? "quick run" : "full run",
                            r.config.repeat ? fmt::format(" · repeat {}", r.config.repeat) : ""),
                width, "  ") +
           "\n";
    out += wrap(fmt::format("clock: CLOCK_MONOTONIC, read overhead {} (subtracted where stated), observed step {}",
                            format_value(r.clock.read_overhead_ns, "ns"),
                            format_value(r.clock.observed_resolution_ns, "ns")),
                width, "  ") +
           "\n\n";

    // The answers first: each claim's verdict in its one-line summary; why, and what would refute
    // it, come after the tables that show it, and the machine last.
    if (!r.claims.empty()) {
        out += bold("Verdicts") + "\n";
        for (const auto& v : r.verdicts) {
            const auto verdict = colour_verdict(v.verdict, c);
            const auto pad = std::string(13 - std::min<std::size_t>(13, display_width(verdict)), ' ');
            const std::string statement = find_claim(v.claim) ? std::string(find_claim(v.claim)->statement) : "";
            out += fmt::format("  {:<3} {}{} {}\n", v.claim, verdict, pad,
                               wrap(v.summary_text(), width, std::string(20, ' ')));
            if (!statement.empty())
                out +=
                    std::string(20, ' ') + wrap("(the notes: " + statement + ")", width, std::string(20, ' ')) + "\n";
        }
        out += "\n";
    }

    for (const auto& t : r.tables) out += render_table_terminal(t, width, c) + "\n";

    for (const auto& f : r.figures) {
        out += bold(wrap(f.title, width, "")) + "\n";
        for (const auto& line : f.lines) out += "  " + line + "\n";
        if (!f.note.empty()) out += "  " + wrap(f.note, width, "  ") + "\n";
        out += "\n";
    }

    if (!r.metrics.empty()) {
        // Each metric by what it measures, in words; its id (what --json, --baseline and compare
        // name it by) is a code name, shown with --verbose.
        out += bold("Metrics") + (style.verbose ? "" : " (each one's id for --json and compare: --verbose)") + "\n";
        std::vector<std::string> head{"what it measures", "value", "n", "min", "median", "p99", "max", "cv"};
        if (style.verbose) head.insert(head.begin(), "id");
        TextTable mt(head);
        for (const auto& m : r.metrics) {
            std::vector<std::string> row{m.description.empty() ? m.name : m.description, format_value(m.value, m.unit)};
            if (m.summary) {
                const auto& s = *m.summary;
                for (auto cell :
                     {std::to_string(s.count), format_value(s.min, m.unit), format_value(s.median, m.unit),
                      format_value(s.p99, m.unit), format_value(s.max, m.unit), fmt::format("{:.1f}%", s.cv * 100)})
                    row.push_back(std::move(cell));
            }
            if (style.verbose) row.insert(row.begin(), m.name);
            mt.add_row(row);
        }
        out += mt.render("  ", width) + "\n";
    }

    for (const auto& n : r.notes) out += "note: " + wrap(n, width, "      ") + "\n";
    if (!r.notes.empty()) out += "\n";

    if (!r.claims.empty()) out += bold("Why each verdict") + "\n";
    for (const auto& v : r.verdicts) {
        const auto verdict = colour_verdict(v.verdict, c);
        const auto pad = std::string(13 - std::min<std::size_t>(13, display_width(verdict)), ' ');
        out +=
            fmt::format("  {:<3} {}{} {}\n", v.claim, verdict, pad, wrap(v.reason_text(), width, std::string(20, ' ')));
        if (!v.refuted_by.empty())
            out += std::string(20, ' ') +
                   wrap(fmt::format("would be refuted by: {}{}", v.refuted_by,
                                    v.guarantee ? " (a guarantee of Linux, demonstrated)" : ""),
                        width, std::string(20, ' ')) +
                   "\n";
    }
    if (!r.claims.empty()) out += "\n";
    out += bold("Environment") + "\n" + render_environment(r.environment, style.verbose, width);
    return out;
}

}  // namespace proclab
