// sched_latency: what waiting for a CPU costs a task that wakes, claim P2 of
// docs/claims.md (processes compete for the cores; the OS gives each time slices and
// decides by itself which runs next). time_slicing shows the slices of tasks that never sleep;
// this demo shows what a user of a busy machine feels: how long a woken task waits before it
// runs, and how that grows with load, policy and priority.
//
// Experiments (probes.hpp, messaging.hpp), each beside 0..K CPU-bound processes (load.hpp):
//   lateness   cyclictest's method: a thread sleeps to absolute deadlines and records how late it
//              woke, under SCHED_OTHER at nice 0, at nice -10 and under SCHED_FIFO, each where it
//              may be set (a row says why not).
//   wakeup     schbench's shape: a waker stamps the clock and wakes a sleeper through a futex or a
//              pipe; threads of one process, or two processes.
//   messaging  hackbench's shape: groups of 20 senders and 20 receivers over pipes or socketpairs,
//              as processes or threads: the time per message.
// Beside each sleeper its own run_delay (schedstat: runnable but not running) per wake-up, and
// the tick as observed from the timer interrupts of the busy CPUs.
//
// The verdict (verdicts.hpp) decides P2 only: bounded waiting is what time slicing promises a
// woken task, starvation would refute it. It does not vote on P4 (how many run at once is
// time_slicing's evidence) or T1 (threads and processes waking alike does not test whether a
// thread is scheduled on its own).
//
// Caveats: in a virtual machine the host's scheduler adds its own waits (steal), measured as
// interference; a SCHED_OTHER sleeper's timer slack (50 µs by default) is part of its lateness
// and SCHED_FIFO has none; cyclictest -m also locks memory and sets /dev/cpu_dma_latency to 0,
// which this demo does not (an idle CPU's exit latency is part of what it measures).

#include "sched_latency/load.hpp"
#include "sched_latency/messaging.hpp"
#include "sched_latency/probes.hpp"
#include "sched_latency/report.hpp"
#include "sched_latency/verdicts.hpp"

#include "proclab/demo.hpp"
#include "proclab/interference.hpp"
#include "proclab/sched.hpp"
#include "proclab/sizes.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace proclab::sched_latency {

namespace {

constexpr const char* kFullLoads = "0,1x,2x";
constexpr const char* kQuickLoads = "0,2x";
constexpr const char* kFullPolicies = "other,nice-10,fifo";
constexpr const char* kQuickPolicies = "other,fifo";
// A cell lasts long enough for /proc/stat's ticks to count the load around it within P2's margin
// (+-2 ticks over the window: about +-8% at 0.2 s), and for a p99 that is not the largest sample.
constexpr const char* kFullDuration = "0.3";
constexpr const char* kQuickDuration = "0.2";
constexpr const char* kLoops =
    "50";  // hackbench's default is 100; 50 keeps 4 configurations x 4 runs within half a second
constexpr int kMaxLoad = 256;

std::vector<DemoOption> options() {
    return {
        {.name = "--experiments",
         .help = "Which to run, of lateness, wakeup, messaging",
         .full = "lateness,wakeup,messaging",
         .type_name = "LIST",
         .default_words = "all three"},
        {.name = "--loads",
         .help = fmt::format(
             "CPU-bound processes beside the sleeper, each a count (0 to {}) or a multiple of the CPUs (1x, 2x)",
             kMaxLoad),
         .full = kFullLoads,
         .quick = kQuickLoads,
         .type_name = "LIST",
         .quick_words = fmt::format("{}, the wake-ups at the largest only", kQuickLoads)},
        {.name = "--policies",
         .help = "The timer sleeper's policies, of other, nice-10, fifo",
         .full = kFullPolicies,
         .quick = kQuickPolicies,
         .type_name = "LIST"},
        {.name = "--channels",
         .help = "How the waker wakes the sleeper, of futex, pipe",
         .full = "futex,pipe",
         .quick = "futex",
         .type_name = "LIST"},
        {.name = "--mode",
         .help = "Wake-up and messaging tasks as threads, processes, or both",
         .full = "both",
         .check = CLI::IsMember({"threads", "processes", "both"})},
        {.name = "--interval",
         .help = "Microseconds between deadlines and between wakes, 100 to 1000000",
         .full = "1000",
         .type_name = "US",
         .check = CLI::Range(100, 1'000'000)},
        {.name = "--duration",
         .help = "Seconds of each latency cell, 0.02 to 60",
         .full = kFullDuration,
         .quick = kQuickDuration,
         .type_name = "S",
         .check = CLI::Range(0.02, 60.0)},
        {.name = "--pin",
         .help = "Pin the sleeper, the waker, the load and the messaging tasks to this CPU, 0 to 1023",
         .type_name = "CPU",
         .check = CLI::Range(0, 1023),
         .default_words = "no pinning"},
        {.name = "--groups",
         .help = "Messaging groups of 20 senders and 20 receivers, 1 to 20",
         .full = "1",
         .type_name = "N",
         .check = CLI::Range(1, 20)},
        {.name = "--loops",
         .help = "Messages each sender writes to each receiver, 1 to 100000",
         .full = kLoops,
         .type_name = "N",
         .check = CLI::Range(1, 100'000)},
    };
}

std::vector<int> parse_loads(std::string_view text, int cpus) {
    std::vector<int> out;
    for (auto item : split_list(text)) {
        const bool multiple = !item.empty() && item.back() == 'x';
        const auto digits = multiple ? item.substr(0, item.size() - 1) : item;
        const auto n = whole_number(digits);
        // Checked before multiplying, so no count a person types can overflow the product.
        const long long tasks = n && *n >= 0 && *n <= kMaxLoad ? (multiple ? *n * cpus : *n) : -1;
        if (tasks < 0 || tasks > kMaxLoad)
            throw UsageError(
                fmt::format("--loads {}: '{}' is not a count from 0 to {} or a multiple of the CPUs (1x, 2x)", text,
                            item, kMaxLoad));
        out.push_back(static_cast<int>(tasks));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

struct Plan {
    bool lateness = false, wakeup = false, messaging = false;
    std::vector<int> loads;
    std::vector<int> wakeup_loads;  // --quick without --loads: the largest load only
    std::vector<Policy> policies;
    std::vector<Channel> channels;
    std::vector<Kind> kinds;
    std::vector<Transport> transports;
    std::optional<int> pin;
    std::vector<int> cpus;  // the CPUs the load and the sleeper may use
    Nanos interval_ns = 0, duration_ns = 0;
    int groups = 1, loops = 100;
    int messaging_runs = 0;  // timed runs of each messaging configuration, after an untimed first
};

Plan read_plan(const DemoContext& ctx) {
    Plan p;
    const OptionValues& o = ctx.values;
    const auto experiments =
        parse_choice_list("--experiments", o.text("--experiments"), {"lateness", "wakeup", "messaging"});
    auto chosen = [&](std::string_view e) {
        return std::find(experiments.begin(), experiments.end(), e) != experiments.end();
    };
    p.lateness = chosen("lateness");
    p.wakeup = chosen("wakeup");
    p.messaging = chosen("messaging");
    if (o.given("--pin")) {
        const int pin = static_cast<int>(o.integer("--pin"));
        if (std::find(ctx.env.affinity_cpus.begin(), ctx.env.affinity_cpus.end(), pin) == ctx.env.affinity_cpus.end())
            throw UsageError(fmt::format("--pin {}: not a CPU this process may run on ({})", pin,
                                         format_cpu_list(ctx.env.affinity_cpus)));
        p.pin = pin;
        p.cpus = {pin};
    } else {
        p.cpus = ctx.env.affinity_cpus;
    }
    const int cpus = std::max<int>(1, static_cast<int>(p.cpus.size()));
    p.loads = parse_loads(o.text("--loads"), cpus);
    // --quick without --loads: the wake-ups at the largest load only.
    p.wakeup_loads = ctx.options.quick && !o.given("--loads") ? std::vector<int>{p.loads.back()} : p.loads;
    for (const auto& name : parse_choice_list("--policies", o.text("--policies"), {"other", "nice-10", "fifo"}))
        p.policies.push_back(*policy_from_option(name));
    std::sort(p.policies.begin(), p.policies.end());
    const auto channels = parse_choice_list("--channels", o.text("--channels"), {"futex", "pipe"});
    for (Channel c : {Channel::futex, Channel::pipe})
        if (std::find(channels.begin(), channels.end(), name(c)) != channels.end()) p.channels.push_back(c);
    const std::string& mode = o.text("--mode");
    if (mode != "threads") p.kinds.push_back(Kind::processes);
    if (mode != "processes") p.kinds.push_back(Kind::threads);
    p.transports = ctx.options.quick ? std::vector{Transport::pipe} : std::vector{Transport::pipe, Transport::socket};
    p.messaging_runs = ctx.options.quick ? 1 : kMessagingRuns;
    p.interval_ns = Nanos(o.integer("--interval")) * 1000;
    p.duration_ns = Nanos(o.number("--duration") * 1e9);
    if (p.duration_ns < 10 * p.interval_ns)
        throw UsageError(fmt::format("--duration {:g} with --interval {}: fewer than 10 wake-ups per cell",
                                     double(p.duration_ns) / 1e9, o.text("--interval")));
    p.groups = static_cast<int>(o.integer("--groups"));
    p.loops = static_cast<int>(o.integer("--loops"));
    return p;
}

// One timer-lateness cell with its load; the interference and the tick are read around it.
struct LatenessRun {
    LatenessCell cell;
    Samples samples;
    Interference interference;
    std::optional<double> tick_ns;
    std::string tick_unknown;
};

LatenessRun run_lateness(const Plan& plan, Policy policy, int load, double overhead) {
    LatenessRun r;
    InterferenceProbe probe(plan.cpus);
    SpinnerGang gang(load, plan.pin);
    r.cell.policy = policy;
    r.cell.load_tasks = load;
    r.cell.cpus = static_cast<int>(plan.cpus.size());
    if (!gang.failure().empty()) {  // a load short of its count would be another cell: none is measured
        r.cell.refused = gang.failure();
        gang.stop();
        r.interference = probe.stop();
        return r;
    }
    const auto irq_before = timer_interrupts();
    const Nanos t0 = now_ns();
    r.samples = measure_timer_lateness(LatenessConfig{policy, plan.interval_ns, plan.duration_ns, plan.pin}, overhead);
    const double window = double(now_ns() - t0);
    const auto irq_after = timer_interrupts();
    gang.stop();
    r.interference = probe.stop();
    r.cell.samples_ns = r.samples.ns;
    r.cell.refused = r.samples.refused;
    if (r.samples.kernel.known && r.samples.kernel.switched_in > 0)
        r.cell.run_delay_per_wakeup_ns = r.samples.kernel.run_delay_per_wakeup();
    if (!irq_before || !irq_after) r.tick_unknown = "/proc/interrupts has no local timer line (LOC, arch_timer)";
    else if (load < r.cell.cpus) r.tick_unknown = "the load did not keep every CPU busy";
    else {
        r.tick_ns = observed_tick_ns(*irq_before, *irq_after, plan.cpus,
                                     static_cast<std::int64_t>(r.samples.ns.size()) + 5, window);
        if (!r.tick_ns) r.tick_unknown = "too few timer interrupts in the window to say";
    }
    return r;
}

// 1. Timer lateness: each policy at each load; the interference and the tick come from the
// decisive cell (SCHED_OTHER at the largest load above the CPUs), the tick from jiffies where the
// kernel's counter moved.
void measure_lateness(const Plan& plan, double overhead, Measured& m) {
    int decisive_load = -1;
    const JiffiesClock jiffies;  // the tick as the kernel counts it, over the lateness cells
    for (int load : plan.loads)
        for (Policy policy : plan.policies) {
            LatenessRun r = run_lateness(plan, policy, load, overhead);
            if (policy == Policy::other && r.cell.refused.empty() && load + 1 > m.cpus && load > decisive_load) {
                decisive_load = load;
                m.interference = r.interference;
                m.tick_ns = r.tick_ns;
                m.tick_unknown = r.tick_unknown;
            }
            m.lateness.push_back(std::move(r.cell));
            m.lateness_samples.push_back(std::move(r.samples));
        }
    if (const auto kernel_tick = jiffies.tick_ns(50)) {
        m.tick_ns = kernel_tick;
        m.tick_from_jiffies = true;
        m.tick_unknown.clear();
    }
}

// 2. Wake-ups: each channel and kind of task at each load; a load the kernel refuses to start
// leaves the cell with its reason and no figures.
void measure_wakeups(const Plan& plan, double overhead, Measured& m) {
    for (int load : plan.wakeup_loads)
        for (Channel channel : plan.channels)
            for (Kind kind : plan.kinds) {
                SpinnerGang gang(load, plan.pin);
                WakeupCell w{channel, kind, load, {}};
                if (gang.failure().empty())
                    w.samples = measure_wakeup(
                        WakeupConfig{channel, kind, plan.interval_ns, plan.duration_ns, plan.pin}, overhead);
                else w.samples.refused = gang.failure();
                gang.stop();
                m.wakeups.push_back(std::move(w));
            }
}

// 3. Messaging (hackbench's shape): each transport and kind, the median of its timed runs.
void measure_messaging(const Plan& plan, Measured& m) {
    for (Transport transport : plan.transports)
        for (Kind kind : plan.kinds) {
            MessagingConfig c{plan.groups, plan.loops, kind, transport, plan.pin};
            // Run 0 is untimed (it pays for page tables and slab caches); a run the kernel
            // refuses to start ends the cell, which then says why, with no figures.
            std::vector<MessagingResult> runs;
            std::optional<MessagingResult> refused;
            for (int i = 0; i <= plan.messaging_runs; ++i) {
                MessagingResult run = run_messaging(c);
                if (!run.refused.empty()) {
                    refused = std::move(run);
                    break;
                }
                if (i > 0) runs.push_back(std::move(run));
            }
            if (refused) {
                m.messaging.push_back(MessagingCell{c, std::move(*refused), {}});
                continue;
            }
            std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.total_ns < b.total_ns; });
            MessagingCell cell{c, runs[runs.size() / 2], {}};
            for (const auto& r : runs) cell.totals.push_back(r.total_ns);
            m.messaging.push_back(std::move(cell));
        }
}

// The plan: its three measurements in turn, then P2's verdict from the lateness cells, then the
// report (report.hpp).
Result run(const DemoContext& ctx) {
    const Plan plan = read_plan(ctx);
    const double overhead = ctx.clock.read_overhead_ns;
    Measured m;
    m.cpus = static_cast<int>(plan.cpus.size());
    m.pin_cpu = plan.pin;
    m.interval_ns = plan.interval_ns;
    m.duration_ns = plan.duration_ns;
    if (plan.lateness) measure_lateness(plan, overhead, m);
    if (plan.wakeup) measure_wakeups(plan, overhead, m);
    if (plan.messaging) measure_messaging(plan, m);
    Result result;
    result.config.repeat = static_cast<int>(plan.duration_ns / plan.interval_ns);
    if (plan.lateness)
        result.add_decision(
            decide_p2(m.lateness, m.tick_ns, m.interference, ctx.env.cpu_quota_cpus, m.tick_from_jiffies));
    present(result, ctx, m);
    return result;
}

}  // namespace

DemoSpec spec() {
    return DemoSpec{
        .name = "sched_latency",
        .title =
            "how long a woken task waits for a CPU (P2): timer lateness by policy and load, wake-ups between threads "
            "and processes, "
            "many tasks messaging",
        .claims = {"P2"},
        .rules = {kP2Rule},
        .default_timeout_s = 120,
        .options = options(),
        .run = run,
    };
}

}  // namespace proclab::sched_latency

PROCLAB_DEMO_MAIN(proclab::sched_latency::spec)
