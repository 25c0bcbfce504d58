// isolation_matrix: who can do what to whom, and whether one process's excess harms another, for
// claims P1 and P3 of docs/claims.md.
//
//   P1  Processes exist to isolate programs.
//   P3  Processes have no access to each other's address spaces; the OS enforces this.
//
// Method, all of it attempted for real (matrix.hpp, runaway.hpp; the rules in verdicts.hpp):
//   1. The matrix. For each relationship this process can set up (as root: same user, a
//      non-dumpable target, another user both ways, a prober in a new PID namespace, a prober in
//      a new user namespace; unprivileged: the same-user ones), a target child (a secret in its
//      memory, a private temporary file open, a POSIX shared-memory segment of mode 0600, a
//      SIGTERM handler so it lives) and a prober child; the prober tries 15 actions (see it,
//      signal it, read and write its memory three ways, trace it, read its environ and maps, open
//      its fd, set its nice value, affinity and limits to what they already are, open its
//      segment) and each lands as allowed or refused with the errno the kernel gave.
//   2. Runaway neighbours. Two siblings do steady CPU work; one child runs away (memory under
//      RLIMIT_AS, a fork loop under RLIMIT_NPROC as an unprivileged uid, file descriptors under
//      RLIMIT_NOFILE, CPU threads at nice 0; in a cgroup v2 memory or cpu limit where one can be
//      made); the siblings' progress before, during and after, and what stopped the runaway.
//
// Caveats: what is allowed depends on uid, capabilities, dumpable, Yama's ptrace_scope (read and
// stated, never changed) and namespaces; a container may drop capabilities even for root. Nothing
// outside the demo's own children is changed: the limits are set in the runaway children only.

#include "isolation_matrix/matrix.hpp"
#include "isolation_matrix/report.hpp"
#include "isolation_matrix/runaway.hpp"
#include "isolation_matrix/verdicts.hpp"

#include "proclab/child.hpp"
#include "proclab/demo.hpp"

#include <algorithm>

#include <unistd.h>

namespace proclab::isolation_matrix {

// The plan: every relationship's attempts, then every runaway beside its siblings, then the
// report (report.hpp) and the two rules (verdicts.hpp).
// Every option resolved before anything is measured.
RunawayOptions read_setup(const DemoContext& ctx) {
    RunawayOptions options;
    options.window_s = ctx.options.quick ? 0.1 : 0.3;
    options.cpus = static_cast<int>(std::max<std::size_t>(1, ctx.env.affinity_cpus.size()));
    return options;
}

Result run(const DemoContext& ctx) {
    const RunawayOptions options = read_setup(ctx);
    std::vector<RelationshipRun> runs;
    int index = 0;
    for (const auto& r : relationships(::geteuid() == 0, ctx.env.yama_ptrace_scope))
        runs.push_back(run_relationship(r, index++));
    const auto runaways = run_runaways(options);

    Result result;
    present(result, ctx, runs, runaways, options);
    result.add_decision(decide_p1(runs, runaways));
    result.add_decision(decide_p3(runs));
    return result;
}

DemoSpec spec() {
    return DemoSpec{
        .name = "isolation_matrix",
        .title =
            "who can do what to whom (signal, trace, read memory, set limits), and whether a runaway harms its "
            "neighbours",
        .claims = {"P1", "P3"},
        .rules = {kP1Rule, kP3Rule},
        .default_timeout_s = 120,
        .run = run,
    };
}

}  // namespace proclab::isolation_matrix

PROCLAB_DEMO_MAIN(proclab::isolation_matrix::spec)
