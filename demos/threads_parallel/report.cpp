// threads_parallel's report (see report.hpp): every table and figure from what was measured.
#include "threads_parallel/report.hpp"

#include "proclab/interference.hpp"
#include "proclab/render.hpp"
#include "proclab/sizes.hpp"
#include "proclab/stats.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>

namespace proclab::threads_parallel {

namespace {

Figure gil_timeline(const RunResult& r) {
    // 64 columns of 1.5 ms: with the lane labels, a line fits an 80-column terminal; 16 lanes at most.
    constexpr int kColumns = 64;
    constexpr int kMaxLanes = 16;
    const double window = std::min(r.wall_ns, 96e6);
    const double column = window / kColumns;
    const int lanes = std::min(r.n, kMaxLanes);
    Figure f;
    f.title = fmt::format("Emulated GIL: who held the lock, first {:.0f} ms ({:.2f} ms per column){}", window / 1e6,
                          column / 1e6, lanes < r.n ? fmt::format(", threads 0-{} of {}", lanes - 1, r.n) : "");
    for (int t = 0; t < lanes; ++t) {
        std::string lane(kColumns, '.');
        for (const auto& turn : r.intervals) {
            if (turn.thread != t) continue;
            const double a = double(turn.start - r.start) / column, b = double(turn.end - r.start) / column;
            for (int c = std::max(0, int(a)); c < kColumns && c <= int(b); ++c) lane[std::size_t(c)] = '#';
        }
        f.lines.push_back(fmt::format("thread {:<2} {}", t, lane));
    }
    f.note =
        "'#' = running (holding the lock); '.' = waiting for it. From each thread's clock gaps. One thread at a "
        "time, in turns of about the switch interval: concurrency without parallelism.";
    return f;
}

// One table per kind of job: the speedup at every N, a speedup above N flagged.
void add_sweep_table(Result& result, const Workload& work, const Measured& m, const std::vector<RunResult>& sweep) {
    const bool mem = sweep.front().kind == WorkKind::memory;
    std::vector<Column> columns{{"N", "count"},
                                {"wall (median)", "ns"},
                                {"speedup", "x"},
                                {"ideal min(N, CPUs)", "x"},
                                {"efficiency", "fraction"},
                                {"busy CPUs", "CPUs"},
                                {"2+ running at once", "fraction"}};
    if (mem) columns.push_back({"bandwidth", "B/s"});
    else {
        columns.push_back({"CPU time per thread, least", "ns"});
        columns.push_back({"most", "ns"});
    }
    columns.emplace_back("check");
    auto& t = result.add_table(mem ? fmt::format("C++ threads, memory-bound: streaming a {} buffer, N threads",
                                                 byte_label(work.memory->buffer_bytes()))
                                   : "C++ threads, compute-bound: one fixed job split across N threads",
                               columns);
    for (const auto& r : sweep) {
        const double s = speedup(sweep.front().wall_ns, r.wall_ns);
        const auto cpu = summarize(r.thread_cpu_ns);
        std::vector<Cell> row{double(r.n),        r.wall_ns,     s,          double(std::min(r.n, m.cpus)),
                              efficiency(s, r.n), r.busy_cpus(), r.overlap()};
        if (mem) row.emplace_back(r.bytes_per_s());
        else {
            row.emplace_back(cpu.min);
            row.emplace_back(cpu.max);
        }
        // A speedup is bounded by N: above it (beyond the noise allowed) the figure is not what
        // its label says, and is flagged rather than printed bare.
        row.emplace_back(s > double(r.n) * (1 + kSpeedupTolerance)
                             ? fmt::format("implausible: above its ceiling N = {} (+{:.0f}% for noise)", r.n,
                                           100 * kSpeedupTolerance)
                             : "");
        t.rows.push_back(std::move(row));
        result.add_metric(fmt::format("{}_speedup_n{}", mem ? "memory" : "cpp", r.n), s, "ratio",
                          fmt::format("C++ threads, {}, N={}", name(r.kind), r.n));
        if (mem)
            result.add_metric(fmt::format("memory_bandwidth_n{}", r.n), r.bytes_per_s(), "B/s",
                              fmt::format("memory-bound job, N={}: bytes read per second", r.n));
    }
    const char* plural = m.repetitions == 1 ? "" : "s";
    t.note =
        mem ? fmt::format(
                  "Each chunk reads one word per 64-byte line of a 64 KiB slice; thread i starts i/N of the way into "
                  "the buffer "
                  "and streams on, so no line is still cached when it comes back (buffer {}, last-level cache {}). "
                  "{} slices in all, ~{:.1f} s on one thread; {} repetition{} per N, median wall shown. The curve "
                  "flattens where the memory bandwidth runs out, not the CPUs.",
                  byte_label(work.memory->buffer_bytes()), work.llc_bytes ? byte_label(work.llc_bytes) : "unknown",
                  work.memory->total_chunks(), work.target_s, m.repetitions, plural)
            : fmt::format(
                  "The job: {} chunks of {} multiply-adds (~20 µs each), ~{:.1f} s on one CPU; {} repetition{} per N, "
                  "median wall shown. {} CPU{} allowed. Busy CPUs = the threads' CPU time / wall time; '2+ running at "
                  "once' = the share of the wall time in which two or more threads ran, from their clock gaps.",
                  work.compute.total_chunks(), work.chunk_iterations, work.target_s, m.repetitions, plural, m.cpus,
                  m.cpus == 1 ? "" : "s");
}

void add_gil_table(Result& result, const Measured& m) {
    auto& g = result.add_table(
        fmt::format("The same compute-bound job under an emulated GIL (switch interval {} ms)", m.switch_interval_ms),
        {{"N", "count"},
         {"wall (median)", "ns"},
         {"speedup", "x"},
         {"busy CPUs", "CPUs"},
         {"2+ running at once", "fraction"},
         {"hand-overs", "count"},
         {"hand-overs per second", "/s"}});
    for (const auto& r : m.locked) {
        const double s = speedup(m.locked.front().wall_ns, r.wall_ns);
        g.rows.push_back({double(r.n), r.wall_ns, s, r.busy_cpus(), r.overlap(), double(r.gil_switches),
                          double(r.gil_switches) / (r.wall_ns / 1e9)});
        result.add_metric(fmt::format("gil_speedup_n{}", r.n), s, "ratio", fmt::format("emulated GIL, N={}", r.n));
    }
    g.note =
        "A waiting thread asks for the lock after one switch interval without a hand-over; the holder drops it at its "
        "next check (between chunks) and waits until another thread has it, as CPython's ceval_gil.c does.";
    const RunResult* shown = &m.locked.back();
    for (const auto& r : m.locked)
        if (r.n == m.n_at_cpus) shown = &r;
    result.figures.push_back(gil_timeline(*shown));
}

// The decisive figures of every trial, and their spread as metrics.
void add_trials_table(Result& result, const Measured& m) {
    const auto& trials = m.trials;
    auto tt = trials_table(
        trials, fmt::format("Trials: {} independent runs, each decided on its own", trials.count()),
        {{fmt::format("C++ {} threads", m.n_at_cpus), "x"},
         {"2+ running at once", "fraction"},
         {"emulated GIL: 2+ at once", "fraction"},
         {"CPython threads: busy CPUs", "CPUs"},
         {"sha256 threads", "CPUs"},
         {"processes", "CPUs"}},
        [](const Evidence& x) {
            const auto py = [&](const Timing& t) { return x.python.ran ? Cell{t.parallelism()} : Cell{}; };
            return std::vector<Cell>{
                x.cpp_speedup,         x.cpp_overlap, x.gil_overlap, py(x.python.threads), py(x.python.hash_threads),
                py(x.python.processes)};
        });
    tt.note = fmt::format(
        "Interference = other tasks' CPU time and steal on the allowed CPUs during the trial (/proc/stat against our "
        "own "
        "getrusage; margin {:.0f}%). T2 is refuted only if the CPUs were free and the threads did not run at the same "
        "time "
        "(under {:.0f}% of the wall); T9 only if real CPython's pure-Python threads, GIL enabled, kept {:.1f} CPUs or "
        "more busy. "
        "The emulated GIL shows the mechanism and decides nothing. A verdict needs a majority of trials, 'refuted' all "
        "of them.",
        100 * kInterferenceMargin, 100 * kOverlapParallel, kParallelBusy);
    result.tables.push_back(std::move(tt));
    std::vector<double> speedups, overlaps, gil_overlaps, py_threads, py_hash;
    for (const auto& x : trials.evidence) {
        speedups.push_back(x.cpp_speedup);
        overlaps.push_back(x.cpp_overlap);
        gil_overlaps.push_back(x.gil_overlap);
        if (x.python.ran) {
            py_threads.push_back(x.python.threads.parallelism());
            py_hash.push_back(x.python.hash_threads.parallelism());
        }
    }
    result
        .add_metric(fmt::format("trial_cpp_speedup_n{}", m.n_at_cpus), summarize(speedups), "ratio",
                    fmt::format("C++ threads, N={}, over trials", m.n_at_cpus))
        .headline = true;
    result
        .add_metric(fmt::format("trial_cpp_overlap_n{}", m.n_at_cpus), summarize(overlaps), "ratio",
                    "share of the wall time with 2+ C++ threads running, over trials")
        .headline = true;
    result.add_metric(fmt::format("trial_gil_overlap_n{}", m.n_at_cpus), summarize(gil_overlaps), "ratio",
                      "share of the wall time with 2+ threads running under the emulated GIL, over trials");
    if (!py_threads.empty()) {
        result
            .add_metric("trial_cpython_thread_busy_cpus", summarize(py_threads), "ratio",
                        "CPython pure-Python threads: CPU/wall, over trials")
            .headline = true;
        result
            .add_metric("trial_cpython_hash_busy_cpus", summarize(py_hash), "ratio",
                        "CPython sha256 threads: CPU/wall, over trials")
            .headline = true;
    }
    const Interference all_interference = trials.total_interference();
    result.add_metric("interference", all_interference.fraction(), "ratio",
                      "other tasks' CPU time and steal, as a share of the allowed CPUs' time, over all trials");
    result.notes.push_back("Interference over all trials: " + all_interference.describe() + ".");
}

// Real CPython of the trial shown.
void add_cpython_table(Result& result, const CPython& py) {
    if (!py.ran) {
        result.notes.push_back("Real CPython not measured: " + py.why_not + ".");
        return;
    }
    auto& p = result.add_table(fmt::format("Real CPython {} ({}{}), {} workers", py.version, py.implementation,
                                           py.free_threaded_build ? ", free-threaded build" : "", py.n),
                               {"work", "run as", {"wall", "ns"}, {"speedup", "x"}, {"busy CPUs", "CPUs"}, "check"});
    // A speedup cannot exceed the workers, nor the busy CPUs over the one-worker run's: a baseline
    // that was itself held off its CPU makes it look larger, and it is flagged, not printed bare.
    auto row = [&](const char* work, std::string how, const Timing& t, const Timing& base, int workers) {
        const double s = speedup(base.wall, t.wall);
        const double ceiling =
            std::min(double(workers), base.parallelism() > 0 ? t.parallelism() / base.parallelism() : double(workers));
        p.rows.push_back(
            {work, std::move(how), t.wall * 1e9, s, t.parallelism(),
             s > ceiling * (1 + kSpeedupTolerance)
                 ? fmt::format("implausible: above its ceiling {:.2f}x (the workers, or the busy CPUs over the one "
                               "worker's {:.2f}), +{:.0f}% for noise: the one-worker run was slowed",
                               ceiling, base.parallelism(), 100 * kSpeedupTolerance)
                 : std::string()});
    };
    row("pure-Python loop", "1 thread", py.one, py.one, 1);
    row("pure-Python loop", fmt::format("{} threads", py.n), py.threads, py.one, py.n);
    row("pure-Python loop", fmt::format("{} processes", py.n), py.processes, py.one, py.n);
    row("sha256 of a large buffer (releases the GIL)", "1 thread", py.hash_one, py.hash_one, 1);
    row("sha256 of a large buffer (releases the GIL)", fmt::format("{} threads", py.n), py.hash_threads, py.hash_one,
        py.n);
    p.note = fmt::format(
        "GIL enabled at run time: {}. The same total work in each group; processes by os.fork(). Busy CPUs = "
        "CPU time (getrusage) / wall time.",
        py.gil_enabled ? "yes" : "no");
    result.add_metric("cpython_thread_speedup", speedup(py.one.wall, py.threads.wall), "ratio",
                      "CPython pure-Python loop, N threads");
    result.add_metric("cpython_thread_busy_cpus", py.threads.parallelism(), "ratio",
                      "CPython pure-Python loop, N threads: CPU/wall");
    result.add_metric("cpython_process_speedup", speedup(py.one.wall, py.processes.wall), "ratio",
                      "CPython pure-Python loop, N processes");
    result.add_metric("cpython_hash_thread_speedup", speedup(py.hash_one.wall, py.hash_threads.wall), "ratio",
                      "CPython sha256, N threads");
}

Json raw_series(const Measured& m) {
    Json raw;
    for (const auto& sweep : m.sweeps)
        if (!sweep.empty() && sweep.front().kind == WorkKind::compute)
            for (const auto& r : sweep)
                raw["cpp"].push_back(Json{
                    {"n", r.n}, {"wall_ms", r.wall_ns / 1e6}, {"busy_cpus", r.busy_cpus()}, {"overlap", r.overlap()}});
    for (const auto& sweep : m.sweeps)
        if (!sweep.empty() && sweep.front().kind == WorkKind::memory)
            for (const auto& r : sweep)
                raw["memory"].push_back(Json{{"n", r.n},
                                             {"wall_ms", r.wall_ns / 1e6},
                                             {"busy_cpus", r.busy_cpus()},
                                             {"overlap", r.overlap()},
                                             {"bytes_per_s", r.bytes_per_s()}});
    for (const auto& r : m.locked)
        raw["gil"].push_back(
            Json{{"n", r.n}, {"wall_ms", r.wall_ns / 1e6}, {"busy_cpus", r.busy_cpus()}, {"switches", r.gil_switches}});
    const CPython& py = m.trials.shown_evidence().python;
    if (py.ran)
        raw["cpython"] = Json{{"version", py.version},
                              {"n", py.n},
                              {"one_s", py.one.wall},
                              {"threads_s", py.threads.wall},
                              {"processes_s", py.processes.wall},
                              {"hash_one_s", py.hash_one.wall},
                              {"hash_threads_s", py.hash_threads.wall}};
    return raw;
}

std::vector<double> speedups(const std::vector<RunResult>& sweep) {
    std::vector<double> out;
    for (const auto& r : sweep) out.push_back(sweep.front().wall_ns / r.wall_ns);
    return out;
}

std::vector<double> counts(const std::vector<RunResult>& sweep) {
    std::vector<double> out;
    for (const auto& r : sweep) out.push_back(r.n);
    return out;
}

// Speedup against N for every job, the ideal beside them; below, the measured overlap.
plot::Plot speedup_plot(const Measured& m) {
    plot::Panel speed{.title = "Speedup against N threads (T2, T9)", .y = {.label = "speedup over N = 1 (x)"}};
    plot::Panel overlap{.title = "measured overlap: two or more threads running at the same instant",
                        .x = {.label = "threads (or processes) N"},
                        .y = {.label = "2+ threads running\n(% of the wall time)", .min = 0, .max = 105}};
    std::set<int> all_n;
    std::vector<std::string> drawn;  // what the caption names: only what is drawn
    for (const auto& sweep : m.sweeps) {
        if (sweep.empty()) continue;
        const bool mem = sweep.front().kind == WorkKind::memory;
        drawn.emplace_back(mem ? "memory-bound C++ threads" : "compute-bound C++ threads");
        const int colour = mem ? 1 : 0;
        std::string label = "C++ threads, compute-bound";
        if (mem) {
            const auto top = std::max_element(sweep.begin(), sweep.end(), [](const auto& a, const auto& b) {
                return a.bytes_per_s() < b.bytes_per_s();
            });
            label = fmt::format("C++ threads, memory-bound (streaming, peak {:.1f} GiB/s at N={})",
                                top->bytes_per_s() / double(1 << 30), top->n);
        }
        plot::Series on_top{
            .label = label, .x = counts(sweep), .y = speedups(sweep), .colour = colour, .marker = mem ? "D" : "o"};
        plot::Series below{.label = mem ? "memory-bound" : "compute-bound",
                           .x = counts(sweep),
                           .colour = colour,
                           .marker = on_top.marker};
        for (const auto& r : sweep) {
            below.y.push_back(100 * r.overlap());
            all_n.insert(r.n);
        }
        speed.series.push_back(std::move(on_top));
        overlap.series.push_back(std::move(below));
    }
    if (!m.locked.empty()) drawn.emplace_back("C++ under an emulated GIL");
    if (!m.locked.empty())
        speed.series.push_back({.label = "C++ under an emulated GIL",
                                .x = counts(m.locked),
                                .y = speedups(m.locked),
                                .colour = 2,
                                .marker = "s"});
    if (const CPython& py = m.trials.shown_evidence().python; py.ran) {
        drawn.push_back(fmt::format("CPython {}", py.version));
        const std::vector<double> n{1, double(py.n)};
        speed.series.push_back({.label = fmt::format("CPython {} threads", py.version),
                                .x = n,
                                .y = {1, py.one.wall / py.threads.wall},
                                .colour = 3,
                                .marker = "^"});
        speed.series.push_back({.label = fmt::format("CPython {} processes", py.version),
                                .x = n,
                                .y = {1, py.one.wall / py.processes.wall},
                                .colour = 4,
                                .marker = "v"});
        speed.series.push_back({.label = "CPython threads, sha256 (releases the GIL)",
                                .x = n,
                                .y = {1, py.hash_one.wall / py.hash_threads.wall},
                                .colour = 5,
                                .line = "--",
                                .marker = "x"});
    }
    plot::Series ideal{.label = "ideal: min(N, CPUs)", .grey = true, .line = ":"};
    for (int n : all_n) {
        ideal.x.push_back(n);
        ideal.y.push_back(std::min(n, m.cpus));
    }
    speed.series.push_back(std::move(ideal));
    std::vector<int> ticks(all_n.begin(), all_n.end());
    if (ticks.size() > 24) {  // about 16 labelled
        std::vector<int> fewer;
        for (std::size_t i = 0; i < ticks.size(); i += ticks.size() / 16) fewer.push_back(ticks[i]);
        ticks = fewer;
    }
    plot::set_ticks(overlap.x, ticks, [](int n) { return std::to_string(n); });
    return {.file = "speedup.png",
            .caption = fmt::format("Speedup against threads: {}; below, the measured overlap (T2, T9).",
                                   fmt::join(drawn, ", ")),
            .width = 7.5,
            .height = 6.5,
            .ratios = {3, 1},
            .share_x = true,
            .panels = {std::move(speed), std::move(overlap)}};
}

// Who ran when, N threads on the same job: free, then under the emulated GIL (turn by turn).
std::optional<plot::Plot> turns_plot(const Measured& m) {
    const RunResult* locked = nullptr;
    for (const auto& r : m.locked)
        if (r.n == m.n_at_cpus) locked = &r;
    const RunResult* free = nullptr;
    for (const auto& sweep : m.sweeps)
        for (const auto& r : sweep)
            if (r.kind == WorkKind::compute && r.n == m.n_at_cpus) free = &r;
    if (!locked) return std::nullopt;
    // A lane per thread reads up to a few dozen; on a large machine the first kMaxLanes are drawn
    // (the figures in the titles count every thread).
    constexpr int kMaxLanes = 16;
    const int drawn = std::min(m.n_at_cpus, kMaxLanes);
    auto lanes = [drawn](const RunResult& r, std::string title) {
        const int shown = std::min(r.n, drawn);
        if (shown < r.n) title += fmt::format(" (threads 0-{} of {} drawn)", shown - 1, r.n);
        const double window_ms = std::min(r.wall_ns, 100e6) / 1e6;
        plot::Panel p{.title = std::move(title),
                      .x = {.label = "time since the threads were released (ms)", .min = 0, .max = window_ms},
                      .y = {.label = "thread", .min = -0.6, .max = shown - 0.4},
                      .legend = ""};
        std::vector<int> threads;
        for (int t = 0; t < shown; ++t) {
            threads.push_back(t);
            plot::Series lane{.mark = plot::Mark::intervals, .colour = t};
            for (const auto& turn : r.intervals) {
                const double a = double(turn.start - r.start) / 1e6, b = double(turn.end - r.start) / 1e6;
                if (turn.thread == t && a < window_ms) lane.intervals.push_back({a, b, double(t)});
            }
            p.series.push_back(std::move(lane));
        }
        plot::set_ticks(p.y, threads, [](int t) { return fmt::format("thread {}", t); });
        return p;
    };
    plot::Plot plot{
        .file = "gil_turns.png",
        .caption = fmt::format("When each thread ran, from its own clock gaps: {}the emulated GIL (T2, T9).",
                               free ? "the same job with no lock, and under " : "the job under "),
        .width = 9,
        .height = 1.6 + 0.5 * drawn * (free ? 2 : 1)};
    // The titles quote what was measured in the runs drawn, not what they should show.
    if (free)
        plot.panels.push_back(
            lanes(*free, fmt::format("{} C++ threads, no lock: two or more running at once {:.0f}% of the time",
                                     free->n, 100 * free->overlap())));
    plot.panels.push_back(
        lanes(*locked, fmt::format("{} C++ threads under the emulated GIL (switch interval {:g} ms):\ntwo or more "
                                   "running at once {:.0f}% of the time, {} hand-overs",
                                   locked->n, m.switch_interval_ms, 100 * locked->overlap(), locked->gil_switches)));
    return plot;
}

}  // namespace

void present(Result& result, const Workload& work, const Measured& m) {
    for (const auto& sweep : m.sweeps) add_sweep_table(result, work, m, sweep);
    if (work.memory && work.llc_bytes > (std::size_t(256) << 20))
        result.notes.push_back(
            fmt::format("The last-level cache ({}) is larger than half the memory-bound buffer can be (512 MiB): part "
                        "of the stream may still come from the cache.",
                        byte_label(work.llc_bytes)));
    add_gil_table(result, m);
    add_trials_table(result, m);
    add_cpython_table(result, m.trials.shown_evidence().python);
    result.config.repeat = m.repetitions;
    result.config.trials = m.trials.count();
    result.raw = raw_series(m);
    if (!m.sweeps.empty() || !m.locked.empty()) result.plots.push_back(speedup_plot(m));
    if (auto turns = turns_plot(m)) result.plots.push_back(std::move(*turns));
}

}  // namespace proclab::threads_parallel
