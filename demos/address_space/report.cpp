#include "address_space/report.hpp"

#include "proclab/render.hpp"
#include "proclab/sizes.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>

namespace proclab::address_space {

namespace {

const FaultPoint* find_fault(const std::vector<FaultPoint>& points, Kind kind, int tasks) {
    for (const auto& p : points)
        if (p.kind == kind && p.tasks == tasks) return &p;
    return nullptr;
}

void add_faults(Result& result, const Measured& m, Json& raw) {
    auto& t = result.add_table(
        "Page faults: N tasks each mapping, touching and unmapping memory of its own (will-it-scale page_fault1)",
        {"tasks are",
         {"N", "count"},
         {"faults/s per task, median", "/s"},
         {"least task", "/s"},
         {"all tasks", "/s"},
         {"per task, against N = 1", "ratio"},
         {"kernel-counted faults per page", "ratio"}});
    Json points = Json::array();
    std::string perf_note;
    for (const auto& p : m.faults) {
        const FaultPoint* one = find_fault(m.faults, p.kind, 1);
        const auto fpp = p.faults_per_page();
        t.rows.push_back(
            {std::string(name(p.kind)), double(p.tasks), p.median_per_task(), p.least_per_task(), p.total_per_s(),
             one && one->median_per_task() > 0 ? Cell{p.median_per_task() / one->median_per_task()} : Cell{},
             fpp ? Cell{*fpp} : Cell{}});
        const int most_tasks = std::max_element(m.faults.begin(), m.faults.end(), [](const auto& a, const auto& b) {
                                   return a.tasks < b.tasks;
                               })->tasks;
        result
            .add_metric(fmt::format("faults_per_s_{}_n{}", name(p.kind), p.tasks), p.median_per_task(), "/s",
                        fmt::format("first-touch page faults per second per task, {}, N = {} (mmap, touch, munmap)",
                                    name(p.kind), p.tasks))
            .headline = p.tasks == most_tasks;
        points.push_back({{"kind", name(p.kind)},
                          {"tasks", p.tasks},
                          {"per_task_per_s", p.median_per_task()},
                          {"least_per_task_per_s", p.least_per_task()},
                          {"total_per_s", p.total_per_s()}});
        if (!p.perf_unavailable.empty()) perf_note = p.perf_unavailable;
    }
    t.note = fmt::format(
        "Each task, pinned to a CPU of its own where there are enough, maps {} of private anonymous memory (no huge "
        "pages), "
        "writes one byte to every 4 KiB page (a first-touch fault each) and unmaps it, for {} after a common start. "
        "Threads share "
        "one address space: one page-table tree and one mmap_lock, which every mmap and munmap takes for writing "
        "(faults take a "
        "per-VMA lock on Linux 6.4 and later); processes share nothing. 'per task, against N = 1' below 1 is what "
        "sharing costs. "
        "Kernel-counted faults: perf_event_open's page-faults per task{}, over the pages touched (1.00: one fault per "
        "page).",
        byte_label(kFaultRegion), format_value(double(m.fault_duration_ns), "ns"),
        perf_note.empty() ? "" : fmt::format(" (refused here: {}; getrusage's minor faults instead)", perf_note));
    raw["faults"] = std::move(points);
}

void add_unmaps(Result& result, const Measured& m, Json& raw) {
    auto& t = result.add_table("Unmapping while siblings run on other CPUs (will-it-scale tlb_flush)",
                               {"operation",
                                "siblings are",
                                {"siblings", "count"},
                                "their CPUs",
                                {"median", "ns"},
                                {"p99", "ns"},
                                {"against none", "ratio"},
                                {"TLB shootdowns per op", "ratio"}});
    Json points = Json::array();
    std::string unknown;
    for (const auto& u : m.unmaps) {
        const UnmapPoint* alone = nullptr;
        for (const auto& a : m.unmaps)
            if (a.op == u.op && a.siblings == 0) alone = &a;
        t.rows.push_back({std::string(name(u.op)), u.siblings == 0 ? "none" : std::string(name(u.siblings_kind)),
                          double(u.siblings), u.siblings == 0 ? "-" : format_cpu_list(u.sibling_cpus), u.ns.median,
                          u.ns.p99, alone && alone->ns.median > 0 ? Cell{u.ns.median / alone->ns.median} : Cell{},
                          u.shootdowns_per_op ? Cell{*u.shootdowns_per_op} : Cell{}});
        const std::string op_id = u.op == UnmapOp::munmap ? "munmap" : "madvise_dontneed";
        const std::string id = u.siblings == 0
                                   ? fmt::format("{}_alone", op_id)
                                   : fmt::format("{}_{}_siblings{}", op_id, name(u.siblings_kind), u.siblings);
        const std::string kind_word = u.siblings_kind == Kind::threads ? (u.siblings == 1 ? "thread" : "threads")
                                                                       : (u.siblings == 1 ? "process" : "processes");
        result
            .add_metric(id, u.ns, "ns",
                        u.siblings == 0 ? fmt::format("{} of {} touched, alone", name(u.op), byte_label(kUnmapRegion))
                                        : fmt::format("{} of {} touched, {} sibling {} running", name(u.op),
                                                      byte_label(kUnmapRegion), u.siblings, kind_word))
            .headline =
            u.op == UnmapOp::munmap && (u.siblings == 0 || (u.siblings == 1 && u.siblings_kind == Kind::threads));
        if (u.shootdowns_per_op)
            result.add_metric(id + "_shootdowns_per_op", *u.shootdowns_per_op, "ratio",
                              fmt::format("TLB shootdown interrupts on every CPU per {}",
                                          u.siblings == 0 ? fmt::format("{}, alone", name(u.op))
                                                          : fmt::format("{}, {} sibling {} running", name(u.op),
                                                                        u.siblings, kind_word)));
        if (!u.shootdowns_unknown.empty()) unknown = u.shootdowns_unknown;
        points.push_back({{"op", op_id},
                          {"siblings_kind", name(u.siblings_kind)},
                          {"siblings", u.siblings},
                          {"median_ns", u.ns.median},
                          {"p99_ns", u.ns.p99},
                          {"shootdowns_per_op", u.shootdowns_per_op ? Json(*u.shootdowns_per_op) : Json(nullptr)}});
    }
    t.note = fmt::format(
        "From one CPU, {} operations each on {} just touched (16 pages), timed one by one, with 0..S siblings spinning "
        "on other "
        "CPUs. A sibling thread runs in this address space, so the kernel must interrupt its CPU to drop the stale "
        "translations "
        "(a TLB shootdown) before the memory can be reused; a sibling process runs in its own, and nothing is sent. "
        "Shootdowns: "
        "the TLB line of /proc/interrupts, summed over every CPU, before and after, per operation (anything else on "
        "the machine "
        "that unmaps shared memory adds to it).{}",
        m.unmap_ops, byte_label(kUnmapRegion), unknown.empty() ? "" : " Not counted here: " + unknown + ".");
    if (m.cpus < 2) t.note += " One CPU: no sibling can run elsewhere, so only the lone rows are measured.";
    raw["unmap"] = std::move(points);
}

void add_floors(Result& result, const Measured& m) {
    auto& t = result.add_table("The kernel's small operations (LEBench's list): the floor under the rows above",
                               {"operation",
                                {"median", "ns"},
                                {"p99", "ns"},
                                {"min", "ns"},
                                {"kernel-counted faults per op", "ratio"},
                                "method"});
    for (const auto& f : m.floors) {
        t.rows.push_back({f.what, f.ns.median, f.ns.p99, f.ns.min,
                          f.kernel_faults_per_op ? Cell{*f.kernel_faults_per_op} : Cell{}, f.method});
        result.add_metric(f.id, f.ns, "ns", f.what).headline = f.id == "syscall_getppid" || f.id == "first_touch_fault";
    }
    t.note =
        "The clock's read cost is subtracted from every sample. A fault is a trap into the kernel, like a system call, "
        "plus a "
        "page zeroed and mapped, so it cannot be cheaper than the call: a fault median below the system call's is "
        "shown as an "
        "error in the notes.";
    const Floor* call = nullptr;
    const Floor* fault = nullptr;
    for (const auto& f : m.floors)
        if (!f.kernel_unavailable.empty())
            t.note += " The kernel's fault count is not read here: " + f.kernel_unavailable + ".";
    for (const auto& f : m.floors) {
        if (f.id == "syscall_getppid") call = &f;
        if (f.id == "first_touch_fault") fault = &f;
    }
    if (call && fault && fault->ns.median < call->ns.median)
        result.notes.push_back(fmt::format(
            "Implausible: a first-touch fault ({}) below a system call ({}); the fault figure is not a fault.",
            format_value(fault->ns.median, "ns"), format_value(call->ns.median, "ns")));
}

// First-touch faults per second per task against N, threads beside processes.
std::optional<plot::Plot> faults_plot(const Measured& m) {
    plot::Panel panel{.title = "First-touch page faults per task against N tasks faulting at once",
                      .x = {.label = "tasks faulting at once (N), one per CPU"},
                      .y = {.label = "first-touch faults per second per task (thousands)", .min = 0},
                      .legend = "lower right",
                      .legend_size = 8};
    std::set<int> ns;
    for (Kind kind : {Kind::threads, Kind::processes}) {
        plot::Series line{
            .label = fmt::format("{} ({})", name(kind), kind == Kind::threads ? "one address space" : "one each"),
            .colour = kind == Kind::threads ? 0 : 1,
            .marker = "o"};
        for (const auto& p : m.faults) {
            ns.insert(p.tasks);
            if (p.kind != kind || p.median_per_task() <= 0) continue;
            line.x.push_back(p.tasks);
            line.y.push_back(p.median_per_task() / 1e3);
        }
        if (!line.x.empty()) panel.series.push_back(std::move(line));
    }
    if (panel.series.empty()) return std::nullopt;
    plot::set_ticks(panel.x, ns, [](int n) { return std::to_string(n); });
    return plot::Plot{
        .file = "page_faults.png",
        .caption = fmt::format(
            "First-touch page faults per second per task against tasks faulting at once: {} "
            "(address_space, T4, T7).",
            panel.series.size() == 2 ? "threads of one process against processes" : panel.series.front().label),
        .panels = {std::move(panel)}};
}

// One unmap's median against the siblings spinning on other CPUs, per operation and kind.
std::optional<plot::Plot> unmap_plot(const Measured& m) {
    plot::Panel panel{
        .title = "One unmap against the siblings running on other CPUs",
        .x = {.label = "siblings spinning on other CPUs"},
        .y = {.label = fmt::format("one operation on {}, median (µs)", byte_label(kUnmapRegion)), .min = 0},
        .legend_size = 8};
    std::vector<std::pair<UnmapOp, Kind>> keys;
    std::set<int> siblings;
    for (const auto& u : m.unmaps) {
        siblings.insert(u.siblings);
        if (u.siblings > 0 && std::find(keys.begin(), keys.end(), std::pair{u.op, u.siblings_kind}) == keys.end())
            keys.emplace_back(u.op, u.siblings_kind);
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto [op, kind] = keys[i];
        plot::Series line{.label = fmt::format("{}, sibling {}", name(op), name(kind)),
                          .colour = int(i),
                          .line = kind == Kind::threads ? "-" : "--",
                          .marker = "o"};
        for (const auto& u : m.unmaps)  // the row with no sibling starts every line
            if (u.op == op && (u.siblings == 0 || u.siblings_kind == kind)) {
                line.x.push_back(u.siblings);
                line.y.push_back(u.ns.median / 1e3);
            }
        panel.series.push_back(std::move(line));
    }
    if (siblings.size() < 2 || keys.empty()) return std::nullopt;
    plot::set_ticks(panel.x, siblings, [](int n) { return std::to_string(n); });
    return plot::Plot{
        .file = "unmap_siblings.png",
        .caption =
            "What an unmap costs while siblings run on other CPUs, sibling threads against sibling processes; the "
            "TLB shootdowns they caused are counted in the table (address_space).",
        .panels = {std::move(panel)}};
}

}  // namespace

void present(Result& result, const DemoContext& ctx, const Measured& m) {
    (void)ctx;
    Json raw = Json::object();
    if (!m.faults.empty()) add_faults(result, m, raw);
    if (!m.unmaps.empty()) add_unmaps(result, m, raw);
    if (!m.floors.empty()) add_floors(result, m);
    result.raw = std::move(raw);
    if (auto p = faults_plot(m)) result.plots.push_back(std::move(*p));
    if (auto p = unmap_plot(m)) result.plots.push_back(std::move(*p));
}

}  // namespace proclab::address_space
