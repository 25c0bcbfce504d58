// The command-line habits every proclab executable shares, the demos (through the harness) and the
// runner alike: -h/--help and --version on each; each option's default shown one way, as
// "(default: X)" at the end of its description; a positional that takes several values says how
// many ("RUN RUN [RUN...]"); an exit-code footer that lists only the codes the command can return.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace proclab::cli {

// CLI11's help, with the habits above: no "=default" after the type (the description carries it),
// no "x 2" after a positional (the usage line says it).
// CLI11's help, wrapped to the terminal (stdout's width, else COLUMNS, else 100): descriptions
// continue under their column, the program's description and footer wrap as paragraphs.
class Formatter : public CLI::Formatter {
public:
    std::string make_option_opts(const CLI::Option* opt) const override;
    std::string make_option_desc(const CLI::Option* opt) const override;
    std::string make_option_usage(const CLI::Option* opt) const override;
    std::string make_subcommand(const CLI::App* sub) const override;
    std::string make_description(const CLI::App* app) const override;
    std::string make_footer(const CLI::App* app) const override;
};

// Installs the formatter, -h,--help and --version ("NAME (proclab VERSION)") on `app`; its
// subcommands added afterwards inherit the formatter.
void apply_conventions(CLI::App& app, const std::string& program);

// What each exit code of proclab means; a command lists only those it can return.
struct ExitCodes {
    bool refuted = false;  // 1: a claim was refuted, with --strict
    std::string failed;    // 3: what "failed" means for this command
    bool timeout = false;  // 4: ran past --timeout
};
std::string exit_code_footer(const ExitCodes& codes);

// What --version prints for `program`: "NAME (proclab VERSION)", or "proclab VERSION".
std::string version_line(const std::string& program);

// `s` on one line: line breaks become spaces, trailing spaces go (an error message is one line).
std::string one_line(std::string s);

// CLI11's parse error in the words of the command line it came from (`args`: the arguments after
// the program's name, in order): "unknown command 'frobnicate'", "unknown option '--trials'",
// "--timeout abc: give a number from 0.1 to 86400"; one line, whatever CLI11 said.
std::string plain_parse_error(const CLI::ParseError& e, const std::vector<std::string>& args);

}  // namespace proclab::cli
