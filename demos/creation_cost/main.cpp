// creation_cost: claim T8 of ../shared/seed/claims.md.
//
//   T8  Creating a thread is costly, so we work with a thread pool.
//
// Method (operations.hpp, sweeps.hpp; the rule in verdicts.hpp): every operation below is timed one at a time on CLOCK_MONOTONIC after a warm-up, many
// times; median, p99 and max reported, the clock's overhead subtracted.
//   1. std::thread create + join; pthread_create with a 64 KiB stack + join; handing an empty task
//      to proclab's thread pool and waiting for it (the pool already running); fork + the child's
//      _exit + waitpid; vfork + _exit + waitpid; posix_spawn of a tiny program (/bin/true) + wait;
//      fork + exec of the same + wait; Boost.Process v2 spawn of the same + wait (--ops: a subset).
//   2. fork's cost against the parent's size: the parent touches 0, 64, 256, 1024 MiB (capped by
//      available memory; --quick: 0, 64; --parent-sizes) of private memory, then fork + _exit + wait is timed; the
//      cost per page (its page-table entry is copied) from the slope; the same with transparent huge
//      pages where the system offers them (one entry per 2 MiB); vfork and posix_spawn beside it.
//   3. A pool against a thread per task, over task sizes from ~100 ns to ~1 ms of work: where the
//      pool stops paying off and where thread creation stops mattering.
//
// Clean conditions: every process-creation figure is timed from a single-threaded parent (no pool
// thread alive: the pool is created after them), with the parent's thread count and RSS printed
// beside it. Beside it, the same fork+_exit+waitpid in a fresh copy of this program (exec'd, one
// thread, small RSS: `--child fork-reference`), as the reference a minimal program gives; and fork
// from this parent running 2 and 4 threads (--parent-threads; the extra ones blocked), its own row: a multi-threaded
// parent's fork costs more. T8's verdict comes from R trials of thread create+join against a pool
// hand-off (--trials), with the interference around each.
//
// Caveats: in a virtual machine fork is slower (page-table copies and faults go through nested
// paging). /bin/true is a dynamically linked program: exec includes loading libc. The pool's
// hand-off is a cross-thread round trip, so it includes one wake-up unless a worker spins.

#include "creation_cost/operations.hpp"
#include "creation_cost/sweeps.hpp"
#include "creation_cost/verdicts.hpp"

#include "proclab/affinity.hpp"
#include "proclab/demo.hpp"
#include "proclab/environment.hpp"
#include "proclab/interference.hpp"
#include "proclab/render.hpp"
#include "proclab/sizes.hpp"
#include "proclab/spawn.hpp"
#include "proclab/thread_pool.hpp"
#include "proclab/topology.hpp"
#include "proclab/work.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <unistd.h>

namespace proclab::creation_cost {

enum class Op { fork, vfork, posix_spawn, fork_exec, boost_process, thread, pthread, pool };
struct OpName {
    Op op;
    const char* name;
};
constexpr OpName kOps[] = {{Op::fork, "fork"},     {Op::vfork, "vfork"},   {Op::posix_spawn, "posix_spawn"}, {Op::fork_exec, "fork_exec"},
                           {Op::boost_process, "boost_process"}, {Op::thread, "thread"}, {Op::pthread, "pthread"}, {Op::pool, "pool"}};

struct Options {
    std::string ops = "all";
    std::string parent_sizes;  // empty: 0,64M,256M,1G (--quick 0,64M)
    std::string parent_threads = "2,4";
};
Options g_options;

void add_options(CLI::App& app) {
    app.add_option("--ops", g_options.ops,
                   "Operations of table 1: all, or a list of fork,vfork,posix_spawn,fork_exec,boost_process,thread,pthread,pool "
                   "(T8's trials time thread and pool whatever is chosen)")
        ->type_name("LIST")
        ->capture_default_str();
    app.add_option("--parent-sizes", g_options.parent_sizes,
                   "Memory the parent touches before fork is timed, whole MiB, 0 to 64G (like 0,64M,1G; default 0,64M,256M,1G, --quick 0,64M)")
        ->type_name("LIST");
    app.add_option("--parent-threads", g_options.parent_threads, "fork is also timed from a parent running this many threads (2 to 64, like 2,4,8)")
        ->type_name("LIST")
        ->capture_default_str();
}

struct Setup {
    std::vector<Op> ops;
    std::vector<std::size_t> parent_mib;
    std::vector<int> parent_threads;
};

Setup read_setup(const DemoContext& ctx) {
    Setup s;
    if (g_options.ops == "all") {
        for (const auto& o : kOps) s.ops.push_back(o.op);
    } else {
        for (std::string_view item : split_list(g_options.ops)) {
            const auto it = std::find_if(std::begin(kOps), std::end(kOps), [&](const OpName& o) { return item == o.name; });
            if (it == std::end(kOps))
                throw UsageError(fmt::format("--ops {}: '{}' is not one of fork,vfork,posix_spawn,fork_exec,boost_process,thread,pthread,pool",
                                             g_options.ops, item));
            s.ops.push_back(it->op);
        }
    }
    const std::string sizes = !g_options.parent_sizes.empty() ? g_options.parent_sizes : ctx.options.quick ? "0,64M" : "0,64M,256M,1G";
    const auto bytes = parse_byte_list(sizes, 0, std::size_t(64) << 30);
    if (!bytes || std::any_of(bytes->begin(), bytes->end(), [](std::size_t b) { return b % (std::size_t(1) << 20) != 0; }))
        throw UsageError(fmt::format("--parent-sizes {}: give whole MiB from 0 to 64G, like 0,64M,1G", sizes));
    for (std::size_t b : *bytes) s.parent_mib.push_back(b >> 20);
    s.parent_threads = parse_cpu_list(g_options.parent_threads);  // a list of integers, like a CPU list
    if (s.parent_threads.empty() || s.parent_threads.front() < 2 || s.parent_threads.back() > 64)
        throw UsageError(fmt::format("--parent-threads {}: give thread counts from 2 to 64, like 2,4,8", g_options.parent_threads));
    return s;
}

// ---------------------------------------------------------------------------------------------

Result run(const DemoContext& ctx) {
    Result result;
    const Setup setup = read_setup(ctx);
    const bool quick = ctx.options.quick;
    const double overhead = ctx.clock.read_overhead_ns;
    const unsigned cpus = static_cast<unsigned>(ctx.env.affinity_cpus.size());
    std::string program = "/bin/true";
    if (::access(program.c_str(), X_OK) != 0) program = find_program("true").string();
    if (program.empty()) throw std::runtime_error("no 'true' program to spawn (looked in /bin and on PATH)");

    const int threads_n = ctx.repeat(2000, 300);
    const int procs_n = std::max(100, threads_n / 8);  // forks are cheap enough to take 100 even in a quick run
    const int exec_n = std::max(10, threads_n / 10);
    result.config.repeat = threads_n;

    struct Row {
        std::string id;
        std::string what;
        Summary s;
        ParentConditions conditions;
    };
    std::vector<Row> rows;
    auto timed = [&](std::string id, std::string what, int warmup, int count, const std::function<void()>& op) {
        const auto conditions = parent_conditions();
        rows.push_back({std::move(id), std::move(what), time_each(warmup, count, overhead, op), conditions});
    };
    // Processes first, from this single-threaded parent: no pool thread is alive yet. Pinned to one
    // CPU, parent and child alike (the child inherits the mask): unpinned, whether the child starts
    // on the parent's CPU or another one makes fork's figure bimodal (a cross-CPU wake-up, dear in
    // a VM), which is placement, not fork.
    std::optional<ScopedPin> pinned;
    if (!ctx.env.affinity_cpus.empty()) pinned.emplace(ctx.env.affinity_cpus.front());
    const auto want = [&](Op op) { return std::find(setup.ops.begin(), setup.ops.end(), op) != setup.ops.end(); };
    if (want(Op::fork)) timed("fork", "fork + _exit + waitpid", 5, procs_n, fork_exit_wait);
    if (want(Op::vfork)) timed("vfork", "vfork + _exit + waitpid", 5, procs_n, vfork_exit_wait);
    if (want(Op::posix_spawn))
        timed("posix_spawn", fmt::format("posix_spawn {} + waitpid", program), 3, exec_n, [&] { posix_spawn_wait(program); });
    if (want(Op::fork_exec)) timed("fork_exec", fmt::format("fork + exec {} + waitpid", program), 3, exec_n, [&] { fork_exec_wait(program); });
    if (want(Op::boost_process))
        timed("boost_process", fmt::format("Boost.Process v2 spawn {} + wait", program), 3, exec_n, [&] {
            const auto st = spawn_and_wait(program, {});
            if (!st.exited() || st.exit_code() != 0) throw std::runtime_error("Boost.Process child: " + st.describe());
        });
    Reference reference;
    if (want(Op::fork)) {
        reference = fork_reference(ctx.self_exe, procs_n);
        // fork from a parent running more threads (the extra ones blocked in a wait).
        for (int n : setup.parent_threads) {
            if (n < 2) continue;
            const BlockedThreads extra(n - 1);
            timed(fmt::format("fork_parent_{}_threads", n), fmt::format("fork + _exit + waitpid, parent running {} threads", n), 5, procs_n,
                  fork_exit_wait);
        }
    } else {
        reference.why_not = "fork is not among --ops";
    }
    pinned.reset();
    // Threads, with no other thread of ours alive.
    if (want(Op::thread)) timed("thread_create_join", "std::thread create + join", threads_n / 10, threads_n, thread_create_join);
    if (want(Op::pthread)) timed("pthread_small_stack", "pthread_create, 64 KiB stack, + join", threads_n / 10, threads_n, pthread_small_stack);
    // The pool exists only while its hand-off is timed (and in section 3), so nothing above ran beside it.
    std::size_t pool_workers = 0;
    if (want(Op::pool)) {
        ThreadPool pool;  // CPUs - 1 workers: the waiting thread helps
        pool_workers = pool.size();
        timed("pool_handoff", "pool: hand over an empty task, wait for it", threads_n / 10, threads_n, [&] { pool.submit([] {}).get(); });
    }
    // The median of a row, 0 when its operation was not among --ops.
    const auto median_of = [&](const std::string& id) {
        const auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.id == id; });
        return it == rows.end() ? 0.0 : it->s.median;
    };

    // R trials for T8's verdict: thread create+join with no pool alive, then a pool made for the
    // hand-off and ended after it.
    std::vector<double> thread_medians, pool_medians;
    std::vector<ClaimVerdict> t8_trials;
    std::vector<Interference> trial_interference;
    const int trials = ctx.trials();
    const int per_trial = std::max(20, threads_n / trials);
    for (int r = 0; r < trials; ++r) {
        const InterferenceProbe probe(ctx.env.affinity_cpus);
        const Summary th = time_each(per_trial / 10, per_trial, overhead, thread_create_join);
        Summary po;
        {
            ThreadPool trial_pool;
            po = time_each(per_trial / 10, per_trial, overhead, [&] { trial_pool.submit([] {}).get(); });
        }
        Costs c{th.median, po.median, median_of("fork"), median_of("posix_spawn"), probe.stop()};
        thread_medians.push_back(th.median);
        pool_medians.push_back(po.median);
        trial_interference.push_back(c.interference);
        t8_trials.push_back(decide_t8(c));
    }
    // The trials' pool figure stands in where the pool row was not asked for.
    const double pool_median = median_of("pool_handoff") > 0 ? median_of("pool_handoff") : summarize(pool_medians).median;
    auto& t = result.add_table("1. Creating a thread or a process, and handing a task to a pool",
                               {"operation", "median", "p99", "max", "n", "vs the pool", "parent while timed"});
    for (const auto& r : rows) {
        t.rows.push_back({r.what, format_value(r.s.median, "ns"), format_value(r.s.p99, "ns"), format_value(r.s.max, "ns"),
                          std::to_string(r.s.count), fmt::format("{:.1f}x", r.s.median / pool_median), describe(r.conditions)});
        result.add_metric(r.id, r.s, "ns", r.what).headline =
            r.id == "fork" || r.id == "thread_create_join" || r.id == "pool_handoff" || r.id == "posix_spawn";
    }
    if (reference.ran) {
        t.rows.push_back({"fork + _exit + waitpid in a fresh process (reference)", format_value(reference.fork.median, "ns"),
                          format_value(reference.fork.p99, "ns"), "-", std::to_string(reference.fork.count),
                          fmt::format("{:.1f}x", reference.fork.median / pool_median), describe(reference.conditions)});
        result.add_metric("fork_reference", reference.fork.median, "ns", "fork+exit+wait in a fresh single-threaded copy of this program");
        result.add_metric("fork_vs_reference", median_of("fork") / reference.fork.median, "ratio",
                          "this demo's fork against the fresh process's")
            .headline = true;
    } else {
        result.notes.push_back("The fresh-process fork reference did not run: " + reference.why_not + ".");
    }
    t.note = fmt::format(
        "Each operation timed alone, after a warm-up; {} threads, {} forks, {} execs. Processes are created from this parent "
        "while it runs one thread (no pool yet), pinned with its children to one CPU (placement would otherwise decide whether "
        "the child's exit wakes the parent across CPUs); 'parent running N threads' adds N-1 threads blocked in a wait, which a fork "
        "must still account for (the mm is shared: more to lock and flush).{}{}",
        threads_n, procs_n, exec_n,
        reference.ran ? fmt::format(" The reference is the same fork in a fresh exec'd copy of this program: this demo's fork is {:.2f}x it.",
                                    median_of("fork") / reference.fork.median)
                      : "",
        want(Op::pool) ? fmt::format(" The pool has {} worker(s) (one CPU is left to the thread that submits and helps) and is running "
                                     "already: its figure is a round trip to a worker and back.",
                                     pool_workers)
                       : " 'vs the pool': against the trials' pool hand-off (the pool row was not among --ops).");

    // Trials of T8.
    auto& tt = result.add_table(fmt::format("Trials: {} independent runs of thread create+join against a pool hand-off", trials),
                                {"trial", "interference", "thread create+join", "pool hand-off", "ratio", "T8"});
    for (int r = 0; r < trials; ++r) {
        const auto i = static_cast<std::size_t>(r);
        tt.rows.push_back({std::to_string(r + 1), trial_interference[i].known ? fmt::format("{:.1f}%", 100 * trial_interference[i].fraction()) : "unknown",
                           format_value(thread_medians[i], "ns"), format_value(pool_medians[i], "ns"),
                           fmt::format("{:.0f}x", thread_medians[i] / pool_medians[i]), std::string(to_string(t8_trials[i].verdict))});
    }
    tt.note = fmt::format("{} of each per trial (medians). T8 is refuted only if a thread cost no more than a hand-off in every "
                          "trial with the CPUs free (margin {:.0f}%).",
                          per_trial, 100 * kInterferenceMargin);
    result.config.trials = trials;

    // 2. fork against size (no pool alive: this parent runs one thread).
    const std::vector<std::size_t>& sizes = setup.parent_mib;
    const auto avail = available_mib();
    std::vector<std::string> skipped;
    std::vector<SizePoint> points;
    const int size_n = quick ? 5 : 15;
    const bool thp = thp_offered();
    if (!ctx.env.affinity_cpus.empty()) pinned.emplace(ctx.env.affinity_cpus.front());  // as in section 1
    for (auto mib : sizes) {
        if (avail && mib * 3 > *avail) {
            skipped.push_back(fmt::format("{} MiB (only {} MiB available)", mib, *avail));
            continue;
        }
        if (!want(Op::fork)) break;
        points.push_back(fork_at_size(mib, false, size_n, overhead, program));
        if (thp && mib > 0) points.push_back(fork_at_size(mib, true, size_n, overhead, program));
    }
    pinned.reset();
    if (!want(Op::fork)) skipped.push_back("every size: fork is not among --ops");
    auto& f = result.add_table("2. fork against the parent's size (every page touched first)",
                               {"parent memory", "pages", "fork+exit+wait", "per 4 KiB page", "vfork", "posix_spawn"});
    const double base = points.empty() ? 0 : points.front().fork_ns;
    for (const auto& p : points) {
        const double pages = double(p.mib) * 256;
        f.rows.push_back({fmt::format("{} MiB{}", p.mib, p.huge_pages ? " (THP)" : ""), fmt::format("{:.0f}", pages),
                          format_value(p.fork_ns, "ns"), p.mib ? format_value((p.fork_ns - base) / pages, "ns") : "-",
                          format_value(p.vfork_ns, "ns"), format_value(p.spawn_ns, "ns")});
        if (p.mib)
            result.add_metric(fmt::format("fork_{}mib{}", p.mib, p.huge_pages ? "_thp" : ""), p.fork_ns, "ns",
                              "fork+exit+wait with this much touched memory");
    }
    f.note = fmt::format(
        "Median of {} each, pinned to one CPU as above. fork copies the page tables (one entry per 4 KiB page, or per 2 MiB with THP) and marks the pages "
        "copy-on-write; vfork and posix_spawn copy nothing and stay flat. Transparent huge pages: {}.{}",
        size_n, thp ? "offered (rows marked THP use MADV_HUGEPAGE)" : "not offered here",
        skipped.empty() ? "" : fmt::format(" Skipped: {}.", fmt::join(skipped, ", ")));

    // 3. Pool against thread per task.
    auto& pt = result.add_table("3. A pool against one thread per task",
                                {"work per task", "tasks", "per task: pool", "per task: a thread each", "threads / pool",
                                 "thread creation's share"});
    std::vector<TaskSizePoint> sweep;
    std::uint64_t iterations = 50;  // about 100 ns; grown 10x per step
    for (int step = 0; step < 5; ++step, iterations *= 10) {
        const double approx_ns = 2.0 * double(iterations);
        const int tasks = std::clamp(int((quick ? 0.02e9 : 0.1e9) / approx_ns), 40, quick ? 2000 : 10000);
        sweep.push_back(pool_vs_threads(iterations, tasks, cpus));
    }
    for (const auto& p : sweep) {
        const double share = p.threads_ns > 0 ? std::max(0.0, 1.0 - p.pool_ns / p.threads_ns) : 0;
        pt.rows.push_back({format_value(p.work_ns, "ns"), std::to_string(p.tasks), format_value(p.pool_ns, "ns"),
                           format_value(p.threads_ns, "ns"), fmt::format("{:.2f}x", p.threads_ns / p.pool_ns),
                           fmt::format("{:.0f}%", 100 * share)});
    }
    pt.note = "Per task = wall time / tasks, all CPUs working. 'Thread creation's share' = how much of the thread-per-task "
              "time the pool saves. Where it falls to a few percent, creating a thread per task no longer matters.";

    Json raw;
    for (const auto& r : rows)
        raw["operations"].push_back(Json{{"what", r.what}, {"median_ns", r.s.median}, {"p99_ns", r.s.p99},
                                         {"parent_threads", r.conditions.threads}, {"parent_rss_bytes", r.conditions.rss_bytes}});
    for (const auto& p : points)
        raw["fork_vs_size"].push_back(Json{{"mib", p.mib}, {"thp", p.huge_pages}, {"fork_ns", p.fork_ns}, {"vfork_ns", p.vfork_ns},
                                           {"posix_spawn_ns", p.spawn_ns}});
    for (const auto& p : sweep)
        raw["pool_vs_threads"].push_back(Json{{"work_ns", p.work_ns}, {"pool_ns", p.pool_ns}, {"threads_ns", p.threads_ns}});
    result.raw = std::move(raw);

    const ClaimVerdict t8 = decide_from_trials(t8_trials);
    const double thread_median = median_of("thread_create_join") > 0 ? median_of("thread_create_join") : summarize(thread_medians).median;
    result.add_verdict(t8, fmt::format("thread create+join {}, pool hand-off {} ({:.0f}x){} [{} of {} trials]", format_value(thread_median, "ns"),
                                       format_value(pool_median, "ns"), thread_median / pool_median,
                                       median_of("fork") > 0 ? ", fork " + format_value(median_of("fork"), "ns") : "",
                                       t8.agreeing_trials(), t8.trial_verdicts.size()));
    return result;
}

DemoSpec spec() {
    DemoSpec s;
    s.name = "creation_cost";
    s.title = "what it costs to create a thread or a process, against handing a task to a pool";
    s.claims = {"T8"};
    s.default_timeout_s = 180;
    s.add_options = add_options;
    s.run = run;
    s.child_modes = {{"fork-reference", child_fork_reference}};
    return s;
}

}  // namespace proclab::creation_cost

PROCLAB_DEMO_MAIN(proclab::creation_cost::spec)
