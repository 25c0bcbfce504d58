#include "proclab/demo.hpp"

#include <CLI/CLI.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace proclab;
using Action = ParsedCommandLine::Action;

namespace {
DemoSpec spec() {
    DemoSpec s;
    s.name = "demo_x";
    s.title = "a title";
    s.claims = {"P1"};
    s.default_timeout_s = 42;
    s.repeat = RepeatSpec{"Things counted", 1000, 10, ""};
    s.trials = true;
    return s;
}

void require_one_line_error(const ParsedCommandLine& p) {
    REQUIRE(p.action == Action::usage_error);
    CHECK_FALSE(p.text.empty());
    CHECK(p.text.find('\n') == std::string::npos);
}
}  // namespace

TEST_CASE("no options: a full run with the demo's own timeout", "[options]") {
    const auto p = parse_command_line(spec(), {});
    REQUIRE(p.action == Action::run);
    CHECK_FALSE(p.options.json);
    CHECK_FALSE(p.options.quick);
    CHECK_FALSE(p.options.repeat.has_value());
    CHECK(p.options.timeout_s == 42);
    CHECK_FALSE(p.options.strict);
}

TEST_CASE("every common option is parsed", "[options]") {
    const auto p =
        parse_command_line(spec(), {"--quick", "--repeat", "7", "--timeout", "2.5", "--strict", "--json", "out.json"});
    REQUIRE(p.action == Action::run);
    CHECK(p.options.quick);
    CHECK(p.options.repeat == 7);
    CHECK(p.options.timeout_s == 2.5);
    CHECK(p.options.strict);
    CHECK(p.options.json);
    CHECK(p.options.json_path == "out.json");
    CHECK_FALSE(p.options.json_to_stdout());
}

TEST_CASE("JSON goes to stdout with --json alone or with -", "[options]") {
    for (std::vector<std::string> args : {std::vector<std::string>{"--json"}, {"--json", "-"}, {"--json", "--quick"}}) {
        const auto p = parse_command_line(spec(), args);
        REQUIRE(p.action == Action::run);
        CHECK(p.options.json_to_stdout());
    }
}

TEST_CASE("a demo's repeat default depends on --quick unless --repeat is given", "[options]") {
    DemoContext ctx;
    ctx.repeat_spec = RepeatSpec{"Things counted", 1000, 10, ""};
    CHECK(ctx.repeat() == 1000);
    ctx.options.quick = true;
    CHECK(ctx.repeat() == 10);
    ctx.options.repeat = 3;
    CHECK(ctx.repeat() == 3);
}

TEST_CASE("short forms: -q, -j and -v", "[options]") {
    const auto p = parse_command_line(spec(), {"-q", "-j", "out.json", "-v"});
    REQUIRE(p.action == Action::run);
    CHECK(p.options.quick);
    CHECK(p.options.json_path == "out.json");
    CHECK(p.options.verbose);
}

TEST_CASE("the version flag names the program and proclab's version", "[options]") {
    const auto p = parse_command_line(spec(), {"--version"});
    REQUIRE(p.action == Action::version);
    CHECK_THAT(p.text, Catch::StartsWith("demo_x (proclab "));
}

TEST_CASE("options that mean nothing for a demo are not offered", "[options]") {
    DemoSpec bare = spec();
    bare.claims = {};
    bare.repeat.reset();
    bare.trials = false;
    for (const char* option : {"--repeat", "--trials", "--strict"}) {
        INFO(option);
        CHECK(parse_command_line(bare, {option, "3"}).action == Action::usage_error);
        CHECK_THAT(parse_command_line(bare, {"--help"}).text, !Catch::Contains(option));
    }
    const auto help = parse_command_line(bare, {"--help"}).text;
    CHECK_THAT(help, Catch::Contains("it decides no claim"));
    CHECK_THAT(help, !Catch::Contains("claims: )"));
    CHECK_THAT(help, !Catch::Contains("1 a claim was refuted"));
}

TEST_CASE("every default is shown one way: (default: X)", "[options]") {
    ::setenv("COLUMNS", "160", 1);  // the wording, each on one line: wide enough that nothing wraps
    const auto help = parse_command_line(spec(), {"--help"}).text;
    ::unsetenv("COLUMNS");
    CHECK_THAT(help, Catch::Contains("(default: 1000; --quick: 10)"));
    CHECK_THAT(help, !Catch::Contains("=42"));
    CHECK_THAT(help, Catch::Contains("(default: 42)"));
}

TEST_CASE("bad values and unknown options are one-line usage errors", "[options]") {
    for (std::vector<std::string> args : {std::vector<std::string>{"--repeat", "-1"},
                                          {"--repeat", "abc"},
                                          {"--repeat", "0"},
                                          {"--repeat"},
                                          {"--timeout", "0"},
                                          {"--timeout", "soon"},
                                          {"--no-such-option"},
                                          {"stray-argument"},
                                          {"--quick=yes-please"}}) {
        INFO(args.front());
        require_one_line_error(parse_command_line(spec(), args));
    }
}

TEST_CASE("asking for --help is not an error", "[options]") {
    const auto p = parse_command_line(spec(), {"--help"});
    REQUIRE(p.action == Action::help);
    CHECK_THAT(p.text, Catch::Contains("--json"));
    CHECK_THAT(p.text, Catch::Contains("--repeat"));
    CHECK_THAT(p.text, Catch::Contains("Exit codes"));
}

TEST_CASE("a demo's own options are parsed beside the common ones", "[options]") {
    auto s = spec();
    s.options = {{.name = "--workers",
                  .help = "Workers, 1 to 64",
                  .full = "4",
                  .quick = "2",
                  .type_name = "N",
                  .check = CLI::Range(1, 64)}};
    const auto given = parse_command_line(s, {"--workers", "8", "--quick"});
    REQUIRE(given.action == Action::run);
    CHECK(given.values.integer("--workers") == 8);
    CHECK(given.values.given("--workers"));
    require_one_line_error(parse_command_line(s, {"--workers", "65"}));
    require_one_line_error(parse_command_line(s, {"--workers", "many"}));
}

TEST_CASE("an option declared once gives its default by the run, and says both in its help", "[options]") {
    auto s = spec();
    s.options = {{.name = "--channels",
                  .help = "How to wake, of futex, pipe",
                  .full = "futex,pipe",
                  .quick = "futex",
                  .type_name = "LIST"},
                 {.name = "--pin",
                  .help = "A CPU",
                  .type_name = "CPU",
                  .check = CLI::Range(0, 1023),
                  .default_words = "no pinning"},
                 {.name = "--mode",
                  .help = "threads or processes",
                  .full = "both",
                  .check = CLI::IsMember({"threads", "processes", "both"})}};
    const auto full = parse_command_line(s, {});
    CHECK(full.values.text("--channels") == "futex,pipe");
    CHECK_FALSE(full.values.given("--channels"));
    CHECK(full.values.text("--pin").empty());
    const auto quick = parse_command_line(s, {"--quick"});
    CHECK(quick.values.text("--channels") == "futex");
    CHECK(quick.values.text("--mode") == "both");
    // Given, the value is the user's, --quick or not: the full default given by hand is honoured.
    const auto asked = parse_command_line(s, {"--quick", "--channels", "futex,pipe"});
    CHECK(asked.values.text("--channels") == "futex,pipe");
    CHECK(asked.values.given("--channels"));
    CHECK_THROWS_AS(asked.values.text("--undeclared"), std::logic_error);

    const auto help = parse_command_line(s, {"--help"}).text;
    CHECK_THAT(help, Catch::Contains("How to wake, of futex, pipe (default: futex,pipe; --quick: futex)"));
    CHECK_THAT(help, Catch::Contains("A CPU (default: no pinning)"));
    CHECK_THAT(help, Catch::Contains("threads or processes (default: both)"));
}

TEST_CASE("a default that fails its own option's check is the demo's bug, named as such", "[options]") {
    auto s = spec();
    s.options = {
        {.name = "--workers", .help = "Workers, 1 to 64", .full = "4", .quick = "0", .check = CLI::Range(1, 64)}};
    CHECK(parse_command_line(s, {}).action == Action::run);
    CHECK_THROWS_WITH(parse_command_line(s, {"--quick"}), Catch::Contains("--workers's default 0 fails its own check"));
}
