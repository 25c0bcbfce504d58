// process_isolation: claims P1 and P3 of docs/claims.md.
//
//   P1  Every running program is hosted by a process; processes exist to isolate programs.
//   P3  Processes have no access to each other's address spaces; the OS enforces this.
//
// Method, all of it real and measured in this run:
//   1. Copies of this executable are started through Boost.Process v2 (fork + exec, a fresh
//      address space each) and report their pid, parent pid, and the address and content of a
//      global and a heap object, their open fds and their RLIMIT_NOFILE (one child lowers its own).
//   2. After fork() parent and child write to the same variables: the same virtual address holds
//      different data in each, both ways.
//   3. Crash containment: forked children write through a null pointer (5, --quick 2; --repeat)
//      beside two siblings, which answer a ping after each crash.
//   4. A pointer handed to another process: an exec'd child dereferences the parent's addresses
//      and reads its own memory there, or faults.
//   5. Through the kernel: process_vm_readv(2), a read of /proc/PID/mem and ptrace(PTRACE_ATTACH)
//      against one of this demo's own children, by a reader without the privilege (as root: a
//      helper that drops to uid 65534; otherwise: a target that made itself non-dumpable) and by
//      one with it (CAP_SYS_PTRACE, or the same uid where the target is dumpable and Yama allows).
//   6. The sanctioned door: Boost.Interprocess shared memory, named (removed on every exit path)
//      and anonymous. What a message through it costs, beside the kernel's ways: ipc_cost.
//
// One file per experiment (experiments.hpp); their report in report.cpp; the rules in verdicts.hpp.
//
// Caveats: what the kernel allows depends on uid, capabilities, the target's dumpable flag and
// Yama's ptrace_scope; containers often drop CAP_SYS_PTRACE even for root. Addresses of exec'd
// children differ from the parent's only where ASLR is on (randomize_va_space > 0). A virtual
// machine makes the round trips slower but does not change who can read whom.

#include "process_isolation/experiments.hpp"
#include "process_isolation/verdicts.hpp"

#include "proclab/demo.hpp"

namespace proclab::process_isolation {

// Every option resolved before anything is measured.
struct Setup {
    int children = 3;  // report children started through Boost.Process (--quick: 2)
    int crashes = 0;   // --repeat
};

Setup read_setup(const DemoContext& ctx) { return {.children = ctx.options.quick ? 2 : 3, .crashes = ctx.repeat()}; }

// The plan: the six experiments, each filling the evidence of its claim; their report; the rules.
Result run(const DemoContext& ctx) {
    const Setup setup = read_setup(ctx);
    P1Evidence p1;
    P3Evidence p3;
    Observations o;
    o.processes = spawned_processes(ctx, setup.children, p1);
    o.fork = fork_copy_on_write();
    p3.fork_copies_isolated = o.fork.isolated;
    o.crashes = crash_containment(setup.crashes, p1);
    o.pointers = pointer_handoff(ctx, p3);
    o.reads = kernel_reads(ctx, p3);
    o.shm = shared_memory(ctx);
    p3.shared_memory_works = o.shm.works;

    Result result;
    result.config.repeat = setup.crashes;
    present(result, ctx, o, p1);
    result.add_decision(decide_p1(p1));
    result.add_decision(decide_p3(p3));
    return result;
}

DemoSpec spec() {
    return DemoSpec{
        .name = "process_isolation",
        .title = "processes are isolated: own pid, own memory, contained crashes; the kernel guards the door",
        .claims = {"P1", "P3"},
        .rules = {kP1Rule, kP3Rule},
        .default_timeout_s = 60,
        .repeat = RepeatSpec{.counts = "Times each crash experiment is repeated", .full = 5, .quick = 2},
        .run = run,
        .child_modes = {{"report", child_report}, {"deref", child_deref}, {"shm-write", child_shm_write}},
    };
}

}  // namespace proclab::process_isolation

PROCLAB_DEMO_MAIN(proclab::process_isolation::spec)
