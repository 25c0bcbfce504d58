// process_isolation's report: the six experiments' observations as tables, in the order they ran.
// Nothing here measures or decides; the rules read the evidence (verdicts.hpp).
#include "process_isolation/experiments.hpp"

#include <fmt/format.h>

namespace proclab::process_isolation {

namespace {

void processes_table(Result& result, const DemoContext& ctx, const SpawnedProcesses& p) {
    auto& table = result.add_table("1. Processes started through Boost.Process v2 (fork + exec of this program)",
                                   {"process",
                                    {"pid", "count"},
                                    {"ppid", "count"},
                                    "&global",
                                    "global holds",
                                    "&heap",
                                    "heap holds",
                                    {"open fds", "count"},
                                    {"RLIMIT_NOFILE", "count"}});
    for (const auto& r : p.rows)
        table.rows.push_back(
            {r.who, r.pid, r.ppid, r.global_addr, r.global, r.heap_addr, r.heap, r.open_fds, r.nofile});
    const MachineFact* aslr = ctx.env.find("aslr");
    table.note = fmt::format(
        "Each child wrote its own tag into the same global and a heap object; the last row is the parent's copy "
        "afterwards. Addresses of exec'd children differ from the parent's where ASLR is on (randomize_va_space = "
        "{}). child-2 lowered its own RLIMIT_NOFILE; the parent's rows show its own limit.",
        aslr && aslr->value ? *aslr->value : "unknown");
}

void fork_table(Result& result, const ForkCopies& f) {
    auto& table = result.add_table("2. fork(): the same virtual address holds different data",
                                   {"object", "address in parent", "address in child",
                                    "parent reads after the child wrote", "child reads after the parent wrote"});
    for (const auto& r : f.rows)
        table.rows.push_back({r.object, r.parent_addr, r.child_addr, r.parent_read, r.child_read});
    table.note = "Each side wrote its own text after fork(), then read the same address again (copy-on-write pages).";
}

void crash_table(Result& result, const CrashContainment& c, const P1Evidence& p1) {
    auto& table = result.add_table("3. Crash containment: children write through a null pointer beside two siblings",
                                   {"crash",
                                    {"crasher's pid", "count"},
                                    "how it ended",
                                    {"siblings answering after it", "count"},
                                    {"processes alive at once", "count"},
                                    {"their distinct pids", "count"}});
    for (const auto& r : c.rows)
        table.rows.push_back({double(r.crash), double(r.pid), r.ended, double(r.siblings_answering),
                              double(r.alive_together), double(r.distinct_pids)});
    if (c.crashes > int(c.rows.size()))
        table.rows.push_back({fmt::format("{} more", c.crashes - int(c.rows.size())), Cell{}, "counted in P1's facts",
                              Cell{}, Cell{}, Cell{}});
    table.note =
        "Two siblings answer pings throughout; each crasher is forked beside them and writes through a null pointer. "
        "A process's pid is unique among the processes alive at the same moment (a pid can be reused after its "
        "process is reaped), so distinctness is counted among the parent, the siblings and the crasher, all alive at "
        "once.";
    result.add_metric("siblings_alive_after_crash", p1.siblings_alive_after_crash, "count",
                      "siblings that answered a ping after the children wrote through a null pointer");
}

void pointer_table(Result& result, const PointerHandoff& p) {
    auto& table = result.add_table("4. A pointer handed to another process (an exec'd child dereferences it)",
                                   {"object", "address", "mapped in the receiver", "receiver's outcome"});
    for (const auto& r : p.rows) table.rows.push_back({r.object, r.address, r.mapped, r.outcome});
    table.note = fmt::format(
        "The parent's data: \"{}\" and \"{}\". An address means something only inside its own address space.",
        p.global_secret, p.heap_secret);
}

void kernel_reads_table(Result& result, const DemoContext& ctx, const KernelReads& k) {
    auto& table = result.add_table("5. Reading a child's memory through the kernel",
                                   {"reader", "target", "method", "outcome", "errno"});
    for (const auto& r : k.rows) table.rows.push_back({r.reader, r.target, r.method, r.outcome, r.err});
    table.note = fmt::format(
        "Only this demo's own children are targets; the three ways in are the ones isolation_matrix tries. Yama "
        "ptrace_scope: {}. A refusal is the kernel's answer, reported as evidence, not as an error.",
        ctx.env.yama_ptrace_scope ? std::to_string(*ctx.env.yama_ptrace_scope) : "Yama not present");
    if (!k.cross_uid_tried)
        result.notes.push_back(
            "Not root: no helper can switch to another uid, so the cross-uid refusal was not tried; "
            "the refusal shown is the non-dumpable one.");
}

void shared_memory_table(Result& result, const SharedMemory& m) {
    auto& table =
        result.add_table("6. Shared memory: the sanctioned door (Boost.Interprocess)",
                         {"kind", "writer", "reader", "address in writer", "address in reader", "reader sees"});
    for (const auto& r : m.rows)
        table.rows.push_back({r.kind, r.writer, r.reader, r.writer_addr, r.reader_addr, r.seen});
    table.note =
        "Both processes map the same physical pages; the virtual addresses may differ. Sharing is opted into "
        "by both sides, which is why it does not breach isolation. What a message through it costs, beside the "
        "kernel's ways (pipe, socket, eventfd, mq): ipc_cost.";
}

}  // namespace

void present(Result& result, const DemoContext& ctx, const Observations& o, const P1Evidence& p1) {
    processes_table(result, ctx, o.processes);
    fork_table(result, o.fork);
    crash_table(result, o.crashes, p1);
    pointer_table(result, o.pointers);
    kernel_reads_table(result, ctx, o.reads);
    shared_memory_table(result, o.shm);
}

}  // namespace proclab::process_isolation
