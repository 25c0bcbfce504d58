// The runner, end to end, and its handling of demos that misbehave (scripts standing in for them).
#include "proclab/environment.hpp"
#include "proclab/render.hpp"
#include "proclab/spawn.hpp"
#include "plots.hpp"
#include "suite.hpp"
#include "support.hpp"
#include "width.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>

using namespace proclab;
using namespace std::chrono_literals;

namespace {

void write_script(const std::filesystem::path& path, const std::string& body) {
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    ::chmod(path.c_str(), 0755);
}

}  // namespace

TEST_CASE("proclab list names every demo with its claims", "[runner]") {
    auto run = run_captured(test::bin_dir() / "proclab", {"list"}, {.timeout = 60s});
    CHECK(run.status.describe() == "exit 0");
    for (const auto& name : suite::demo_names()) CHECK_THAT(run.out, Catch::Contains(name));
    CHECK_THAT(run.out, Catch::Contains("P1, P3"));
}

TEST_CASE("proclab run --quick prints every claim and writes the combined JSON", "[runner]") {
    const test::TerminalColumns terminal(80);  // its text fits an 80-column terminal
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-runner-");
    const auto json_path = dir / "suite.json";
    auto run =
        run_captured(test::bin_dir() / "proclab", {"run", "--quick", "--json", json_path.string()}, {.timeout = 600s});
    INFO(run.err);
    CHECK(run.status.describe() == "exit 0");
    CHECK(test::wider_than(run.out, 80) == std::vector<std::string>{});
    CHECK(test::wider_than(run.err, 80) == std::vector<std::string>{});
    for (const auto& name : suite::demo_names()) CHECK_THAT(run.err, Catch::Contains(name));  // progress on stderr
    for (const char* id : {"P1", "P2", "P3", "P4", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9"})
        CHECK_THAT(run.out, Catch::Contains(std::string("  ") + id + " "));
    std::ifstream in(json_path);
    const auto j = Json::parse(in);
    CHECK(j.at("claims").size() == 13);
    CHECK(j.at("demos").size() == suite::demo_names().size());
    for (const auto& d : j.at("demos")) {
        CHECK(d.at("status") == "ok");
        CHECK(d.at("stray_processes") == 0);
    }
    // One cache-line floor per CPU pair per suite: measured by the runner, and each demo that
    // judges against one was handed the suite's for its pair (its drift is measured against it).
    if (probe_environment().affinity_cpus.size() >= 2) {
        CHECK_FALSE(j.at("line_floors").empty());
        CHECK_THAT(run.out, Catch::Contains("cache-line floor, shared with the demos"));
        for (const auto& d : j.at("demos")) {
            const std::string name = d.at("name");
            if (name != "context_switch" && name != "ipc_cost") continue;
            bool drift = false;
            for (const auto& m : d.at("result").at("metrics")) drift = drift || m.at("name") == "line_floor_drift";
            INFO(name);
            CHECK(drift);
        }
    }
    CHECK(test::leftover_children() == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("proclab run --json - (or /dev/stdout) writes the JSON alone on stdout, the report on stderr", "[runner]") {
    test::become_subreaper();
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"run", "--quick", "--json", "-", "thread_local_storage"},
          {"run", "--quick", "thread_local_storage", "--json"},
          {"run", "--quick", "--json", "/dev/stdout", "thread_local_storage"}}) {
        auto run = run_captured(test::bin_dir() / "proclab", args, {.timeout = 120s});
        INFO(run.err);
        CHECK(run.status.describe() == "exit 0");
        const auto doc = suite::suite_from_json(Json::parse(run.out));  // all of stdout is the one JSON document
        CHECK(doc.rows.size() == 13);
        CHECK_THAT(run.err, Catch::Contains("T5  ") && Catch::Contains("would be refuted by"));
    }
    CHECK(test::leftover_children() == 0);
}

TEST_CASE("proclab rules lists every claim's rule, and docs/verdict-rules.md is its Markdown", "[runner][rules]") {
    auto run = run_captured(test::bin_dir() / "proclab", {"rules", "--markdown"}, {.timeout = 60s});
    CHECK(run.status.describe() == "exit 0");
    for (const char* id : {"| P1 |", "| P2 |", "| P3 |", "| P4 |", "| T1 |", "| T2 |", "| T3 |", "| T4 |", "| T5 |",
                           "| T6 |", "| T7 |", "| T8 |", "| T9 |"})
        CHECK_THAT(run.out, Catch::Contains(id));
    std::ifstream in(test::source_dir() / "docs" / "verdict-rules.md");
    const std::string committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO("regenerate it: build/release/bin/proclab rules --markdown > docs/verdict-rules.md");
    CHECK(committed == run.out);
}

TEST_CASE("proclab glossary defines the report's words, and docs/glossary.md is its Markdown", "[runner][glossary]") {
    auto run = run_captured(test::bin_dir() / "proclab", {"glossary", "--markdown"}, {.timeout = 60s});
    CHECK(run.status.describe() == "exit 0");
    for (const char* term : {"**hop**", "**round trip**", "**floor**", "**interference**", "**steal time**",
                             "**share**", "**Jain's index**", "**slice**", "**tick**", "**confirmed**", "**nuanced**",
                             "**not-measured**", "**refuted**", "**trial**", "**beyond noise**"})
        CHECK_THAT(run.out, Catch::Contains(term));
    std::ifstream in(test::source_dir() / "docs" / "glossary.md");
    const std::string committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO("regenerate it: build/release/bin/proclab glossary --markdown > docs/glossary.md");
    CHECK(committed == run.out);
}

TEST_CASE("proclab rejects unknown demos and options with one line and exit 2", "[runner]") {
    // Each with the words a student should read: what was wrong, as it was typed.
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"run", "no_such_demo"}, "unknown demo 'no_such_demo'"},
        {{"run", "--bogus"}, "unknown option '--bogus'"},
        {{"frobnicate"}, "unknown command 'frobnicate'"},
        {{"--bogus"}, "unknown option '--bogus'"},
        {{"run", "--timeout", "-5"}, "--timeout -5: give a number from 0.1 to 86400"},
        {{"run", "--timeout", "abc"}, "--timeout abc: give a number from 0.1 to 86400"},
        {{"run", "--json", "/nonexistent/dir/x.json"}, "--json"},
        {{}, "a command is required"}};
    for (const auto& [args, words] : cases) {
        INFO(fmt::format("{}", fmt::join(args, " ")));
        auto run = run_captured(test::bin_dir() / "proclab", args);
        CHECK(run.status.describe() == "exit 2");
        CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
        CHECK_THAT(run.err, Catch::StartsWith("proclab: error: " + words));
    }
}

TEST_CASE("the runner reports a demo that crashes, hangs, lies or leaves processes behind", "[runner]") {
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-runner-");
    write_script(dir / "crasher", "kill -SEGV $$");
    write_script(dir / "hanger", "sleep 60");
    write_script(dir / "liar", "echo 'not json'");
    write_script(dir / "failer", "echo 'failer: error: something broke' >&2; exit 3");
    // A demo's own --timeout is exit 4, told apart by its code, whatever its words.
    write_script(dir / "overran", "echo 'overran: error: ran too long' >&2; exit 4");
    write_script(dir / "says_timed_out", "echo 'says_timed_out: error: the network timed out' >&2; exit 3");
    write_script(dir / "leaver",
                 "sleep 60 >/dev/null 2>&1 &\n"
                 "echo '{\"schema_version\":2,\"demo\":\"leaver\",\"claims\":[],\"metrics\":[],\"environment\":{}}'");

    CHECK(suite::run_demo(dir, "crasher", {}, 30).status == suite::RunStatus::crashed);
    const auto hung = suite::run_demo(dir, "hanger", {}, 0.5);
    CHECK(hung.status == suite::RunStatus::timed_out);
    CHECK(hung.wall_s < 10);
    CHECK(suite::run_demo(dir, "overran", {}, 30).status == suite::RunStatus::timed_out);
    CHECK(suite::run_demo(dir, "says_timed_out", {}, 30).status == suite::RunStatus::failed);
    CHECK(suite::run_demo(dir, "liar", {}, 30).status == suite::RunStatus::bad_output);
    const auto failed = suite::run_demo(dir, "failer", {}, 30);
    CHECK(failed.status == suite::RunStatus::failed);
    CHECK(failed.detail == "exit 3: failer: error: something broke");
    const auto leaver = suite::run_demo(dir, "leaver", {}, 30);
    CHECK(leaver.status == suite::RunStatus::ok);
    CHECK(leaver.stray_processes == 1);
    CHECK(test::leftover_children() == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("proclab stability runs the suite N times and counts each claim's verdicts", "[runner][stability]") {
    const test::TerminalColumns terminal(80);  // its text fits an 80-column terminal
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-stability-");
    const auto json_path = dir / "stability.json";
    auto run =
        run_captured(test::bin_dir() / "proclab",
                     {"stability", "2", "--quick", "context_switch", "--json", json_path.string()}, {.timeout = 600s});
    INFO(run.err);
    CHECK(run.status.describe() == "exit 0");
    CHECK(test::wider_than(run.out, 80) == std::vector<std::string>{});
    CHECK_THAT(run.err, Catch::Contains("run 2/2 [1/1] context_switch"));
    CHECK_THAT(run.out, Catch::Contains("Verdicts over 2 --quick runs"));
    CHECK_THAT(run.out, Catch::Contains("round_trip_processes_pipe_same_cpu"));
    std::ifstream in(json_path);
    const auto j = Json::parse(in);
    CHECK(j.at("runs") == 2);
    for (const auto& c : j.at("claims")) {
        int total = 0;
        for (const auto& [verdict, n] : c.at("counts").items()) total += n.get<int>();
        CHECK(total == 2);
    }
    CHECK(test::leftover_children() == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("proclab crosscheck shows every pair, and says which tool is missing without failing",
          "[runner][crosscheck]") {
    const test::TerminalColumns terminal(80);  // its text fits an 80-column terminal
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-crosscheck-");
    const auto json_path = dir / "crosscheck.json";
    // No reference tool on this PATH: every pair says so, and the command still succeeds.
    auto run = run_captured("/usr/bin/env",
                            {"PATH=" + dir.string(), (test::bin_dir() / "proclab").string(), "crosscheck", "--quick",
                             "--json", json_path.string()},
                            {.timeout = 600s});
    INFO(run.err);
    CHECK(run.status.describe() == "exit 0");
    CHECK(test::wider_than(run.out, 80) == std::vector<std::string>{});
    std::ifstream in(json_path);
    const auto j = Json::parse(in);
    REQUIRE(j.at("pairs").size() == 12);
    for (const auto& p : j.at("pairs")) {
        CHECK(p.at("outcome") == "missing");
        CHECK(p.at("proclab_ns").is_number());  // proclab's own side was measured
        CHECK_THAT(p.at("missing").get<std::string>(), Catch::Contains("is not installed"));
    }
    CHECK(test::leftover_children() == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("stability and crosscheck reject bad input with one line and exit 2", "[runner]") {
    for (std::vector<std::string> args : {std::vector<std::string>{"stability"},
                                          {"stability", "0"},
                                          {"stability", "x"},
                                          {"stability", "2", "no_such_demo"},
                                          {"crosscheck", "--cpu", "4000"},
                                          {"crosscheck", "--cpu", "-1"}}) {
        auto run = run_captured(test::bin_dir() / "proclab", args);
        INFO((args.size() > 1 ? args[1] : args[0]));
        CHECK(run.status.describe() == "exit 2");
        CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
        CHECK_THAT(run.err, Catch::StartsWith("proclab: error: "));
    }
}

TEST_CASE("proclab compare on recorded runs: two CPUs against one under taskset -c 0", "[runner][compare]") {
    // Recorded on the development machine: `proclab run --quick threads_parallel context_switch --json`,
    // then the same under `taskset -c 0` (tests/data/compare/).
    const std::filesystem::path data = test::source_dir() / "tests/data/compare";
    const auto dir = test::scratch_dir("proclab-compare-");
    auto run = run_captured(test::bin_dir() / "proclab",
                            {"compare", (data / "two_cpus.json").string(), (data / "one_cpu.json").string(), "--json",
                             (dir / "c.json").string(), "--markdown", (dir / "c.md").string()},
                            {.timeout = 60s});
    REQUIRE(run.status.describe() == "exit 0");
    CHECK_THAT(run.out, Catch::Contains("CPUs allowed (affinity)") && Catch::Contains("differs"));
    CHECK_THAT(run.out, Catch::Contains("Verdicts that differ: 2"));
    const auto j = Json::parse(std::ifstream(dir / "c.json"));
    std::vector<std::string> changed;
    for (const auto& v : j.at("verdicts"))
        if (v.at("changed").get<bool>()) changed.push_back(v.at("id"));
    CHECK(changed == std::vector<std::string>{"T2", "T9"});
    bool tested = false;
    for (const auto& m : j.at("metrics")) tested = tested || !m.at("p").is_null();
    CHECK(tested);  // distributions on both sides: p values, not just ratios
    CHECK(std::filesystem::exists(dir / "c.md"));
    const test::TerminalColumns terminal(80);  // the same text fits an 80-column terminal
    const auto narrow = run_captured(test::bin_dir() / "proclab",
                                     {"compare", (data / "two_cpus.json").string(), (data / "one_cpu.json").string()},
                                     {.timeout = 60s});
    CHECK(test::wider_than(narrow.out, 80) == std::vector<std::string>{});
    std::filesystem::remove_all(dir);
}

TEST_CASE("proclab compare on a folder of runs: the fleet view, in text, JSON, Markdown, HTML and a plot",
          "[runner][compare][fleet]") {
    const std::filesystem::path data = test::source_dir() / "tests/data/fleet";
    const auto dir = test::scratch_dir("proclab-fleet-");
    auto run =
        run_captured(test::bin_dir() / "proclab",
                     {"compare", data.string(), "--json", (dir / "f.json").string(), "--markdown",
                      (dir / "f.md").string(), "--html", (dir / "f.html").string(), "--plot", (dir / "f.png").string()},
                     {.timeout = 120s});
    REQUIRE(run.status.describe() == "exit 0");
    CHECK_THAT(run.out, Catch::Contains("a fleet of 3 machines") && Catch::Contains("vm-onecpu") &&
                            Catch::Contains("flags per machine: vm-a 0, vm-b 0"));
    const auto j = Json::parse(std::ifstream(dir / "f.json"));
    CHECK(j.at("kind") == "fleet");
    CHECK(j.at("machines").size() == 3);
    CHECK(std::filesystem::exists(dir / "f.md"));
    std::ifstream html(dir / "f.html");
    const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
    CHECK_THAT(page, Catch::StartsWith("<!doctype html>") && Catch::Contains("vm-onecpu"));
    if (!suite::python_with_matplotlib().empty()) {
        CHECK(std::filesystem::file_size(dir / "f.png") > 10000);
        CHECK_THAT(page, Catch::Contains("data:image/png;base64,"));
    }
    const test::TerminalColumns terminal(80);  // the same text fits an 80-column terminal
    const auto narrow = run_captured(test::bin_dir() / "proclab", {"compare", data.string()}, {.timeout = 60s});
    CHECK(test::wider_than(narrow.out, 80) == std::vector<std::string>{});
    std::filesystem::remove_all(dir);
}

TEST_CASE("proclab compare --with-corpus puts one run beside the corpus's runs of the same CPU",
          "[runner][compare][fleet]") {
    const test::TerminalColumns terminal(80);  // its text fits an 80-column terminal
    auto run = run_captured(
        test::bin_dir() / "proclab",
        {"compare", (test::source_dir() / "tests/data/fleet/vm-onecpu.json").string(), "--with-corpus", "--json"},
        {.timeout = 120s});
    REQUIRE(run.status.describe() == "exit 0");
    CHECK(test::wider_than(run.err, 80) == std::vector<std::string>{});

    // A corpus in a folder as deep as a CI checkout's: its text still fits, since the folder is
    // named once and each of its runs by name (a folder and a file name on one line did not).
    const auto dir = test::scratch_dir("proclab-corpus-");
    const auto deep = dir / "a-folder-as-deep-as-a-checkout" / "docs" / "results";
    std::filesystem::create_directories(deep);
    for (const auto& e : std::filesystem::directory_iterator(test::source_dir() / "docs/results"))
        if (e.path().extension() == ".json") std::filesystem::copy_file(e.path(), deep / e.path().filename());
    const auto deep_run = run_captured(
        test::bin_dir() / "proclab",
        {"compare", (test::source_dir() / "tests/data/fleet/vm-onecpu.json").string(), "--corpus", deep.string()},
        {.timeout = 120s});
    REQUIRE(deep_run.status.describe() == "exit 0");
    CHECK(test::wider_than(deep_run.out, 80) == std::vector<std::string>{});
    CHECK_THAT(deep_run.out, Catch::Contains(deep.string()));
    std::filesystem::remove_all(dir);
    CHECK_THAT(run.err, Catch::Contains("corpus: intel-xeon-processor_"));  // the text view, on stderr beside --json
    const auto j = Json::parse(run.out);
    REQUIRE(j.at("machines").size() >= 2);
    CHECK(j.at("machines")[0].at("corpus") == false);
    CHECK(j.at("machines")[1].at("corpus") == true);
    CHECK_THAT(j.at("machines")[1].at("name").get<std::string>(),
               Catch::EndsWith("_quick"));  // a --quick run beside --quick ones
    CHECK_THAT(j.at("notes")[0].get<std::string>(),
               Catch::Contains("vm-onecpu: beside 1 corpus run(s) with its CPU model (Intel(R) Xeon(R) Processor), run "
                               "as it was (--quick)"));
}

TEST_CASE("proclab compare refuses a fleet it cannot make with one line and exit 2", "[runner][compare][fleet]") {
    const auto dir = test::scratch_dir("proclab-fleet-");
    std::filesystem::create_directories(dir / "empty");
    const std::string a = (test::source_dir() / "tests/data/fleet/vm-a.json").string(),
                      b = (test::source_dir() / "tests/data/fleet/vm-b.json").string();
    for (std::vector<std::string> args : {std::vector<std::string>{"compare", (dir / "empty").string()},
                                          {"compare", a, b, "--html", (dir / "x.html").string()},
                                          {"compare", a, "--corpus", "/nonexistent"},
                                          {"compare", a, "--corpus", (dir / "empty").string()}}) {
        INFO(args[1] << " " << args.back());
        auto run = run_captured(test::bin_dir() / "proclab", args, {.timeout = 60s});
        CHECK(run.status.describe() == "exit 2");
        CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
        CHECK_THAT(run.err, Catch::StartsWith("proclab: error: "));
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("proclab compare and --baseline refuse what they cannot read with one line and exit 2", "[runner][compare]") {
    const std::filesystem::path data = test::source_dir() / "tests/data/compare";
    for (std::vector<std::string> args :
         {std::vector<std::string>{"compare", (data / "two_cpus.json").string()},
          {"compare", (data / "two_cpus.json").string(), "/nonexistent.json"},
          {"compare", (data / "two_cpus.json").string(), (test::source_dir() / "README.md").string()},
          {"compare", (data / "two_cpus.json").string(), (data / "two_cpus.json").string(), "--plot",
           "/nonexistent/x.png"},
          {"run", "--quick", "fork_semantics", "--baseline", "/nonexistent.json"}}) {
        INFO(args[1] << " " << args.back());
        auto run = run_captured(test::bin_dir() / "proclab", args, {.timeout = 60s});
        CHECK(run.status.describe() == "exit 2");
        CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
        CHECK_THAT(run.err, Catch::StartsWith("proclab: error: "));
        CHECK_THAT(run.err, !Catch::Contains("json.exception") && !Catch::Contains("Traceback"));
    }
}

TEST_CASE("proclab run --baseline shows what changed, and with --strict a changed verdict exits 1",
          "[runner][compare]") {
    // The recorded baseline ran threads_parallel and context_switch only: every claim of
    // thread_local_storage (T5) was not-measured there and is decided now.
    const std::filesystem::path baseline = test::source_dir() / "tests/data/compare/two_cpus.json";
    auto run =
        run_captured(test::bin_dir() / "proclab",
                     {"run", "--quick", "thread_local_storage", "--baseline", baseline.string()}, {.timeout = 120s});
    CHECK(run.status.describe() == "exit 0");
    CHECK_THAT(run.out, Catch::Contains("Against the baseline") && Catch::Contains("Verdicts that differ"));
    auto strict = run_captured(test::bin_dir() / "proclab",
                               {"run", "--quick", "--strict", "thread_local_storage", "--baseline", baseline.string()},
                               {.timeout = 120s});
    CHECK(strict.status.describe() == "exit 1");
}

TEST_CASE("proclab tour runs a stop without a terminal: the notes, the question, what the machine did, what to try",
          "[runner][tour]") {
    const test::TerminalColumns terminal(80);  // its text fits an 80-column terminal
    // stdin is not a terminal here: nothing is asked, and the tour still runs and exits 0.
    const auto run =
        run_captured(test::bin_dir() / "proclab", {"tour", "fork", "--no-prompt", "--quick"}, {.timeout = 120s});
    INFO(run.out << run.err);
    REQUIRE(run.status.exit_code() == 0);
    CHECK(test::wider_than(run.out, 80) == std::vector<std::string>{});
    CHECK_THAT(run.out, Catch::Contains("Stop 1 of 1: fork (fork_semantics)") &&
                            Catch::Contains("T6: threads cannot migrate; fork copies, it does not move") &&
                            Catch::Contains("Predict: ") && Catch::Contains("What this machine did:") &&
                            Catch::Contains("Try this:") && !Catch::Contains("your guess [a-b"));
    CHECK_THAT(run.out, Catch::Contains("fork  T6     -"));  // the summary: no guess made
    const auto list = run_captured(test::bin_dir() / "proclab", {"tour", "--list"}, {.timeout = 60s});
    CHECK(list.status.exit_code() == 0);
    for (const auto& stop : {"processes", "slices", "threads", "thread_local", "fork", "pools", "gil"})
        CHECK_THAT(list.out, Catch::Contains(stop));
    const auto bad = run_captured(test::bin_dir() / "proclab", {"tour", "nowhere"}, {.timeout = 60s});
    CHECK(bad.status.exit_code() == 2);
    CHECK(bad.err == "proclab: error: unknown stop 'nowhere' (see 'proclab tour --list')\n");
}
