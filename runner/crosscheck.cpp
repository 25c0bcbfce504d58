#include "crosscheck.hpp"

#include "proclab/affinity.hpp"
#include "proclab/child.hpp"
#include "proclab/environment.hpp"
#include "proclab/stats.hpp"
#include "proclab/metric_ids.hpp"
#include "proclab/spawn.hpp"
#include "proclab/work.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>
#include <unistd.h>

namespace proclab::suite {

std::string_view to_string(Agreement a) {
    switch (a) {
        case Agreement::agree: return "agree";
        case Agreement::disagree: return "DISAGREE";
        case Agreement::too_noisy: return "too noisy";
        case Agreement::not_judged: return "not judged";
        case Agreement::missing: return "missing";
    }
    return "?";
}

std::optional<double> ratio(const CrosscheckPair& p) {
    if (!p.proclab_ns || !p.reference_ns || *p.reference_ns <= 0) return std::nullopt;
    return *p.proclab_ns / *p.reference_ns;
}

namespace {
// The turns' median (common/stats.hpp), none without a turn.
std::optional<double> median_of_turns(const std::vector<double>& v) {
    if (v.empty()) return std::nullopt;
    return median_of(v);
}

std::optional<double> half_range(const std::vector<double>& v) {
    const auto m = median_of_turns(v);
    if (v.size() < 2 || !m || *m <= 0) return std::nullopt;
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return (*hi - *lo) / 2 / *m;
}
}  // namespace

void settle(CrosscheckPair& p) {
    p.proclab_ns = median_of_turns(p.proclab_turns);
    p.reference_ns = median_of_turns(p.reference_turns);
}

std::optional<double> spread(const CrosscheckPair& p) {
    const auto a = half_range(p.proclab_turns), b = half_range(p.reference_turns);
    if (!a || !b) return std::nullopt;
    return std::max(*a, *b);
}

Agreement judge(const CrosscheckPair& p) {
    const auto r = ratio(p);
    if (!r) return Agreement::missing;
    if (!p.same_method) return Agreement::not_judged;
    // A row noisier than the margin on either side cannot tell agreement from noise, either way.
    const auto s = spread(p);
    if (!s || *s > kAgreement) return Agreement::too_noisy;
    return std::fabs(*r - 1) <= kAgreement ? Agreement::agree : Agreement::disagree;
}

std::optional<double> parse_perf_usecs_per_op(std::string_view text) {
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        const auto at = line.find("usecs/op");
        if (at == std::string::npos) continue;
        try {
            return std::stod(line.substr(0, at)) * 1000;
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

std::optional<double> parse_stress_ng_yaml(std::string_view yaml, std::string_view stressor, std::string_view key) {
    auto trim = [](std::string_view v) {
        const auto a = v.find_first_not_of(" -\t");
        if (a == std::string_view::npos) return std::string_view{};
        const auto b = v.find_last_not_of(" \t\r");
        return v.substr(a, b - a + 1);
    };
    std::istringstream in{std::string(yaml)};
    bool in_stressor = false;
    for (std::string line; std::getline(in, line);) {
        const std::string_view t = trim(line);
        const auto colon = t.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = t.substr(0, colon), value = trim(t.substr(colon + 1));
        if (name == "stressor") {
            in_stressor = value == stressor;
        } else if (in_stressor && name == key) {
            try {
                return std::stod(std::string(value));
            } catch (const std::exception&) {
                return std::nullopt;
            }
        }
    }
    return std::nullopt;
}

namespace {

// The number at the start of `text`, after blanks ("  67 Max:" -> 67).
std::optional<double> leading_number(std::string_view text) {
    const auto a = text.find_first_not_of(" \t");
    if (a == std::string_view::npos) return std::nullopt;
    try {
        std::size_t used = 0;
        const double v = std::stod(std::string(text.substr(a, 32)), &used);
        if (used == 0) return std::nullopt;
        return v;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

std::optional<double> parse_cyclictest_median(std::string_view text) {
    std::vector<std::pair<long long, long long>> buckets;  // µs, count
    long long total = 0, overflows = 0;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("# Histogram Overflows:", 0) == 0) {
            overflows = std::atoll(line.c_str() + 22);
            continue;
        }
        long long us = 0, count = 0;
        char extra = 0;
        if (std::sscanf(line.c_str(), "%lld %lld %c", &us, &count, &extra) == 2 && count >= 0) {
            buckets.emplace_back(us, count);
            total += count;
        }
    }
    total += overflows;
    if (total == 0) return std::nullopt;
    long long seen = 0;
    for (const auto& [us, count] : buckets) {
        seen += count;
        if (2 * seen >= total) return double(us) * 1e3;
    }
    return std::nullopt;  // the median lies beyond the histogram
}

std::optional<double> parse_messaging_seconds(std::string_view text) {
    for (std::string_view key : {"Total time:", "Time:"}) {
        const auto at = text.find(key);
        if (at == std::string_view::npos) continue;
        if (const auto v = leading_number(text.substr(at + key.size()))) return *v * 1e9;
    }
    return std::nullopt;
}

namespace {

std::optional<double> metric_of(const DemoRun& run, const std::string& name) {
    if (!run.result) return std::nullopt;
    if (const Metric* m = run.result->metric(name)) return m->value;
    return std::nullopt;
}

std::string joined(const std::filesystem::path& exe, const std::vector<std::string>& args) {
    std::string out = exe.filename().string();
    for (const auto& a : args) out += " " + a;
    return out;
}

struct ToolRun {
    std::string out;
    std::string missing;
};

ToolRun run_tool(const std::filesystem::path& exe, const std::vector<std::string>& args, double timeout_s) {
    ToolRun t;
    try {
        auto r = run_captured(
            exe, args, {.timeout = std::chrono::milliseconds(long(timeout_s * 1000)), .new_process_group = true});
        reap_strays(r.pid);  // a stressor a tool left behind is killed and reaped, as for a demo
        if (r.timed_out) t.missing = fmt::format("{} timed out after {:.0f} s", exe.filename().string(), timeout_s);
        else if (!r.status.exited() || r.status.exit_code() != 0)
            t.missing = fmt::format("{} ended: {}", exe.filename().string(), r.status.describe());
        t.out = r.out + r.err;
    } catch (const std::exception& e) {
        t.missing = fmt::format("{} could not start: {}", exe.filename().string(), e.what());
    }
    return t;
}

// One judged row: how to read proclab's figure from a turn's demo runs, and the tool's command.
struct JudgedRow {
    std::size_t pair;  // index into the pairs
    std::function<std::optional<double>(const struct TurnRuns&)> ours;
    std::filesystem::path exe;
    std::vector<std::string> args;
    std::function<std::optional<double>(const ToolRun&)> parse;
    std::string parse_failed;  // what to say when the tool printed no figure
    bool beside_busy = false;  // the tool runs beside one busy process on the same CPU
};

// The demos of one turn, all pinned to the crosscheck's CPU.
struct TurnRuns {
    DemoRun context_switch, lateness, messaging;
};

std::string missing_of(const DemoRun& r) {
    return r.result ? std::string() : fmt::format("{} {}: {}", r.name, to_string(r.status), r.detail);
}

}  // namespace

std::vector<CrosscheckPair> run_crosscheck(const std::filesystem::path& dir, const CrosscheckOptions& o) {
    const auto env = probe_environment();
    const int cpu = o.cpu >= 0 ? o.cpu : (env.affinity_cpus.empty() ? 0 : env.affinity_cpus.front());
    // Everything below runs on this one CPU (the children inherit the mask), so each pair is
    // placed the same way: both sides pay the same wake-ups.
    const ScopedPin pin(cpu);
    const std::string cpu_text = std::to_string(cpu);
    const std::string timeout = fmt::format("{}", o.timeout_s);
    const auto perf = find_program("perf");
    const auto stress = find_program("stress-ng");
    const auto cyclictest = find_program("cyclictest");
    const auto hackbench = find_program("hackbench");
    const std::string pipe_loops = o.quick ? "30000" : "100000";
    const int wakeups = o.quick ? 500 : 1000;
    const std::string messaging_loops = o.quick ? "300" : "1000";
    const std::string fork_ops = o.quick ? "1000" : "4000";
    const std::string vfork_ops = o.quick ? "3000" : "12000";
    const std::string switch_ops = o.quick ? "100000" : "400000";
    const std::string pipe_repeat = o.quick ? "3000" : "10000";
    const std::string pthread_ops = o.quick ? "2000" : "8000";

    std::vector<CrosscheckPair> pairs;
    std::vector<JudgedRow> judged;
    const std::string rerun = " (crosscheck's own run, turn by turn)";

    // Pipe round trips: context_switch (pipes, one CPU, no working set) against perf bench sched pipe.
    for (bool threads : {false, true}) {
        CrosscheckPair p;
        const std::string metric =
            metric_id::context_switch(metric_id::kRoundTrip, threads ? "threads" : "processes", "pipe", true);
        p.what = threads ? "pipe round trip, two threads on one CPU" : "pipe round trip, two processes on one CPU";
        p.proclab_figure = "context_switch " + metric + rerun;
        p.tool = threads ? "perf bench sched pipe -T" : "perf bench sched pipe";
        p.method_note =
            "the same: a one-byte token over two pipes, a round trip per op, both ends on one CPU (perf's figure "
            "includes its start-up, small at this loop count)";
        std::vector<std::string> args{"bench", "sched", "pipe", "-l", pipe_loops};
        if (threads) args.push_back("-T");
        p.command =
            fmt::format("taskset -c {} {}", cpu, joined(perf.empty() ? std::filesystem::path("perf") : perf, args));
        if (perf.empty()) p.missing = "perf is not installed (Debian: apt-get install linux-perf)";
        judged.push_back({pairs.size(), [metric](const TurnRuns& t) { return metric_of(t.context_switch, metric); },
                          perf, args, [](const ToolRun& t) { return parse_perf_usecs_per_op(t.out); },
                          "perf printed no usecs/op", false});
        pairs.push_back(std::move(p));
    }

    // Shown with each side's method, not judged: one run each, after the turns.
    struct StressCase {
        std::string what, demo, demo_metric, stressor, ops, key;
        bool per_op_inverse;  // the key is ops per second
        std::string note;
    };
    const std::vector<StressCase> cases{
        {"fork + _exit + waitpid", "creation_cost", std::string(metric_id::kFork), "fork", fork_ops,
         "bogo-ops-per-second-real-time", true,
         "different: proclab times each fork + _exit + waitpid alone from a single-threaded parent of a few MiB "
         "(median); "
         "stress-ng's figure is ops per second of real time for a larger process (more page tables to copy) that also "
         "calls "
         "setpgid and kill(SIGKILL) per child, start-up included. Compare like with like: proclab's fork against its "
         "fresh-process "
         "reference (creation_cost table 1)"},
        {"vfork + _exit + waitpid", "creation_cost", std::string(metric_id::kVfork), "vfork", vfork_ops,
         "bogo-ops-per-second-real-time", true,
         "different: proclab times each vfork + _exit + waitpid alone (median); stress-ng's figure is ops per second "
         "of real "
         "time, with setpgid and kill(SIGKILL) per child and its start-up included"},
        {"a context switch (pipe)", "context_switch",
         metric_id::context_switch(metric_id::kHopCorrected, "processes", "pipe", true), "switch", switch_ops,
         "nanosecs-per-context-switch-pipe-method", false,
         "different: stress-ng counts one op per message written and read, and the pipe's buffer lets a writer run "
         "ahead, "
         "so not every op is a switch; proclab's figure is a hop less the pipe's own cost, at one switch per hop"},
        {"creating a thread", "creation_cost", std::string(metric_id::kThreadCreateJoin), "pthread", pthread_ops,
         "nanosecs-to-start-a-pthread", false,
         "different: stress-ng keeps up to 1024 threads alive and times the start of one; proclab creates and joins "
         "one "
         "at a time"},
    };
    const std::size_t first_stress = pairs.size();
    for (const auto& c : cases) {
        CrosscheckPair p;
        p.what = c.what;
        p.proclab_figure = c.demo + " " + c.demo_metric + " (crosscheck's own run)";
        p.tool = "stress-ng --" + c.stressor;
        p.same_method = false;
        p.method_note = c.note;
        const std::vector<std::string> args{
            "--" + c.stressor, "1",   "--" + c.stressor + "-ops", c.ops, "--taskset", cpu_text, "--metrics",
            "--yaml",          "FILE"};
        p.command = "stress-ng " + fmt::format("{}", fmt::join(args, " "));
        if (stress.empty()) p.missing = "stress-ng is not installed (Debian: apt-get install stress-ng)";
        pairs.push_back(std::move(p));
    }

    // Timer lateness: sched_latency (SCHED_OTHER, idle and beside one busy process) against cyclictest.
    for (bool loaded : {false, true}) {
        CrosscheckPair p;
        p.what = loaded ? "timer lateness beside one busy process, one CPU (median)"
                        : "timer lateness, idle, one CPU (median)";
        const std::string metric = loaded ? "lateness_other_load1" : "lateness_other_idle";
        p.proclab_figure = "sched_latency " + metric + rerun;
        p.tool = "cyclictest";
        p.method_note =
            "the same: a SCHED_OTHER thread sleeps to absolute deadlines every 1 ms, default timer slack, on one CPU; "
            "--laptop leaves /dev/cpu_dma_latency alone, as proclab does; the medians (cyclictest's from its 1 µs "
            "histogram), since a few multi-millisecond wake-ups move a mean by more than the margin";
        const std::vector<std::string> args{
            "-q", "--laptop", "-t", "1", "-a", cpu_text, "-i", "1000", "-l", std::to_string(wakeups), "-h", "20000"};
        p.command = "cyclictest " + fmt::format("{}", fmt::join(args, " ")) +
                    (loaded ? " (beside one busy process on the same CPU)" : "");
        if (cyclictest.empty()) p.missing = "cyclictest is not installed (Debian: apt-get install rt-tests)";
        judged.push_back({pairs.size(), [metric](const TurnRuns& t) { return metric_of(t.lateness, metric); },
                          cyclictest, args, [](const ToolRun& t) { return parse_cyclictest_median(t.out); },
                          "cyclictest printed no histogram", loaded});
        pairs.push_back(std::move(p));
    }

    // Messaging: sched_latency's messaging total against hackbench and perf bench sched messaging.
    for (bool threads : {false, true})
        for (bool use_perf : {false, true}) {
            CrosscheckPair p;
            p.what = fmt::format("messaging, 1 group of 20 + 20 {} over pipes, {} loops, one CPU (total)",
                                 threads ? "threads" : "processes", messaging_loops);
            const std::string metric = threads ? "messaging_threads_pipe_total" : "messaging_processes_pipe_total";
            p.proclab_figure = "sched_latency " + metric + rerun;
            p.method_note =
                "the same: every sender writes the loops' messages of 100 bytes to each receiver of its group, timed "
                "from the start signal to the last task's end (proclab's figure per turn the median of three runs "
                "after an untimed one; the tool's one run per turn)";
            const auto& exe = use_perf ? perf : hackbench;
            std::vector<std::string> args;
            if (use_perf) {
                args = {"bench", "sched", "messaging", "-p", "-g", "1", "-l", messaging_loops};
                if (threads) args.push_back("-t");
                p.tool = threads ? "perf bench sched messaging -p -t" : "perf bench sched messaging -p";
            } else {
                args = {"-p", "-g", "1", "-f", "20", "-l", messaging_loops, threads ? "-T" : "-P"};
                p.tool = threads ? "hackbench -p -T" : "hackbench -p -P";
            }
            p.command = fmt::format("taskset -c {} {} {}", cpu, use_perf ? "perf" : "hackbench", fmt::join(args, " "));
            if (exe.empty())
                p.missing = use_perf ? "perf is not installed (Debian: apt-get install linux-perf)"
                                     : "hackbench is not installed (Debian: apt-get install rt-tests)";
            judged.push_back({pairs.size(), [metric](const TurnRuns& t) { return metric_of(t.messaging, metric); }, exe,
                              args, [](const ToolRun& t) { return parse_messaging_seconds(t.out); }, "no time printed",
                              false});
            pairs.push_back(std::move(p));
        }

    // The turns: proclab's demos, then each tool once; again, kTurns times.
    TurnRuns first;
    for (int turn = 0; turn < kTurns; ++turn) {
        TurnRuns t;
        t.context_switch = run_demo(dir, "context_switch",
                                    {"--quick", "--channel", "pipe", "--placement", "same", "--working-set", "0",
                                     "--repeat", pipe_repeat, "--timeout", timeout},
                                    o.timeout_s + 15);
        t.lateness = run_demo(dir, "sched_latency",
                              {"--experiments", "lateness", "--loads", "0,1", "--policies", "other", "--duration",
                               fmt::format("{}", wakeups / 1000.0), "--pin", cpu_text, "--timeout", timeout},
                              o.timeout_s + 15);
        t.messaging = run_demo(
            dir, "sched_latency",
            {"--experiments", "messaging", "--loops", messaging_loops, "--pin", cpu_text, "--timeout", timeout},
            o.timeout_s + 15);
        for (const auto& row : judged) {
            CrosscheckPair& p = pairs[row.pair];
            if (const auto v = row.ours(t)) p.proclab_turns.push_back(*v);
            else if (p.proclab_turns.empty()) {
                for (const DemoRun* d : {&t.context_switch, &t.lateness, &t.messaging})
                    if (!missing_of(*d).empty() && p.proclab_figure.rfind(d->name, 0) == 0) p.missing = missing_of(*d);
            }
        }
        for (const auto& row : judged) {
            CrosscheckPair& p = pairs[row.pair];
            if (row.exe.empty()) continue;
            std::optional<ChildProcess> spinner;
            if (row.beside_busy)
                spinner.emplace(ChildProcess::fork([] {
                    for (std::uint64_t seed = 1;; ++seed) busy_work(1'000'000, seed);
                    return 0;
                }));
            const auto out = run_tool(row.exe, row.args, o.timeout_s);
            if (spinner) spinner->kill_and_wait();
            if (const auto v = row.parse(out); v && *v > 0) p.reference_turns.push_back(*v);
            else if (p.reference_turns.empty()) p.missing = out.missing.empty() ? row.parse_failed : out.missing;
        }
        if (turn == 0) first = std::move(t);
    }

    // The rows shown, not judged: creation_cost once, context_switch's first turn, stress-ng once.
    const DemoRun cc = run_demo(dir, "creation_cost", {"--quick", "--timeout", timeout}, o.timeout_s + 15);
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        CrosscheckPair& p = pairs[first_stress + i];
        const DemoRun& run = c.demo == "creation_cost" ? cc : first.context_switch;
        if (const auto v = metric_of(run, c.demo_metric)) p.proclab_turns.push_back(*v);
        else p.missing = missing_of(run);
        if (stress.empty()) continue;
        const auto yaml = std::filesystem::temp_directory_path() /
                          fmt::format("proclab-stress-ng-{}-{}.yaml", ::getpid(), c.stressor);
        const std::vector<std::string> args{
            "--" + c.stressor, "1",          "--" + c.stressor + "-ops", c.ops, "--taskset", cpu_text, "--metrics",
            "--yaml",          yaml.string()};
        p.command = joined(stress, args);
        cleanup::track_path(yaml.string());
        const auto t = run_tool(stress, args, o.timeout_s);
        if (auto text = read_small_file(yaml.string()))
            if (auto v = parse_stress_ng_yaml(*text, c.stressor, c.key); v && *v > 0)
                p.reference_turns.push_back(c.per_op_inverse ? 1e9 / *v : *v);
        std::error_code ec;
        std::filesystem::remove(yaml, ec);
        cleanup::untrack_path(yaml.string());
        if (p.reference_turns.empty())
            p.missing = t.missing.empty() ? fmt::format("stress-ng wrote no {}", c.key) : t.missing;
    }
    for (auto& p : pairs) settle(p);
    return pairs;
}

namespace {

std::string figure(const std::optional<double>& ns) { return ns ? format_value(*ns, "ns") : "-"; }

std::string method_text() {
    return fmt::format(
        "Same method: proclab and the tool ran in turns ({} each, alternating); each figure is the median of its "
        "turns, and the spread the larger half-range of a side's turns over its median. Agreement: a ratio within "
        "1 ± {:.2f}, judged only where both spreads are within ±{:.0f}%.",
        kTurns, kAgreement, 100 * kAgreement);
}

std::string turns_text(const CrosscheckPair& p) {
    return fmt::format("{} + {} turns", p.proclab_turns.size(), p.reference_turns.size());
}

std::string spread_text(const CrosscheckPair& p) {
    const auto s = spread(p);
    return s ? fmt::format("±{:.0f}%", 100 * *s) : "-";
}

std::string outcome(const CrosscheckPair& p) {
    const auto a = judge(p);
    if (a == Agreement::missing) return "missing: " + p.missing;
    if (a == Agreement::agree) return "agree";
    if (a == Agreement::too_noisy) {
        const auto s = spread(p);
        return s ? fmt::format("too noisy to judge here: a side's turns spread ±{:.0f}%, beyond the ±{:.0f}% margin",
                               100 * *s, 100 * kAgreement)
                 : fmt::format("too noisy to judge here: fewer than 2 turns on a side ({}), so its spread is unknown",
                               turns_text(p));
    }
    if (a == Agreement::disagree)
        return fmt::format("DISAGREE (beyond ±{:.0f}%, each side's turns within ±{:.0f}%): look at what differs: {}",
                           100 * kAgreement, 100 * *spread(p), p.method_note);
    return "not judged: " + p.method_note;
}

}  // namespace

View view_of(const std::vector<CrosscheckPair>& pairs) {
    ViewTable t{.columns = {"what", "proclab", "reference", "tool", "proclab / reference", "spread", "outcome"}};
    std::vector<std::string> commands;
    for (const auto& p : pairs) {
        const auto r = ratio(p);
        t.rows.push_back({p.what, figure(p.proclab_ns), figure(p.reference_ns), p.tool,
                          r ? fmt::format("{:.2f}", *r) : "-", spread_text(p),
                          flag_cell(outcome(p), judge(p) == Agreement::disagree)});
        commands.push_back(p.command);
    }
    View v;
    v.table(std::move(t)).note(method_text() + " Different methods are shown, not judged.");
    v.heading("Commands (each pinned to one CPU)").items(std::move(commands));
    return v;
}

Json crosscheck_json(const std::vector<CrosscheckPair>& pairs) {
    Json out = Json::array();
    for (const auto& p : pairs) {
        const auto r = ratio(p);
        out.push_back(Json{{"what", p.what},
                           {"proclab_figure", p.proclab_figure},
                           {"proclab_ns", p.proclab_ns ? Json(*p.proclab_ns) : Json(nullptr)},
                           {"tool", p.tool},
                           {"command", p.command},
                           {"reference_ns", p.reference_ns ? Json(*p.reference_ns) : Json(nullptr)},
                           {"ratio", r ? Json(*r) : Json(nullptr)},
                           {"same_method", p.same_method},
                           {"method_note", p.method_note},
                           {"outcome", to_string(judge(p))},
                           {"missing", p.missing},
                           {"proclab_turns", p.proclab_turns},
                           {"reference_turns", p.reference_turns},
                           {"spread", spread(p) ? Json(*spread(p)) : Json(nullptr)}});
    }
    return out;
}

}  // namespace proclab::suite
