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
#include "proclab/metric_ids.hpp"
#include "proclab/render.hpp"
#include "proclab/sizes.hpp"
#include "proclab/spawn.hpp"
#include "proclab/thread_pool.hpp"
#include "proclab/topology.hpp"
#include "proclab/trials.hpp"
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
    std::string pool_wait = "worker";
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
    app.add_option("--pool-wait", g_options.pool_wait,
                   "How T8's hand-off is waited for: worker (the caller waits without running the task, a true hand-off) or helping "
                   "(TaskHandle::get: the caller may run its own task, so the figure is not a hand-off and T8's check refuses it)")
        ->check(CLI::IsMember({"worker", "helping"}))
        ->capture_default_str();
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
    const int home = ctx.env.affinity_cpus.empty() ? 0 : ctx.env.affinity_cpus.front();
    const int other = cpus >= 2 ? ctx.env.affinity_cpus[1] : home;
    std::string program = "/bin/true";
    if (::access(program.c_str(), X_OK) != 0) program = find_program("true").string();
    if (program.empty()) throw std::runtime_error("no 'true' program to spawn (looked in /bin and on PATH)");

    const int threads_n = ctx.repeat(2000, 300);
    const int procs_n = std::max(100, threads_n / 8);  // forks are cheap enough to take 100 even in a quick run
    const int exec_n = std::max(10, threads_n / 10);
    result.config.repeat = threads_n;
    const auto want = [&](Op op) { return std::find(setup.ops.begin(), setup.ops.end(), op) != setup.ops.end(); };

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
    const auto median_of = [&](const std::string& id) -> std::optional<double> {
        const auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.id == id; });
        return it == rows.end() ? std::nullopt : std::optional(it->s.median);
    };

    // 1 and 2. Processes, from this single-threaded, small parent: first of all, before any thread
    // or pool has grown the heap (a pool's freed queue stays in the heap, and fork copies the page
    // tables of all of it). Pinned to one CPU, parent and child alike (the child inherits the
    // mask): unpinned, whether the child starts on the parent's CPU or another one makes fork's
    // figure bimodal (a cross-CPU wake-up, dear in a VM), which is placement, not fork.
    std::optional<ScopedPin> pinned(std::in_place, home);
    if (want(Op::fork)) timed(std::string(metric_id::kFork), "fork + _exit + waitpid", 5, procs_n, fork_exit_wait);
    // fork against the parent's size, in the same conditions, before any vfork (sweeps.hpp).
    const auto avail = available_mib();
    std::vector<std::string> skipped;
    std::vector<SizePoint> points;
    const int size_n = quick ? 10 : 25;
    const bool thp = thp_offered();
    for (auto mib : setup.parent_mib) {
        if (!want(Op::fork)) break;
        if (avail && mib * 3 > *avail) {
            skipped.push_back(fmt::format("{} MiB (only {} MiB available)", mib, *avail));
            continue;
        }
        points.push_back(SizePoint{mib, false});
        if (thp && mib > 0) points.push_back(SizePoint{mib, true});
    }
    if (!want(Op::fork)) skipped.push_back("every size: fork is not among --ops");
    for (auto& p : points) time_at_size(p, SizePass::fork, size_n, overhead, program);
    if (want(Op::vfork)) timed(std::string(metric_id::kVfork), "vfork + _exit + waitpid", 5, procs_n, vfork_exit_wait);
    if (want(Op::posix_spawn))
        timed("posix_spawn", fmt::format("posix_spawn {} + waitpid", program), 3, exec_n, [&] { posix_spawn_wait(program); });
    if (want(Op::fork_exec)) timed("fork_exec", fmt::format("fork + exec {} + waitpid", program), 3, exec_n, [&] { fork_exec_wait(program); });
    if (want(Op::boost_process))
        timed("boost_process", fmt::format("Boost.Process v2 spawn {} + wait", program), 3, exec_n, [&] {
            const auto st = spawn_and_wait(program, {});
            if (!st.exited() || st.exit_code() != 0) throw std::runtime_error("Boost.Process child: " + st.describe());
        });
    for (auto& p : points) time_at_size(p, SizePass::vfork_and_spawn, size_n, overhead, program);
    // The same fork again, now that vfork has run in this process: on this kernel it was measured
    // faster (a state vfork leaves; table 1 keeps the first figure, the one a fresh process sees).
    if (want(Op::fork) && want(Op::vfork))
        timed("fork_after_vfork", "fork + _exit + waitpid, again after the vfork rows", 5, procs_n, fork_exit_wait);
    Reference reference;
    if (want(Op::fork)) {
        reference = fork_reference(ctx.self_exe, procs_n);
    } else {
        reference.why_not = "fork is not among --ops";
    }
    // fork from a parent running more threads (the extra ones blocked in a wait).
    if (want(Op::fork))
        for (int n : setup.parent_threads) {
            if (n < 2) continue;
            const BlockedThreads extra(n - 1);
            timed(fmt::format("fork_parent_{}_threads", n), fmt::format("fork + _exit + waitpid, parent running {} threads", n), 5, procs_n,
                  fork_exit_wait);
        }
    if (want(Op::pthread)) timed("pthread_small_stack", "pthread_create, 64 KiB stack, + join", threads_n / 10, threads_n, pthread_small_stack);
    pinned.reset();

    // 3. T8: R trials of a thread created and joined (on the caller's CPU: the new thread inherits
    // its pinning, so no cross-CPU wake-up decides the figure) against a task handed to a pool's
    // worker on another CPU. The pool exists only while its hand-off is timed.
    const PoolWait judged = g_options.pool_wait == "helping" ? PoolWait::helping : PoolWait::worker;
    const int per_trial = std::max(100, threads_n / ctx.trials());
    struct Trial {
        Costs costs;
        PoolHandoff helping;  // the same pool, the caller allowed to run its own task: labelled, not judged
    };
    const auto trials = run_trials(
        ctx.trials(), ctx.env.affinity_cpus,
        [&](int) {
            Trial t;
            {
                const ScopedPin caller(home);
                t.costs.thread = time_each(per_trial / 10, per_trial, overhead, thread_create_join);
            }
            t.costs.pool = pool_handoff(home, other, per_trial / 10, per_trial, overhead, judged);
            t.helping = judged == PoolWait::helping ? t.costs.pool : pool_handoff(home, other, per_trial / 10, per_trial, overhead, PoolWait::helping);
            t.costs.fork_ns = median_of(std::string(metric_id::kFork));
            return t;
        },
        [](Trial& t, const Interference& interference) {
            t.costs.interference = interference;
            return std::vector<Decision>{decide_t8(t.costs)};
        });
    const Trial& shown = trials.shown_evidence();
    result.config.trials = trials.count();
    const double pool_median = shown.costs.pool.round_trip.median;

    // Table 1: every operation, the T8 figures those of the trial shown.
    auto& t = result.add_table("1. Creating a thread or a process, and handing a task to a pool",
                               {"operation", {"median", "ns"}, {"p99", "ns"}, {"max", "ns"}, {"n", "count"}, {"vs the pool hand-off", "x"},
                                "timed in"});
    auto add_row = [&](const std::string& id, const std::string& what, const Summary& s, const std::string& conditions, bool headline) {
        t.rows.push_back({what, s.median, s.p99, s.max, double(s.count), s.median / pool_median, conditions});
        result.add_metric(id, s, "ns", what).headline = headline;
    };
    for (const auto& r : rows) add_row(r.id, r.what, r.s, describe(r.conditions), r.id == metric_id::kFork || r.id == "posix_spawn");
    if (reference.ran) {
        t.rows.push_back({"fork + _exit + waitpid in a fresh process (reference)", reference.fork.median, reference.fork.p99, Cell{},
                          double(reference.fork.count), reference.fork.median / pool_median, describe(reference.conditions)});
        result.add_metric("fork_reference", reference.fork.median, "ns", "fork+exit+wait in a fresh single-threaded copy of this program");
        if (const auto fork = median_of(std::string(metric_id::kFork)))
            result.add_metric("fork_vs_reference", *fork / reference.fork.median, "ratio", "this demo's fork against the fresh process's")
                .headline = true;
    } else {
        result.notes.push_back("The fresh-process fork reference did not run: " + reference.why_not + ".");
    }
    const std::string trial_label = fmt::format("trial {} of {} (shown)", trials.shown + 1, trials.count());
    add_row(std::string(metric_id::kThreadCreateJoin), "std::thread create + join", shown.costs.thread,
            fmt::format("{}; caller on CPU {}, the thread inherits it", trial_label, home), true);
    add_row(std::string(metric_id::kPoolHandoff), "pool: hand an empty task to its worker, wait without running it (T8's hand-off)",
            shown.costs.pool.round_trip,
            fmt::format("{}; caller on CPU {}, the worker on CPU {}; {} of {} run by the worker", trial_label, home, other,
                        shown.costs.pool.on_worker, shown.costs.pool.samples),
            true);
    if (judged == PoolWait::worker)
        add_row("pool_submit_get_helping", "pool: submit and get(), the caller may run its own task (not a hand-off)", shown.helping.round_trip,
                fmt::format("{}; {} of {} run by the worker", trial_label, shown.helping.on_worker, shown.helping.samples), false);
    t.note = fmt::format(
        "Each operation timed alone, after a warm-up; {} forks, {} execs, {} threads and hand-offs per trial. Processes are created "
        "first, from this parent running one thread with nothing else grown yet, pinned with its children to CPU {} (placement would "
        "otherwise decide whether the child's exit wakes the parent across CPUs); 'parent running N threads' adds N-1 threads blocked in "
        "a wait, which a fork must still account for. The reference is the same fork in a fresh exec'd copy of this program. The pool "
        "hand-off: a pool of one worker pinned to CPU {}, the caller on CPU {} waiting for the worker (TaskHandle::get_from_worker); "
        "each task notes whether a worker ran it. Its floor is two one-way trips of a cache line between the two CPUs, measured just "
        "before (T8's facts). 'May run its own task' is TaskHandle::get(), which helps: most tasks never leave the caller.",
        procs_n, exec_n, per_trial, home, other, home);

    // Trials of T8.
    auto tt = trials_table(trials, fmt::format("Trials: {} independent runs of thread create+join against a pool hand-off", trials.count()),
                           {{"thread create+join", "ns"}, {"pool hand-off", "ns"}, {"run by the worker", "fraction"},
                            {"cache-line round trip (floor)", "ns"}, {"ratio", "x"}},
                           [](const Trial& x) {
                               const auto& p = x.costs.pool;
                               return std::vector<Cell>{x.costs.thread.median, p.round_trip.median, double(p.on_worker) / double(p.samples),
                                                        p.line_one_way_ns ? Cell{2 * *p.line_one_way_ns} : Cell{},
                                                        x.costs.thread.median / p.round_trip.median};
                           });
    tt.note = fmt::format("{} of each per trial (medians). T8 is refuted only if a thread cost no more than a hand-off in every "
                          "trial with the CPUs free (margin {:.0f}%).",
                          per_trial, 100 * kInterferenceMargin);
    result.tables.push_back(std::move(tt));

    // Table 2: fork against size.
    auto& f = result.add_table("2. fork against the parent's size (every page touched first)",
                               {{"parent memory", "bytes"}, "huge pages", {"pages", "count"}, {"fork+exit+wait", "ns"},
                                {"per 4 KiB page", "ns"}, {"vfork", "ns"}, {"posix_spawn", "ns"}, {"parent RSS while timed", "bytes"}});
    const double base = points.empty() ? 0 : points.front().fork_ns;
    for (const auto& p : points) {
        const double pages = double(p.mib) * 256;
        f.rows.push_back({double(p.mib) * 1024 * 1024, p.huge_pages ? "THP" : "4 KiB", pages, p.fork_ns,
                          p.mib ? Cell{(p.fork_ns - base) / pages} : Cell{}, p.vfork_ns, p.spawn_ns, p.parent_rss_bytes});
        if (p.mib)
            result.add_metric(fmt::format("fork_{}mib{}", p.mib, p.huge_pages ? "_thp" : ""), p.fork_ns, "ns",
                              "fork+exit+wait with this much touched memory");
    }
    f.note = fmt::format(
        "Median of {} each, in the same parent as table 1 (one thread, pinned to CPU {}); fork at every size timed right after table "
        "1's fork and before any vfork (after vfork this kernel's fork was faster: table 1's 'again after the vfork rows'), vfork and "
        "posix_spawn in a second pass. fork copies the page tables (one entry per 4 KiB page, or per 2 MiB with THP) and marks the pages "
        "copy-on-write; vfork and posix_spawn copy nothing and stay flat. Transparent huge pages: {}.{}",
        size_n, home, thp ? "offered (rows marked THP use MADV_HUGEPAGE)" : "not offered here",
        skipped.empty() ? "" : fmt::format(" Skipped: {}.", fmt::join(skipped, ", ")));

    // 3. Pool against thread per task.
    auto& pt = result.add_table("3. A pool against one thread per task",
                                {{"work per task", "ns"}, {"tasks", "count"}, {"per task: pool", "ns"}, {"per task: a thread each", "ns"},
                                 {"threads / pool", "x"}, {"thread creation's share", "fraction"}});
    std::vector<TaskSizePoint> sweep;
    std::uint64_t iterations = 50;  // about 100 ns; grown 10x per step
    for (int step = 0; step < 5; ++step, iterations *= 10) {
        const double approx_ns = 2.0 * double(iterations);
        const int tasks = std::clamp(int((quick ? 0.02e9 : 0.1e9) / approx_ns), 40, quick ? 2000 : 10000);
        sweep.push_back(pool_vs_threads(iterations, tasks, cpus));
    }
    for (const auto& p : sweep) {
        const double share = p.threads_ns > 0 ? std::max(0.0, 1.0 - p.pool_ns / p.threads_ns) : 0;
        pt.rows.push_back({p.work_ns, double(p.tasks), p.pool_ns, p.threads_ns, p.threads_ns / p.pool_ns, share});
    }
    pt.note = "Per task = wall time / tasks, all CPUs working. 'Thread creation's share' = how much of the thread-per-task "
              "time the pool saves. Where it falls to a few percent, creating a thread per task no longer matters.";

    Json raw;
    for (std::size_t i = 0; i < t.rows.size(); ++i)
        raw["operations"].push_back(Json{{"what", t.rows[i][0].text}, {"median_ns", t.rows[i][1].number}, {"p99_ns", t.rows[i][2].number}});
    for (const auto& p : points)
        raw["fork_vs_size"].push_back(Json{{"mib", p.mib}, {"thp", p.huge_pages}, {"fork_ns", p.fork_ns}, {"vfork_ns", p.vfork_ns},
                                           {"posix_spawn_ns", p.spawn_ns}, {"parent_rss_bytes", p.parent_rss_bytes}});
    for (const auto& p : sweep)
        raw["pool_vs_threads"].push_back(Json{{"work_ns", p.work_ns}, {"pool_ns", p.pool_ns}, {"threads_ns", p.threads_ns}});
    result.raw = std::move(raw);
    for (const auto& d : trials.combined) result.add_decision(d);
    return result;
}

DemoSpec spec() {
    DemoSpec s;
    s.name = "creation_cost";
    s.title = "what it costs to create a thread or a process, against handing a task to a pool";
    s.claims = {"T8"};
    s.rules = {kT8Rule};
    s.default_timeout_s = 180;
    s.add_options = add_options;
    s.run = run;
    s.child_modes = {{"fork-reference", child_fork_reference}};
    return s;
}

}  // namespace proclab::creation_cost

PROCLAB_DEMO_MAIN(proclab::creation_cost::spec)
