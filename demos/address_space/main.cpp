// address_space: what one shared address space costs, the price side of claims T4 and T7 of
// docs/claims.md (threads reach every object of the process: they share one address
// space) and of T6 (a fork copies the address space, a thread cannot leave it). An instrument:
// it decides no claim. thread_memory shows that threads share the heap and processes do not; this
// demo shows what that sharing costs when threads change the address space at once, and that
// processes doing the same work do not pay it. Nothing it measures could refute T4 or T7: a
// slower fault in threads is the price of sharing, not its absence.
//
// Experiments (experiments.hpp), the way will-it-scale and LEBench run them:
//   faults  N tasks (threads, then processes) each map, touch and unmap memory of their own
//           (page_fault1), pinned one per CPU: faults per second per task against N.
//   unmap   munmap and madvise(MADV_DONTNEED) of a touched region while 0..S siblings spin on
//           other CPUs (tlb_flush): threads share the translations that must be shot down,
//           processes do not; the TLB shootdowns counted from /proc/interrupts.
//   floors  a system call, mmap + munmap of 4 KiB and 1 MiB, a first-touch fault.
//
// Caveats: in a virtual machine a shootdown's interrupt goes through the hypervisor (or, with
// KVM's paravirtual flush, is deferred for a preempted virtual CPU), so its cost and count are
// the VM's; transparent huge pages are turned off for the fault regions (MADV_NOHUGEPAGE) so that
// a fault is one 4 KiB page; the TLB line is x86's (Arm broadcasts invalidations in hardware and
// counts none).

#include "address_space/experiments.hpp"
#include "address_space/report.hpp"

#include "proclab/demo.hpp"
#include "proclab/environment.hpp"
#include "proclab/interference.hpp"
#include "proclab/sizes.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace proclab::address_space {

namespace {

constexpr const char* kFullDuration = "0.1";
constexpr const char* kQuickDuration = "0.02";
constexpr int kMaxTasks = 256;

std::vector<DemoOption> options() {
    return {
        {.name = "--experiments",
         .help = "Which to run, of faults, unmap, floors",
         .full = "faults,unmap,floors",
         .type_name = "LIST",
         .default_words = "all three"},
        {.name = "--tasks",
         .help = fmt::format("Task counts for the fault experiment, each 1 to {}", kMaxTasks),
         .type_name = "LIST",
         .default_words = "1 to the CPU count, doubling past 4"},
        {.name = "--mode",
         .help = "Fault tasks and unmap siblings as threads, processes, or both",
         .full = "both",
         .check = CLI::IsMember({"threads", "processes", "both"})},
        {.name = "--duration",
         .help = "Seconds each fault point runs, 0.02 to 60",
         .full = kFullDuration,
         .quick = kQuickDuration,
         .type_name = "S",
         .check = CLI::Range(0.02, 60.0)},
    };
}

// 1, 2, 3, 4, then doubling, up to and including `top`.
std::vector<int> ladder(int top) {
    std::vector<int> out;
    for (int n = 1; n <= top; n = n < 4 ? n + 1 : n * 2) out.push_back(n);
    if (out.empty() || out.back() != top) out.push_back(top);
    return out;
}

struct Plan {
    bool faults = false, unmap = false, floors = false;
    std::vector<int> tasks;
    std::vector<Kind> kinds;
    std::vector<int> cpus;
    Nanos duration_ns = 0;
    int ops = 0;
};

Plan read_plan(const DemoContext& ctx) {
    Plan p;
    const OptionValues& o = ctx.values;
    const auto experiments = parse_choice_list("--experiments", o.text("--experiments"), {"faults", "unmap", "floors"});
    auto chosen = [&](std::string_view e) {
        return std::find(experiments.begin(), experiments.end(), e) != experiments.end();
    };
    p.faults = chosen("faults");
    p.unmap = chosen("unmap");
    p.floors = chosen("floors");
    p.cpus = ctx.env.affinity_cpus.empty() ? std::vector<int>{0} : ctx.env.affinity_cpus;
    const std::string& tasks = o.text("--tasks");
    if (tasks.empty()) {
        p.tasks = ladder(static_cast<int>(p.cpus.size()));
    } else {
        for (auto item : split_list(tasks)) {
            const auto n = whole_number(item);
            if (!n || *n < 1 || *n > kMaxTasks)
                throw UsageError(fmt::format("--tasks {}: '{}' is not a count from 1 to {}", tasks, item, kMaxTasks));
            p.tasks.push_back(static_cast<int>(*n));
        }
        std::sort(p.tasks.begin(), p.tasks.end());
        p.tasks.erase(std::unique(p.tasks.begin(), p.tasks.end()), p.tasks.end());
    }
    if (o.text("--mode") != "processes") p.kinds.push_back(Kind::threads);
    if (o.text("--mode") != "threads") p.kinds.push_back(Kind::processes);
    p.duration_ns = Nanos(o.number("--duration") * 1e9);
    p.ops = ctx.repeat();
    return p;
}

Result run(const DemoContext& ctx) {
    const Plan plan = read_plan(ctx);
    Measured m;
    m.cpus = static_cast<int>(plan.cpus.size());
    m.fault_duration_ns = plan.duration_ns;
    m.unmap_ops = plan.ops;
    // The floors first, with nothing else of ours running.
    // (at most 20,000 samples each: the first-touch pass maps a page per sample)
    if (plan.floors) m.floors = measure_floors(std::min(2 * plan.ops, 20'000), ctx.clock.read_overhead_ns);
    if (plan.faults)
        for (Kind kind : plan.kinds)
            for (int n : plan.tasks) m.faults.push_back(measure_faults(kind, n, plan.cpus, plan.duration_ns));
    if (plan.unmap) {
        const int home = idlest_cpu(plan.cpus);
        std::vector<int> others;
        for (int c : plan.cpus)
            if (c != home) others.push_back(c);
        for (UnmapOp op : {UnmapOp::munmap, UnmapOp::madvise}) {
            m.unmaps.push_back(measure_unmap(op, Kind::threads, home, {}, plan.ops, ctx.clock.read_overhead_ns));
            for (int s : others.empty() ? std::vector<int>{} : ladder(static_cast<int>(others.size())))
                for (Kind kind : plan.kinds)
                    m.unmaps.push_back(measure_unmap(op, kind, home,
                                                     std::vector<int>(others.begin(), others.begin() + s), plan.ops,
                                                     ctx.clock.read_overhead_ns));
        }
    }
    Result result;
    result.config.repeat = plan.ops;
    present(result, ctx, m);
    return result;
}

}  // namespace

DemoSpec spec() {
    return DemoSpec{
        .name = "address_space",
        .title =
            "what one shared address space costs (the price side of T4, T6, T7): page faults and unmaps in threads vs "
            "processes, "
            "and the kernel's small operations",
        .default_timeout_s = 120,
        .repeat = RepeatSpec{.counts = "Unmaps timed per point (the floors: twice as many samples, at most 20000)",
                             .full = 1000,
                             .quick = 200},
        .options = options(),
        .run = run,
    };
}

}  // namespace proclab::address_space

PROCLAB_DEMO_MAIN(proclab::address_space::spec)
