// creation_cost: claim T8 of docs/claims.md.
//
//   T8  Creating a thread is costly, so we work with a thread pool.
//
// Method (operations.hpp, sweeps.hpp; the rule in verdicts.hpp; the tables in report.hpp): every operation below is
// timed one at a time on CLOCK_MONOTONIC after a warm-up, many times; median, p99 and max reported, the clock's
// overhead subtracted.
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
#include "creation_cost/report.hpp"
#include "creation_cost/sweeps.hpp"
#include "creation_cost/verdicts.hpp"

#include "proclab/units.hpp"
#include "proclab/affinity.hpp"
#include "proclab/demo.hpp"
#include "proclab/environment.hpp"
#include "proclab/interference.hpp"
#include "proclab/metric_ids.hpp"
#include "proclab/sizes.hpp"
#include "proclab/spawn.hpp"
#include "proclab/topology.hpp"
#include "proclab/trials.hpp"

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
// Operations of each process row counted by the kernel's software events, untimed, after its timing.
constexpr int kCountedOps = 20;

constexpr OpName kOps[] = {{Op::fork, "fork"},
                           {Op::vfork, "vfork"},
                           {Op::posix_spawn, "posix_spawn"},
                           {Op::fork_exec, "fork_exec"},
                           {Op::boost_process, "boost_process"},
                           {Op::thread, "thread"},
                           {Op::pthread, "pthread"},
                           {Op::pool, "pool"}};

// The operations' names, as --ops takes them: from kOps, so the help and the error list them as it does.
std::string op_names(std::string_view separator = ",") {
    std::string names;
    for (const auto& o : kOps) names += (names.empty() ? "" : std::string(separator)) + std::string(o.name);
    return names;
}

std::vector<DemoOption> options() {
    return {
        {.name = "--ops",
         .help = fmt::format(
             "Operations of table 1: all, or a comma-separated list (like fork,thread) of: {} (T8's trials time "
             "thread and pool whatever is chosen)",
             op_names(" ")),
         .full = "all",
         .type_name = "LIST"},
        {.name = "--parent-sizes",
         .help = "Memory the parent touches before fork is timed, whole MiB, 0 to 64G, like 0,64M,1G",
         .full = "0,64M,256M,1G",
         .quick = "0,64M",
         .type_name = "LIST"},
        {.name = "--pool-wait",
         .help = "How T8's hand-off is waited for: worker (the caller waits without running the task, a true hand-off) "
                 "or helping "
                 "(the caller may run its own task, so the figure is not a hand-off and T8's check "
                 "refuses it)",
         .full = "worker",
         .check = CLI::IsMember({"worker", "helping"})},
        {.name = "--parent-threads",
         .help = "fork is also timed from a parent running this many threads, 2 to 64, like 2,4,8",
         .full = "2,4",
         .type_name = "LIST"},
    };
}

struct Setup {
    std::vector<Op> ops;
    std::vector<std::size_t> parent_mib;
    std::vector<int> parent_threads;
    PoolWait pool_wait = PoolWait::worker;  // how T8's hand-off is waited for
    int size_samples = 25;                  // forks timed at each parent size (--quick: 10)
    double sweep_s_per_step = 0.1;          // the pool sweep's work per step, and its task cap (--quick: 0.02 s, 2000)
    int sweep_max_tasks = 10000;
};

Setup read_setup(const DemoContext& ctx) {
    Setup s;
    const OptionValues& o = ctx.values;
    const std::string& ops = o.text("--ops");
    if (ops == "all") {
        for (const auto& op : kOps) s.ops.push_back(op.op);
    } else {
        for (std::string_view item : split_list(ops)) {
            const auto it =
                std::find_if(std::begin(kOps), std::end(kOps), [&](const OpName& op) { return item == op.name; });
            if (it == std::end(kOps))
                throw UsageError(fmt::format("--ops {}: '{}' is not one of {}", ops, item, op_names()));
            s.ops.push_back(it->op);
        }
    }
    const std::string& sizes = o.text("--parent-sizes");
    const auto bytes = parse_byte_list(sizes, 0, std::size_t(64) << 30);
    if (!bytes ||
        std::any_of(bytes->begin(), bytes->end(), [](std::size_t b) { return b % (std::size_t(1) << 20) != 0; }))
        throw UsageError(fmt::format("--parent-sizes {}: give whole MiB from 0 to 64G, like 0,64M,1G", sizes));
    for (std::size_t b : *bytes) s.parent_mib.push_back(b >> 20);
    s.parent_threads = parse_cpu_list(o.text("--parent-threads"));  // a list of integers, like a CPU list
    if (s.parent_threads.empty() || s.parent_threads.front() < 2 || s.parent_threads.back() > 64)
        throw UsageError(fmt::format("--parent-threads {}: give thread counts from 2 to 64, like 2,4,8",
                                     o.text("--parent-threads")));
    s.pool_wait = o.text("--pool-wait") == "helping" ? PoolWait::helping : PoolWait::worker;
    if (ctx.options.quick) {
        s.size_samples = 10;
        s.sweep_s_per_step = 0.02;
        s.sweep_max_tasks = 2000;
    }
    return s;
}

// ---------------------------------------------------------------------------------------------

// Tables 1 and 2: processes, from this single-threaded, small parent: first of all, before any
// thread or pool has grown the heap (a pool's freed queue stays in the heap, and fork copies the
// page tables of all of it). Pinned to one CPU, parent and child alike (the child inherits the
// mask): unpinned, whether the child starts on the parent's CPU or another one makes fork's
// figure bimodal (a cross-CPU wake-up, dear in a VM), which is placement, not fork.
ProcessCosts measure_processes(const DemoContext& ctx, const Setup& setup, int threads_n) {
    const double overhead = ctx.clock.read_overhead_ns;
    ProcessCosts p;
    p.home_cpu = ctx.env.affinity_cpus.empty() ? 0 : ctx.env.affinity_cpus.front();
    p.procs_n = std::max(100, threads_n / 8);  // forks are cheap enough to take 100 even in a quick run
    p.exec_n = std::max(10, threads_n / 10);
    std::string program = "/bin/true";
    if (::access(program.c_str(), X_OK) != 0) program = find_program("true").string();
    if (program.empty()) throw std::runtime_error("no 'true' program to spawn (looked in /bin and on PATH)");
    const auto want = [&](Op op) { return std::find(setup.ops.begin(), setup.ops.end(), op) != setup.ops.end(); };
    auto timed = [&](std::string id, std::string what, int warmup, int count, const std::function<void()>& op) {
        const auto conditions = parent_conditions();
        const Summary s = time_each(warmup, count, overhead, op);
        p.ops.push_back({std::move(id), std::move(what), s, conditions, count_each(std::min(count, kCountedOps), op)});
    };

    const ScopedPin pinned(p.home_cpu);
    if (want(Op::fork)) timed(std::string(metric_id::kFork), "fork + _exit + waitpid", 5, p.procs_n, fork_exit_wait);
    // fork against the parent's size, in the same conditions, before any vfork (sweeps.hpp).
    const auto avail = available_mib();
    p.size_n = setup.size_samples;
    p.thp_offered = thp_offered();
    for (auto mib : setup.parent_mib) {
        if (!want(Op::fork)) break;
        if (avail && mib * 3 > *avail) {
            p.sizes_skipped.push_back(fmt::format("{} MiB (only {} MiB available)", mib, *avail));
            continue;
        }
        p.sizes.push_back(SizePoint{mib, false});
        if (p.thp_offered && mib > 0) p.sizes.push_back(SizePoint{mib, true});
    }
    if (!want(Op::fork)) p.sizes_skipped.push_back("every size: fork is not among --ops");
    for (auto& s : p.sizes) time_at_size(s, SizePass::fork, p.size_n, overhead, program);
    if (want(Op::vfork))
        timed(std::string(metric_id::kVfork), "vfork + _exit + waitpid", 5, p.procs_n, vfork_exit_wait);
    if (want(Op::posix_spawn))
        timed("posix_spawn", fmt::format("posix_spawn {} + waitpid", program), 3, p.exec_n,
              [&] { posix_spawn_wait(program); });
    if (want(Op::fork_exec))
        timed("fork_exec", fmt::format("fork + exec {} + waitpid", program), 3, p.exec_n,
              [&] { fork_exec_wait(program); });
    if (want(Op::boost_process))
        timed("boost_process", fmt::format("Boost.Process v2 spawn {} + wait", program), 3, p.exec_n, [&] {
            const auto st = spawn_and_wait(program, {});
            if (!st.exited() || st.exit_code() != 0) throw std::runtime_error("Boost.Process child: " + st.describe());
        });
    for (auto& s : p.sizes) time_at_size(s, SizePass::vfork_and_spawn, p.size_n, overhead, program);
    // The same fork again, now that vfork has run in this process: on this kernel it was measured
    // faster (a state vfork leaves; table 1 keeps the first figure, the one a fresh process sees).
    if (want(Op::fork) && want(Op::vfork))
        timed("fork_after_vfork", "fork + _exit + waitpid, again after the vfork rows", 5, p.procs_n, fork_exit_wait);
    if (want(Op::fork)) p.reference = fork_reference(ctx.self_exe, p.procs_n);
    else p.reference.why_not = "fork is not among --ops";
    // fork from a parent running more threads (the extra ones blocked in a wait).
    if (want(Op::fork))
        for (int n : setup.parent_threads) {
            const BlockedThreads extra(n - 1);
            timed(fmt::format("fork_parent_{}_threads", n),
                  fmt::format("fork + _exit + waitpid, parent running {}", counted(n, "thread")), 5, p.procs_n,
                  fork_exit_wait);
        }
    if (want(Op::pthread))
        timed("pthread_small_stack", "pthread_create, 64 KiB stack, + join", threads_n / 10, threads_n,
              pthread_small_stack);
    return p;
}

// T8: R trials of a thread created and joined (on the caller's CPU: the new thread inherits its
// pinning, so no cross-CPU wake-up decides the figure) against a task handed to a pool's worker on
// another CPU, each with the interference around it. The pool exists only while its hand-off is timed.
HandoffTrials measure_t8(const DemoContext& ctx, const Setup& setup, int threads_n, std::optional<double> fork_ns) {
    const double overhead = ctx.clock.read_overhead_ns;
    const auto& cpus = ctx.env.affinity_cpus;
    HandoffTrials h;
    h.caller_cpu = cpus.empty() ? 0 : cpus.front();
    h.worker_cpu = cpus.size() >= 2 ? cpus[1] : h.caller_cpu;
    h.judged = setup.pool_wait;
    // Each trial must last long enough for /proc/stat's ticks to count the load around it within
    // T8's margin (Interference::clear_of: +-2 ticks of the window), or no verdict could stand: a
    // pilot of both operations sizes the trial to at least kMinTrialWindowNs.
    // The pilot's wall time, not its median, sizes it: under load the waits are in the wall time.
    // Thread creation is most of a trial's time (a hand-off costs a few percent of it), so the
    // pilot times that alone (a pool's set-up, and the cache-line floor measured with it, are
    // fixed costs that would inflate a per-task figure).
    constexpr double kMinTrialWindowNs = 300e6;
    constexpr int kPilot = 100;
    double per_item_ns = 0;
    {
        const ScopedPin caller(h.caller_cpu);
        time_each(kPilot / 10, kPilot / 10, overhead,
                  thread_create_join);  // the first threads pay for the stacks' mappings
        const Stopwatch pilot;
        time_each(0, kPilot, overhead, thread_create_join);
        per_item_ns = double(pilot.elapsed_ns()) / kPilot;
    }
    const int for_window = per_item_ns > 0 ? static_cast<int>(std::min(20000.0, kMinTrialWindowNs / per_item_ns)) : 0;
    h.per_trial = std::max({100, threads_n / ctx.trials(), for_window});
    const int n = h.per_trial;
    h.trials = run_trials(
        ctx.trials(), cpus,
        [&](int) {
            T8Trial t;
            {
                const ScopedPin caller(h.caller_cpu);
                t.costs.thread = time_each(n / 10, n, overhead, thread_create_join);
            }
            t.costs.pool = pool_handoff(h.caller_cpu, h.worker_cpu, n / 10, n, overhead, h.judged);
            t.helping = h.judged == PoolWait::helping
                            ? t.costs.pool
                            : pool_handoff(h.caller_cpu, h.worker_cpu, n / 10, n, overhead, PoolWait::helping);
            t.costs.fork_ns = fork_ns;
            t.costs.quota_cpus = ctx.env.cpu_quota_cpus;
            t.costs.cpus = static_cast<int>(std::max<std::size_t>(1, cpus.size()));
            return t;
        },
        [](T8Trial& t, const Interference& interference) {
            t.costs.interference = interference;
            return std::vector<Decision>{decide_t8(t.costs)};
        });
    return h;
}

// Table 3: tasks of ~100 ns to ~1 ms of work, through the pool and one thread each.
std::vector<TaskSizePoint> measure_pool_sweep(const DemoContext& ctx, const Setup& setup) {
    std::vector<TaskSizePoint> sweep;
    std::uint64_t iterations = 50;  // about 100 ns; grown 10x per step
    for (int step = 0; step < 5; ++step, iterations *= 10) {
        const double approx_ns = 2.0 * double(iterations);
        const int tasks = std::clamp(int(setup.sweep_s_per_step * 1e9 / approx_ns), 40, setup.sweep_max_tasks);
        sweep.push_back(pool_vs_threads(iterations, tasks, static_cast<unsigned>(ctx.env.affinity_cpus.size())));
    }
    return sweep;
}

// The plan: processes first (nothing of ours beside them), then T8's trials, then the pool sweep;
// the report renders all three (report.hpp).
Result run(const DemoContext& ctx) {
    const Setup setup = read_setup(ctx);
    const int threads_n = ctx.repeat();
    const ProcessCosts processes = measure_processes(ctx, setup, threads_n);
    const HandoffTrials t8 = measure_t8(ctx, setup, threads_n, processes.median_of(metric_id::kFork));
    const std::vector<TaskSizePoint> sweep = measure_pool_sweep(ctx, setup);
    Result result;
    result.config.repeat = threads_n;
    present(result, processes, t8, sweep);
    for (const auto& d : t8.trials.combined) result.add_decision(d);
    return result;
}

DemoSpec spec() {
    return DemoSpec{
        .name = "creation_cost",
        .title = "what it costs to create a thread or a process, against handing a task to a pool",
        .claims = {"T8"},
        .rules = {kT8Rule},
        .default_timeout_s = 180,
        .repeat =
            RepeatSpec{
                .counts =
                    "Threads created for each creation row, and tasks handed to the pool (split across T8's trials)",
                .full = 2000,
                .quick = 300},
        .trials = true,
        .options = options(),
        .run = run,
        .child_modes = {{"fork-reference", child_fork_reference}},
    };
}

}  // namespace proclab::creation_cost

PROCLAB_DEMO_MAIN(proclab::creation_cost::spec)
