// Every demo executable, run as a user would: --quick --json, bad input, Ctrl-C, --timeout.
// After each run: no child left behind (this test is the subreaper of everything below it) and
// no shared-memory segment of the demo's left in /dev/shm.
#include "proclab/claims.hpp"
#include "proclab/environment.hpp"
#include "proclab/render.hpp"
#include "proclab/units.hpp"
#include "proclab/result.hpp"
#include "proclab/serialize.hpp"
#include "proclab/spawn.hpp"
#include "suite.hpp"
#include "support.hpp"
#include "width.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <sys/stat.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include <sched.h>

using namespace proclab;
using namespace std::chrono_literals;

namespace {

Json read_json(const std::filesystem::path& path) {
    std::ifstream in(path);
    return Json::parse(in);
}

void check_result_json(const Json& j, const suite::DemoDescription& d) {
    CHECK(j.at("schema_version") == kSchemaVersion);
    CHECK(j.at("demo") == d.name);
    CHECK(j.at("environment").is_object());
    CHECK(j.at("metrics").is_array());
    CHECK(j.at("clock").at("read_overhead_ns").get<double>() >= 0);
    CHECK(j.at("wall_time_s").get<double>() > 0);
    std::vector<std::string> ids;
    for (const auto& c : j.at("claims")) {
        ids.push_back(c.at("id").get<std::string>());
        CHECK(verdict_from_string(c.at("verdict").get<std::string>()).has_value());
        CHECK_FALSE(c.at("reason").get<std::string>().empty());
        // Every sentence is made of its facts: no fixed number or quantifier, no unbacked outcome
        // word, the text as the template renders it, and what would refute the claim beside it.
        const auto decision = c.get<Decision>();
        INFO(decision.claim << ": " << decision.reason_text());
        CHECK(check_sentence(decision).empty());
        CHECK(decision.reason_text() == c.at("reason").get<std::string>());
        CHECK_FALSE(decision.refuted_by.empty());
    }
    CHECK(ids == d.claims);  // every declared claim, each once, in order
    // Every figure's unit is one of units.hpp's, written one way ("/s", never "per s").
    auto check_unit = [](const Json& holder, const std::string& where) {
        if (!holder.is_object() || !holder.contains("unit")) return;
        INFO(where << ": unit '" << holder.at("unit").get<std::string>() << "'");
        CHECK(is_known_unit(holder.at("unit").get<std::string>()));
    };
    for (const auto& m : j.at("metrics")) check_unit(m, "metric " + m.value("name", ""));
    for (const auto& t : j.at("tables"))
        for (const auto& c : t.at("columns")) check_unit(c, "a column of " + t.value("title", ""));
    for (const auto& c : j.at("claims"))
        for (const auto& f : c.value("facts", Json::array())) check_unit(f, "fact " + f.value("id", ""));
}

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("every demo runs --quick --json and leaves nothing behind", "[e2e]") {
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-e2e-");
    REQUIRE_FALSE(suite::demo_names().empty());
    for (const auto& name : suite::demo_names()) {
        INFO(name);
        auto d = suite::describe_demo(test::bin_dir(), name);
        REQUIRE(d);
        CHECK(d->name == name);
        for (const auto& id : d->claims) CHECK(find_claim(id));  // an instrument (core_to_core) declares none

        const auto json_path = dir / (name + ".json");
        auto child = test::start_program(test::bin_dir() / name, {"--quick", "--json", json_path.string()});
        const pid_t pid = child.pid();
        const auto status = child.wait_for(120s);
        REQUIRE(status);
        CHECK(status->describe() == "exit 0");
        CHECK(test::leftover_children() == 0);
        CHECK(test::shm_entries_mentioning(std::to_string(pid)).empty());
        REQUIRE(std::filesystem::exists(json_path));
        check_result_json(read_json(json_path), *d);
        for (const auto& e : std::filesystem::directory_iterator(dir))
            CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("every demo writes JSON alone to stdout with --json and no file", "[e2e]") {
    for (const auto& name : suite::demo_names()) {
        INFO(name);
        auto run = run_captured(test::bin_dir() / name, {"--quick", "--json"}, {.timeout = 120s});
        REQUIRE(run.status.describe() == "exit 0");
        const auto j = Json::parse(run.out);  // nothing but JSON on stdout
        CHECK(j.at("demo") == name);
    }
}

TEST_CASE("JSON asked for in a device, in /dev/stdout or through a link is written in place, with the text kept off it",
          "[e2e]") {
    const auto exe = test::bin_dir() / "thread_local_storage";
    SECTION("/dev/stdout is stdout: the JSON alone there, as with -") {
        auto run = run_captured(exe, {"--quick", "--json", "/dev/stdout"}, {.timeout = 120s});
        REQUIRE(run.status.describe() == "exit 0");
        CHECK(Json::parse(run.out).at("demo") == "thread_local_storage");
    }
    SECTION("/dev/null stays the device (a rename over it, as root, would have made it a file)") {
        auto run = run_captured(exe, {"--quick", "--json", "/dev/null"}, {.timeout = 120s});
        REQUIRE(run.status.describe() == "exit 0");
        struct stat st {};
        REQUIRE(::stat("/dev/null", &st) == 0);
        CHECK(S_ISCHR(st.st_mode));
    }
    SECTION("a symbolic link stays a link, and its target gets the JSON") {
        const auto dir = test::scratch_dir("proclab-json-link-");
        const auto target = dir / "target.json", link = dir / "link.json";
        std::filesystem::remove(link);
        { std::ofstream(target) << "old"; }
        std::filesystem::create_symlink(target, link);
        auto run = run_captured(exe, {"--quick", "--json", link.string()}, {.timeout = 120s});
        REQUIRE(run.status.describe() == "exit 0");
        CHECK(std::filesystem::is_symlink(link));
        std::ifstream in(target);
        CHECK(Json::parse(in).at("demo") == "thread_local_storage");
        std::filesystem::remove_all(dir);
    }
}

TEST_CASE("bad input gets one line on stderr, exit 2 and no output file", "[e2e]") {
    const auto dir = test::scratch_dir("proclab-e2e-");
    for (const auto& name : suite::demo_names()) {
        for (std::vector<std::string> args : {std::vector<std::string>{"--no-such-option"},
                                              {"--repeat", "-1"},
                                              {"--repeat", "abc"},
                                              {"--timeout", "0"},
                                              {"--json", "/nonexistent/dir/x.json"},
                                              {"--child", "no-such-mode"}}) {
            INFO(name << " " << args.front() << " " << (args.size() > 1 ? args[1] : ""));
            auto run = run_captured(test::bin_dir() / name, args, {.timeout = 60s});
            CHECK(run.status.describe() == "exit 2");
            CHECK(count_lines(run.err) == 1);
            CHECK_THAT(run.err, Catch::StartsWith(name + ": error: "));
            CHECK(run.out.empty());
        }
        // An option of another demo, with its value: named as it was typed, not "not expected: 3 --trials".
        auto foreign = run_captured(test::bin_dir() / name, {"--no-such-knob", "3"}, {.timeout = 60s});
        CHECK(foreign.status.describe() == "exit 2");
        CHECK_THAT(foreign.err, Catch::StartsWith(name + ": error: unknown option '--no-such-knob'"));
        auto run = run_captured(test::bin_dir() / name, {"--quick", "--json", (dir / "sub" / "x.json").string()},
                                {.timeout = 60s});
        CHECK(run.status.describe() == "exit 2");
        CHECK_FALSE(std::filesystem::exists(dir / "sub"));
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("asking a demo for --help prints its options and exits 0", "[e2e]") {
    for (const auto& name : suite::demo_names()) {
        auto run = run_captured(test::bin_dir() / name, {"--help"});
        CHECK(run.status.describe() == "exit 0");
        CHECK_THAT(run.out, Catch::Contains("-q,--quick") && Catch::Contains("--timeout") &&
                                Catch::Contains("--version") && Catch::Contains("-j,--json [FILE]"));
        // --strict and the exit code 1 only where the demo decides a claim.
        const auto described = suite::describe_demo(test::bin_dir(), name);
        REQUIRE(described);
        const bool decides = !described->claims.empty();
        CHECK((run.out.find("--strict") != std::string::npos) == decides);
        CHECK((run.out.find("1 a claim was refuted") != std::string::npos) == decides);
        // Every declared option's defaults, full and --quick, pass the option's own check (the
        // harness resolves them before --describe answers; one that fails is exit 3).
        for (const std::vector<std::string>& args :
             {std::vector<std::string>{"--describe"}, {"--quick", "--describe"}}) {
            auto described_run = run_captured(test::bin_dir() / name, args);
            INFO(described_run.err);
            CHECK(described_run.status.describe() == "exit 0");
        }
        auto version = run_captured(test::bin_dir() / name, {"--version"});
        CHECK(version.status.describe() == "exit 0");
        CHECK_THAT(version.out, Catch::StartsWith(name + " (proclab "));
    }
}

TEST_CASE("Ctrl-C and --timeout stop a demo with every child reaped and no file left", "[e2e]") {
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-e2e-");
    for (const auto& name : suite::demo_names()) {
        INFO(name);
        // A repeat count far beyond the default, and the signal sent earlier each time the demo
        // finished first, until it lands mid-run.
        // (a demo without --repeat runs its full default, seconds long).
        const bool has_repeat =
            run_captured(test::bin_dir() / name, {"--help"}).out.find("--repeat") != std::string::npos;
        std::vector<std::string> long_run{"--json", (dir / "x.json").string()};
        if (has_repeat) long_run.insert(long_run.end(), {"--repeat", "10000000"});
        bool interrupted = false;
        for (auto wait : {800ms, 200ms, 50ms, 10ms}) {
            auto child = test::start_program(test::bin_dir() / name, long_run);
            std::this_thread::sleep_for(wait);
            ::kill(child.pid(), SIGINT);
            auto status = child.wait_for(30s);
            REQUIRE(status);
            CHECK(test::leftover_children() == 0);
            CHECK(test::shm_entries_mentioning(std::to_string(child.pid())).empty());
            std::filesystem::remove(dir / "x.json");  // written by a run that finished first
            if (status->describe() == "exit 0") continue;
            CHECK(status->signaled());
            CHECK(status->signal() == SIGINT);
            interrupted = true;
            break;
        }
        CHECK(interrupted);

        std::vector<std::string> timed = long_run;
        timed.insert(timed.end(), {"--timeout", "0.1"});
        auto run = run_captured(test::bin_dir() / name, timed, {.timeout = 60s});
        CHECK(run.status.describe() == "exit 4");
        CHECK_THAT(run.err, Catch::Contains("timed out after 0.1 s"));
        CHECK(count_lines(run.err) == 1);
        CHECK(test::leftover_children() == 0);
        CHECK(test::shm_entries_mentioning(std::to_string(run.pid)).empty());
        CHECK(std::filesystem::is_empty(dir));
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("a pool hand-off measured with the caller allowed to help is no hand-off: T8 stands on nothing",
          "[e2e][floor]") {
    // TaskHandle::get() runs queued tasks on the waiting thread, so most "hand-offs" never leave
    // the caller; each task notes where it ran, and the rule refuses the figure.
    test::become_subreaper();
    auto run = run_captured(test::bin_dir() / "creation_cost",
                            {"--quick", "--ops", "thread", "--pool-wait", "helping", "--json", "-"}, {.timeout = 120s});
    REQUIRE(run.status.describe() == "exit 0");
    const auto result = result_from_json(Json::parse(run.out));
    const Decision* t8 = result.verdict_for("T8");
    REQUIRE(t8);
    INFO(t8->reason_text());
    CHECK(t8->verdict == Verdict::not_measured);
    CHECK_THAT(t8->reason_text(), Catch::Contains("implausible"));
    const Fact* on_worker = t8->fact("handoffs_on_worker");
    REQUIRE(on_worker);
    CHECK(on_worker->implausible());
    CHECK(test::leftover_children() == 0);
}

TEST_CASE("each demo's own knobs: out of range or unknown values get one line and exit 2", "[e2e][options]") {
    const std::vector<std::pair<std::string, std::vector<std::string>>> cases{
        {"ipc_cost", {"--ways", "pipe,smoke-signals"}},
        {"ipc_cost", {"--sizes", "0"}},
        {"ipc_cost", {"--sizes", "65M"}},
        {"ipc_cost", {"--placement", "sideways"}},
        {"ipc_cost", {"--cpu-pair", "0"}},
        {"ipc_cost", {"--cpu-pair", "0,4095"}},
        {"ipc_cost", {"--repeat", "0"}},
        {"context_switch", {"--working-set", "1,2,x"}},
        {"context_switch", {"--working-set", "65M"}},
        {"context_switch", {"--endpoints", "fibers"}},
        {"context_switch", {"--channel", "carrier"}},
        {"context_switch", {"--cpu-pair", "0-1"}},
        {"threads_parallel", {"--thread-counts", "0-4"}},
        {"threads_parallel", {"--thread-counts", "2000"}},
        {"threads_parallel", {"--work", "io"}},
        {"creation_cost", {"--ops", "fork,clone3"}},
        {"creation_cost", {"--parent-sizes", "100K"}},
        {"creation_cost", {"--parent-threads", "1"}},
        {"core_to_core", {"--budget", "0"}},
        {"fork_semantics", {"--sizes", "3K"}},
        {"thread_memory", {"--threads", "1"}},
        {"thread_local_storage", {"--threads", "9999"}},
        {"context_switch", {"--round-trips", "5"}},
        {"time_slicing", {"--repeat", "3"}},
        {"time_slicing", {"--kind", "fibres"}},
        {"fork_semantics", {"--trials", "3"}},
        {"sched_latency", {"--loads", "3y"}},
        {"sched_latency", {"--loads", "300"}},
        {"sched_latency", {"--policies", "rr"}},
        {"sched_latency", {"--channels", "smoke"}},
        {"sched_latency", {"--interval", "50"}},
        {"sched_latency", {"--duration", "0.01"}},
        {"sched_latency", {"--pin", "1023"}},
        {"sched_latency", {"--experiments", "naps"}},
        {"sched_latency", {"--duration", "0.02", "--interval", "10000"}},
        {"sched_latency", {"--repeat", "3"}},
        {"address_space", {"--tasks", "0"}},
        {"address_space", {"--tasks", "1,300"}},
        {"address_space", {"--experiments", "tlb"}},
        {"address_space", {"--duration", "0.01"}},
        {"address_space", {"--mode", "fibres"}},
        {"address_space", {"--repeat", "0"}},
    };
    for (const auto& [name, args] : cases) {
        INFO(name << " " << args[0] << " " << args[1]);
        auto run = run_captured(test::bin_dir() / name, args, {.timeout = 60s});
        CHECK(run.status.describe() == "exit 2");
        CHECK(count_lines(run.err) == 1);
        CHECK_THAT(run.err, Catch::StartsWith(name + ": error: "));
    }
}

TEST_CASE("an option given with its full default under --quick is honoured: sched_latency measures both channels",
          "[e2e][options]") {
    // It once compared --channels with its full default to tell whether it was given, so
    // `--quick --channels futex,pipe` measured futex only.
    auto run = run_captured(test::bin_dir() / "sched_latency",
                            {"--quick", "--channels", "futex,pipe", "--experiments", "wakeup", "--loads", "0", "--mode",
                             "threads", "--json"},
                            {.timeout = 60s});
    REQUIRE(run.status.describe() == "exit 0");
    const auto j = Json::parse(run.out);  // kept: a range-for over a temporary's member would dangle
    std::vector<std::string> names;
    for (const auto& m : j.at("metrics")) names.push_back(m.at("name"));
    CHECK(std::find(names.begin(), names.end(), "wakeup_futex_threads_idle") != names.end());
    CHECK(std::find(names.begin(), names.end(), "wakeup_pipe_threads_idle") != names.end());
}

TEST_CASE("a knob narrows what is measured, and the JSON says only what was", "[e2e][options]") {
    auto run = run_captured(test::bin_dir() / "ipc_cost",
                            {"--quick", "--json", "--ways", "pipe,eventfd", "--sizes", "8,1K", "--placement", "same"},
                            {.timeout = 60s});
    REQUIRE(run.status.describe() == "exit 0");
    const auto j = Json::parse(run.out);
    std::vector<std::string> names;
    for (const auto& m : j.at("metrics")) names.push_back(m.at("name"));
    CHECK(std::find(names.begin(), names.end(), "round_trip_pipe_same_cpu_8B") != names.end());
    CHECK(std::find(names.begin(), names.end(), "round_trip_eventfd_same_cpu_8B") != names.end());
    CHECK(std::find(names.begin(), names.end(), "bandwidth_pipe_same_cpu_1KiB") != names.end());
    for (const auto& n : names) {
        INFO(n);
        CHECK(n.find("two_cpus") == std::string::npos);
        CHECK(n.find("shm") == std::string::npos);
    }
    for (const auto& point : j.at("raw").at("latency")) CHECK((point.at("size") == 8 || point.at("size") == 1024));
}

TEST_CASE("on one CPU the two-CPU measurements are left out, with the reason", "[e2e][degrade]") {
    const int cpu = probe_environment().affinity_cpus.front();
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    cpu_set_t saved;
    REQUIRE(::sched_getaffinity(0, sizeof saved, &saved) == 0);
    REQUIRE(::sched_setaffinity(0, sizeof one, &one) == 0);  // the demos inherit the mask
    struct Restore {
        cpu_set_t& saved;
        ~Restore() { ::sched_setaffinity(0, sizeof saved, &saved); }
    } restore{saved};
    for (const auto& [name, args, note] : std::vector<std::tuple<std::string, std::vector<std::string>, std::string>>{
             {"ipc_cost", {"--ways", "pipe,shm-spin", "--sizes", "64"}, "Two-CPU placement not measured"},
             {"context_switch", {"--working-set", "0"}, "Cross-CPU placement not measured"},
             {"core_to_core", {}, "Not measured: only one CPU"}}) {
        INFO(name);
        std::vector<std::string> all{"--quick", "--json"};
        all.insert(all.end(), args.begin(), args.end());
        auto run = run_captured(test::bin_dir() / name, all, {.timeout = 120s});
        REQUIRE(run.status.describe() == "exit 0");
        const auto j = Json::parse(run.out);
        CHECK_THAT(j.at("notes").dump(), Catch::Contains(note));
        for (const auto& m : j.at("metrics")) {
            const std::string n = m.at("name");
            CHECK(n.find("two_cpus") == std::string::npos);
            CHECK(n.find("cross_cpu") == std::string::npos);
        }
    }
}

TEST_CASE("a single demo shows its progress on a terminal's stderr, and nowhere else", "[e2e]") {
    // A pipe (the runner, a script): stderr stays empty.
    const auto piped = run_captured(test::bin_dir() / "thread_memory", {"--quick"}, {.timeout = 120s});
    REQUIRE(piped.status.exit_code() == 0);
    CHECK(piped.err.empty());
    // A terminal: script(1) gives the demo a pseudo-terminal; the line is written, then erased.
    if (::access("/usr/bin/script", X_OK) != 0) {
        WARN("no script(1) (util-linux): the terminal case is not tried");
        return;
    }
    const auto exe = (test::bin_dir() / "thread_memory").string();
    const auto tty = run_captured("/usr/bin/script", {"-qec", exe + " --quick", "/dev/null"}, {.timeout = 120s});
    REQUIRE(tty.status.exit_code() == 0);
    CHECK_THAT(tty.out, Catch::Contains("thread_memory: measuring ...") && Catch::Contains("\r\033[K"));
}

TEST_CASE(
    "every command's text fits the terminal: help (the VM lab's too), list, rules and glossary at 80 and 120 columns",
    "[e2e][width]") {
    const auto proclab = test::bin_dir() / "proclab";
    std::vector<std::pair<std::filesystem::path, std::vector<std::string>>> commands{
        {proclab, {"--help"}}, {proclab, {"list"}}, {proclab, {"rules"}}, {proclab, {"glossary"}}};
    for (const char* sub : {"list", "rules", "glossary", "tour", "run", "report", "stability", "crosscheck", "compare"})
        commands.push_back({proclab, {sub, "--help"}});
    for (const auto& name : suite::demo_names()) commands.push_back({test::bin_dir() / name, {"--help"}});
    commands.push_back({test::source_dir() / "deploy/vm/proclab-vm", {"--help"}});  // the VM lab's own
    for (const std::size_t columns : {80, 120}) {
        const test::TerminalColumns terminal(columns);
        for (const auto& [exe, args] : commands) {
            const auto run = run_captured(exe, args, {.timeout = 60s});
            INFO(exe.filename().string() << " " << fmt::format("{}", fmt::join(args, " ")) << " at " << columns);
            CHECK(run.status.exit_code() == 0);
            CHECK(test::wider_than(run.out, columns) == std::vector<std::string>{});
        }
    }
}

TEST_CASE("every demo's report fits 80 columns", "[e2e][width]") {
    const test::TerminalColumns terminal(80);
    for (const auto& name : suite::demo_names()) {
        const auto run = run_captured(test::bin_dir() / name, {"--quick"}, {.timeout = 120s});
        INFO(name);
        CHECK(run.status.exit_code() == 0);
        CHECK(test::wider_than(run.out, 80) == std::vector<std::string>{});
    }
}
