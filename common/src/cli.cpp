#include "proclab/cli.hpp"

#include "proclab/render.hpp"
#include "proclab/sizes.hpp"

#include <algorithm>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <unistd.h>

namespace proclab::cli {

std::string Formatter::make_option_opts(const CLI::Option* opt) const {
    if (opt->get_positional()) return " " + make_option_usage(opt);
    std::ostringstream out;
    if (!opt->get_option_text().empty()) return " " + opt->get_option_text();
    if (opt->get_type_size() != 0) {
        if (!opt->get_type_name().empty()) out << " " << get_label(opt->get_type_name());
        if (opt->get_required()) out << " " << get_label("REQUIRED");
    }
    return out.str();
}

namespace {
std::size_t help_width() { return static_cast<std::size_t>(terminal_width(STDOUT_FILENO)); }

// Each line of `text` wrapped to `width` on its own (render's wrap() takes one paragraph); CLI11
// indents what follows a newline in a description.
std::string wrap_each_line(const std::string& text, std::size_t width) {
    std::string out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto end = std::min(text.find('\n', start), text.size());
        out += wrap(std::string_view(text).substr(start, end - start), width, "");
        if (end == text.size()) break;
        out += '\n';
        start = end + 1;
    }
    return out;
}

// What the terminal leaves right of the names' column (`column` wide), never under 10 columns.
std::size_t description_width(std::size_t column) { return help_width() - std::min(help_width() - 10, column); }
}  // namespace

std::string Formatter::make_option_desc(const CLI::Option* opt) const {
    std::string desc = opt->get_description();
    const std::string& captured = opt->get_default_str();
    if (!captured.empty() && desc.find("(default: ") == std::string::npos)
        desc += fmt::format(" (default: {})", captured);
    return wrap_each_line(desc, description_width(column_width_));
}

std::string Formatter::make_subcommand(const CLI::App* sub) const {
    std::ostringstream out;
    CLI::detail::format_help(out, sub->get_display_name(true),
                             wrap_each_line(sub->get_description(), description_width(column_width_)), column_width_);
    return out.str();
}

std::string Formatter::make_description(const CLI::App* app) const {
    return wrap_each_line(CLI::Formatter::make_description(app), help_width());
}

std::string Formatter::make_footer(const CLI::App* app) const {
    return wrap_each_line(CLI::Formatter::make_footer(app), help_width());
}

std::string Formatter::make_option_usage(const CLI::Option* opt) const {
    // A positional: its value's name as many times as it must be given, then what may follow.
    std::string name = opt->get_type_name();
    name = name.substr(0, name.find(':'));  // "N:INT in [1 - 1000]": the name before the checks
    if (name.empty() || name.find_first_of("{[") != std::string::npos) name = opt->get_name();
    const int least = opt->get_expected_min();
    const int most = opt->get_expected_max();
    std::string usage;
    for (int i = 0; i < std::max(least, 1); ++i) usage += (i ? " " : "") + name;
    if (most > std::max(least, 1)) usage += fmt::format(" [{}...]", name);
    if (!opt->get_required() && least <= 1) usage = "[" + usage + "]";
    return usage;
}

std::string version_line(const std::string& program) {
    if (program == "proclab") return fmt::format("proclab {}", PROCLAB_VERSION);
    return fmt::format("{} (proclab {})", program, PROCLAB_VERSION);
}

void apply_conventions(CLI::App& app, const std::string& program) {
    app.formatter(std::make_shared<Formatter>());
    app.set_help_flag("-h,--help", "Print this help and exit");
    app.set_version_flag("--version", version_line(program), "Print the version and exit");
}

std::string exit_code_footer(const ExitCodes& codes) {
    std::string text = "Exit codes: 0 ran";
    if (codes.refuted) text += "; 1 a claim was refuted (with --strict)";
    text += "; 2 usage error";
    if (!codes.failed.empty()) text += "; 3 " + codes.failed;
    if (codes.timeout) text += "; 4 ran past --timeout (every child killed and reaped)";
    return text + ".";
}

namespace {

// "0.100000" as "0.1".
std::string plain_number(const std::string& text) {
    const auto v = real_number(text);
    return v ? fmt::format("{:g}", *v) : text;
}

}  // namespace

std::string one_line(std::string s) {
    for (auto& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

std::string plain_parse_error(const CLI::ParseError& e, const std::vector<std::string>& args) {
    const std::string what = one_line(e.what());
    // A first word that names no command: CLI11 says only that a command is required.
    if (dynamic_cast<const CLI::RequiredError*>(&e) && what.find("subcommand") != std::string::npos) {
        if (args.empty()) return "a command is required";
        const std::string& first = args.front();
        return first.starts_with("-") ? fmt::format("unknown option '{}'", first)
                                      : fmt::format("unknown command '{}'", first);
    }
    // Arguments nothing took: the first of them, as it was typed.
    if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
        const auto colon = what.find(": ");
        std::vector<std::string> extras;
        std::istringstream words(colon == std::string::npos ? std::string() : what.substr(colon + 2));
        for (std::string word; words >> word;) extras.push_back(word);
        for (const auto& arg : args)
            if (std::find(extras.begin(), extras.end(), arg) != extras.end())
                return arg.starts_with("-") ? fmt::format("unknown option '{}'", arg)
                                            : fmt::format("unexpected argument '{}'", arg);
    }
    // CLI::Range's "Value abc not in range 0.100000 to 86400.000000", after the option's name.
    static const std::regex range("^(-[-\\w]+): Value (.*) not in range (\\S+) to (\\S+)$");
    if (std::smatch m; std::regex_match(what, m, range))
        return fmt::format("{} {}: give a number from {} to {}", m[1].str(), m[2].str(), plain_number(m[3].str()),
                           plain_number(m[4].str()));
    return what;
}

}  // namespace proclab::cli
