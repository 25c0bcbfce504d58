// process_isolation's kernel reads: one of this demo's children holds a secret at a known heap
// address; readers without the privilege (a helper at uid 65534, or this process against a
// non-dumpable child) and with it (this process against a dumpable child) try the kernel's three
// doors to another process's memory (common/memory_probe.hpp).
#include "process_isolation/experiments.hpp"

#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/handles.hpp"
#include "proclab/memory_probe.hpp"

#include <array>
#include <cstring>
#include <memory>

#include <fmt/format.h>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace proclab::process_isolation {

namespace {

// One attempt as it travels from a helper over a pipe (trivially copyable).
struct Attempt {
    MemoryDoor door;
    bool allowed;
    int err;       // errno when refused
    bool matched;  // the bytes read were the target's secret
};

// A child holding a secret at a known heap address until told to exit.
struct Target {
    ChildProcess process;
    Pipe stop;
    std::string secret;
    bool dumpable = true;
};

Target start_target(char* secret_buffer, bool dumpable) {
    Target t;
    t.dumpable = dumpable;
    t.stop = Pipe::create();
    Pipe ready = Pipe::create();
    t.process = ChildProcess::fork([&] {
        if (!dumpable) ::prctl(PR_SET_DUMPABLE, 0);
        copy_text(secret_buffer, 64, fmt::format("target {} secret {}", ::getpid(), now_ns() % 1000000));
        send_value(ready.write_end.get(), char{'r'});
        (void)receive_value<char>(t.stop.read_end.get());  // until the parent says stop
        return 0;
    });
    ready.write_end.reset();
    if (!receive_value<char>(ready.read_end.get())) throw HarnessError(EPIPE, "target child did not start");
    // A reader that gets this prefix back has read the target's page: the parent's copy of the
    // buffer is all zeros.
    t.secret = fmt::format("target {} secret ", t.process.pid());
    return t;
}

void stop_target(Target& t) {
    send_value(t.stop.write_end.get(), char{'q'});
    t.process.wait();
}

std::string describe_errno(int err) { return err ? fmt::format("{} ({})", errno_name(err), std::strerror(err)) : "-"; }

}  // namespace

KernelReads kernel_reads(const DemoContext& ctx, P3Evidence& p3) {
    constexpr std::array doors{MemoryDoor::vm_read, MemoryDoor::procmem_read, MemoryDoor::ptrace_read};
    auto secret_buffer = std::make_unique<char[]>(64);  // the same heap address in every forked target

    KernelReads out;
    const std::uintptr_t address = reinterpret_cast<std::uintptr_t>(secret_buffer.get());
    const bool root = ctx.env.euid == 0;
    const std::string me =
        fmt::format("this process (euid {}, CAP_SYS_PTRACE {})", ctx.env.euid, ctx.env.cap_sys_ptrace ? "yes" : "no");

    // What each reader learns is checked against the secret's known prefix (the reader does not
    // know its random tail); the parent's copy of the buffer is all zeros.
    auto run_attempts = [&](pid_t target_pid, const std::string& prefix) {
        std::vector<Attempt> out;
        for (MemoryDoor door : doors) {
            const MemoryAttempt m = probe_memory(door, target_pid, address, prefix);
            out.push_back({door, m.allowed, m.err, m.matched});
        }
        return out;
    };

    auto record = [&](const std::string& reader, const Target& t, const std::vector<Attempt>& attempts,
                      bool privileged) {
        for (const auto& a : attempts) {
            const std::string outcome =
                a.allowed ? (a.matched ? "allowed: read the target's secret" : "allowed: read bytes") : "refused";
            out.rows.push_back({reader,
                                fmt::format("child {} ({})", t.process.pid(), t.dumpable ? "dumpable" : "non-dumpable"),
                                std::string(name(a.door)), outcome, describe_errno(a.err)});
            if (privileged) {
                ++p3.privileged_attempts;
                if (a.allowed) ++p3.privileged_allowed;
            } else {
                ++p3.unprivileged_attempts;
                if (a.allowed) ++p3.unprivileged_allowed;
            }
        }
    };

    // (a) This process against a dumpable child: the same uid, an ancestor, or root.
    {
        Target t = start_target(secret_buffer.get(), true);
        // The right is read from the kernel's rules with this process's own credentials (uid,
        // CAP_SYS_PTRACE) and the machine's Yama scope: the parent of a dumpable child.
        const PtraceRights rights = ptrace_rights({.cap_sys_ptrace = ctx.env.cap_sys_ptrace,
                                                   .same_uid = true,
                                                   .target_dumpable = true,
                                                   .prober_is_ancestor = true,
                                                   .yama_scope = ctx.env.yama_ptrace_scope});
        record(me, t, run_attempts(t.process.pid(), t.secret), rights.granted);
        if (rights.granted && p3.privileged_allowed > 0)
            p3.privileged_reader = fmt::format("this process, {} ({})", root ? "root" : "a user", rights.why);
        if (!rights.granted)
            p3.unprivileged_reader = fmt::format("this process against its dumpable child ({})", rights.why);
        stop_target(t);
    }

    // (b) This process against a non-dumpable child: refused unless the reader holds CAP_SYS_PTRACE.
    {
        Target t = start_target(secret_buffer.get(), false);
        const PtraceRights rights = ptrace_rights({.cap_sys_ptrace = ctx.env.cap_sys_ptrace,
                                                   .same_uid = true,
                                                   .target_dumpable = false,
                                                   .prober_is_ancestor = true,
                                                   .yama_scope = ctx.env.yama_ptrace_scope});
        record(me, t, run_attempts(t.process.pid(), t.secret), rights.granted);
        if (!rights.granted) {
            const std::string reader = fmt::format("this process against its non-dumpable child ({})", rights.why);
            p3.unprivileged_reader =
                p3.unprivileged_reader.empty() ? reader : p3.unprivileged_reader + " and " + reader;
        } else if (p3.privileged_reader.empty() && p3.privileged_allowed > 0) {
            p3.privileged_reader = fmt::format("this process ({})", rights.why);
        }
        stop_target(t);
    }

    // (c) As root: a helper that drops to uid/gid 65534 (no capabilities) against a dumpable child.
    out.cross_uid_tried = root;
    if (root) {
        Target t = start_target(secret_buffer.get(), true);
        Pipe results = Pipe::create();
        const pid_t target_pid = t.process.pid();
        const std::string prefix = t.secret;
        auto helper = ChildProcess::fork([&] {
            const pid_t demo = ::getppid();
            if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) return 4;
            die_with_parent(demo);  // a change of credentials clears PR_SET_PDEATHSIG
            for (const auto& a : run_attempts(target_pid, prefix)) send_value(results.write_end.get(), a);
            return 0;
        });
        results.write_end.reset();
        std::vector<Attempt> attempts;
        while (auto a = receive_value<Attempt>(results.read_end.get())) attempts.push_back(*a);
        const auto status = helper.wait();
        if (status.exited() && status.exit_code() == 4) {
            out.rows.push_back({"helper dropping to uid 65534", "-", "-", "could not drop privileges", "-"});
        } else {
            record("helper at uid 65534, no capabilities", t, attempts, false);
            p3.unprivileged_reader = p3.unprivileged_reader.empty()
                                         ? "an unprivileged uid"
                                         : "an unprivileged uid and " + p3.unprivileged_reader;
        }
        stop_target(t);
    }
    return out;
}

}  // namespace proclab::process_isolation
