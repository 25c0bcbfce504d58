#include "process_isolation/verdicts.hpp"

namespace proclab::process_isolation {

const RuleInfo kP1Rule{
    .claim = "P1",
    .evidence =
        "the pids of processes alive at once (this one, two siblings, a crasher); children started through "
        "Boost.Process (fork + "
        "exec): their parents and their own copy of a global; forked children that write through a null pointer, and "
        "whether the "
        "siblings still answer a ping after each",
    .refuted_by = "two processes with one pid, or a sibling dying with the crasher",
    .guarantee = true,
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "distinct pids, each child its own globals, the crasher died of its fault alone (Linux, every time)",
         .reached_by = "P1 is confirmed by distinct pids and a contained crash"},
        {.verdict = Verdict::nuanced,
         .when = "a child reporting another parent, or reading another's global (not seen on Linux)",
         .reached_by = "P1 is nuanced when a child names another parent"},
        {.verdict = Verdict::refuted,
         .when = "a shared pid, or a sibling that had ended (reaped, with its status) when pinged after a crash",
         .reached_by = "a sibling killed during the crash loop is found ended and refutes P1; left alone both answer"},
        {.verdict = Verdict::not_measured,
         .when = "the crasher did not die of its fault within its deadline, or a sibling neither answered nor ended "
                 "within 10 s (stopped or starved)",
         .reached_by = "P1 is not measured when the crash was not the fault's own signal"}}};

const RuleInfo kP3Rule{
    .claim = "P3",
    .evidence =
        "after fork, the same address written on both sides; a pointer dereferenced by an exec'd receiver; reads of a "
        "child's "
        "memory through process_vm_readv, /proc/PID/mem and ptrace by a reader without the privilege and by one with "
        "it; shared "
        "memory, opened by name and inherited",
    .refuted_by =
        "a write seen across fork, a handed pointer reaching the sender's data, or a kernel read allowed without the "
        "privilege",
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "every door shut to a reader without ptrace rights, and no reader with them in this run",
         .reached_by = "P3 is confirmed when nothing crossed and nobody held the privilege"},
        {.verdict = Verdict::nuanced,
         .when = "shut without ptrace rights, open with them (the same uid on a dumpable target, or CAP_SYS_PTRACE): "
                 "the kernel enforces isolation per user and privilege",
         .reached_by = "P3 is nuanced when privilege let the kernel read across"},
        {.verdict = Verdict::refuted,
         .when = "any of the observations above",
         .reached_by = "P3 is refuted by any unprivileged read, a shared write or a pointer that reached across"}}};

Decision decide_p1(const P1Evidence& e) {
    Rule rule(kP1Rule);
    rule.use(count_fact("processes", e.processes, "processes alive at once: this one, two siblings and a crasher"));
    rule.use(count_fact("distinct_pids", e.distinct_pids, "distinct pids among them (the fewest over the crashes)"));
    if (e.distinct_pids < e.processes)
        return rule.refuted(
            "only {distinct_pids} distinct pids among {processes:count process/processes} alive at once",
            "{distinct_pids} pids for {processes:count process/processes}");
    rule.use(count_fact("children", e.children, "children started"));
    rule.use(count_fact("children_reporting_parent", e.children_reporting_parent,
                        "children whose parent pid was this process"));
    rule.use(count_fact("children_kept_own_global", e.children_kept_own_global,
                        "children that read back their own tag in a global"));
    rule.use(count_fact("crashes", e.crashes, "children that wrote through a null pointer"));
    rule.use(count_fact("crashes_by_fault", e.crashes_by_fault, "of them, those that died of a fault signal"));
    rule.use(text_fact("crash_status", e.crash_status, "how a crashing child ended"));
    rule.use(count_fact("siblings", e.siblings, "siblings of the crashing child"));
    rule.use(count_fact("siblings_alive_after_crash", e.siblings_alive_after_crash,
                        "siblings that answered a ping after the crash"));
    const std::string pids =
        "{processes:count process/processes} alive at once, {distinct_pids} distinct pids; {children_kept_own_global "
        "of children} "
        "children started through Boost.Process with their own copy of the globals";
    if (e.crashes_by_fault == 0) {
        if (e.crash_killed_by_demo)
            rule.use(flag_fact("crasher_killed_by_demo", true, "the demo killed the crasher after its deadline"));
        return rule.not_measured(
            pids +
                "; but the crash could not be provoked: of {crashes:count child/children} that wrote through a null "
                "pointer, one ended {crash_status}" +
                std::string(e.crash_killed_by_demo ? " (the demo killed it after its deadline)" : ""),
            "{distinct_pids} pids; the crash was not provoked");
    }
    rule.use(text_fact("crash_signal", e.crash_signal, "the fault signal the crashing child died of"));
    rule.use(flag_fact("crasher_died_of_fault", true, "the crashing child died of its own fault"));
    const std::string crash =
        "{crashes_by_fault of crashes} children that wrote through a null pointer died of {crash_signal}, and "
        "{siblings_alive_after_crash of siblings} siblings answered a ping after each";
    if (!e.lost_sibling_status.empty()) {
        // Direct evidence: the kernel reaped the sibling; its status says how it ended.
        rule.use(text_fact("lost_sibling_status", e.lost_sibling_status,
                           "how the first sibling that did not answer had ended"));
        rule.use(count_fact("lost_after_crash", e.lost_after_crash, "the crash after which it was found ended"));
        return rule.refuted(
            "a sibling did not outlive the crashes: after crash {lost_after_crash} it had ended "
            "({lost_sibling_status}); " +
                crash,
            "a sibling ended ({lost_sibling_status}) after crash {lost_after_crash}");
    }
    if (e.siblings_alive_after_crash < e.siblings) {
        // Silent but alive: a stopped or starved sibling tells nothing about the crash.
        rule.use(count_fact("siblings_unresponsive", e.siblings_unresponsive,
                            "siblings that neither answered nor ended by the deadline"));
        rule.use(
            number_fact("answer_deadline", kAnswerDeadlineS * 1e9, "ns", "how long a sibling had to answer a ping"));
        return rule.not_measured(
            crash +
                "; {siblings_unresponsive} neither answered nor ended within {answer_deadline}, which says "
                "nothing about the crash",
            "{siblings_unresponsive:count sibling} silent but alive after a crash");
    }
    if (e.children_reporting_parent < e.children || e.children_kept_own_global < e.children)
        return rule.nuanced(pids + "; " + crash +
                                "; but {children_reporting_parent of children} children reported this process as "
                                "their parent and {children_kept_own_global of children} read back their own global",
                            "{distinct_pids} pids; {crashes_by_fault:count child/children}'s {crash_signal} left "
                            "{siblings_alive_after_crash of "
                            "siblings} siblings answering");
    return rule.confirmed(pids + "; " + crash + ", and the parent went on",
                          "{processes:count process/processes} at once, {distinct_pids} pids; {crashes_by_fault:count "
                          "child/children}'s {crash_signal} left "
                          "{siblings_alive_after_crash of siblings} siblings answering");
}

namespace {
Decision p3_rule(const P3Evidence& e) {
    Rule rule(kP3Rule);
    if (!rule.flag(flag_fact("fork_copies_isolated", e.fork_copies_isolated,
                             "after fork, each side's write at the same address invisible to the other")))
        return rule.refuted("after fork() a write in one process was seen by the other", "a write seen across fork");
    rule.use(count_fact("pointers_handed", e.pointers_handed, "pointers an exec'd receiver dereferenced"));
    rule.use(count_fact("pointers_faulted", e.pointers_faulted, "of them, dereferences that faulted"));
    rule.use(count_fact("pointers_read_own_memory", e.pointers_read_own_memory,
                        "of them, reads of the receiver's own memory"));
    rule.use(count_fact("pointers_reached_sender", e.pointers_reached_sender, "of them, reads of the sender's data"));
    const std::string pointers =
        "of {pointers_handed} pointers handed to an exec'd receiver, {pointers_faulted} faulted and "
        "{pointers_read_own_memory} read the receiver's own memory";
    if (e.pointers_reached_sender > 0)
        return rule.refuted("a pointer handed to another process read the sender's data: " + pointers +
                                ", {pointers_reached_sender} the sender's data",
                            "a handed pointer read the sender's data");
    rule.use(count_fact("unprivileged_attempts", e.unprivileged_attempts, "kernel reads tried without the privilege"));
    rule.use(count_fact("unprivileged_allowed", e.unprivileged_allowed, "of them, allowed"));
    rule.use(count_fact("unprivileged_refused", e.unprivileged_attempts - e.unprivileged_allowed, "of them, refused"));
    // As root whose helper could not drop to another uid, and with CAP_SYS_PTRACE, no reader went
    // without the privilege: the sentence says so instead of "0 of 0 refused".
    const bool unprivileged_tried = e.unprivileged_attempts > 0;
    if (unprivileged_tried) rule.use(text_fact("unprivileged_reader", e.unprivileged_reader, "who tried without it"));
    const std::string base =
        "after fork the same address held different data in each process; " + pointers +
        (unprivileged_tried
             ? "; kernel reads by {unprivileged_reader}: {unprivileged_refused of unprivileged_attempts} refused"
             : "; no kernel read could be tried without the privilege");
    if (e.unprivileged_allowed > 0)
        return rule.refuted(
            "{unprivileged_allowed} of {unprivileged_attempts} kernel reads by {unprivileged_reader} were allowed "
            "without the privilege",
            "kernel reads: {unprivileged_allowed of unprivileged_attempts} allowed without privilege");
    rule.use(count_fact("privileged_attempts", e.privileged_attempts, "kernel reads tried with the privilege"));
    rule.use(count_fact("privileged_allowed", e.privileged_allowed, "of them, allowed"));
    rule.use(flag_fact("shared_memory_works", e.shared_memory_works,
                       "shared memory, named and inherited, carried data both ways"));
    const std::string summary =
        "fork: same address, own data; kernel reads: " +
        std::string(unprivileged_tried ? "{unprivileged_refused of unprivileged_attempts} refused without privilege"
                                       : "not tried without privilege") +
        (e.privileged_attempts > 0 ? ", {privileged_allowed of privileged_attempts} allowed with it"
                                   : ", no reader here held ptrace rights over its target");
    if (e.privileged_allowed > 0) {
        rule.use(text_fact("privileged_reader", e.privileged_reader, "whose privilege opened the door"));
        return rule.nuanced(
            base +
                "; but {privileged_allowed of privileged_attempts} reads by {privileged_reader} were allowed: the "
                "kernel enforces isolation, yet lets a reader with ptrace rights across; shared memory, the "
                "sanctioned way through, works: {shared_memory_works}",
            summary);
    }
    return rule.confirmed(base + "; shared memory, the sanctioned way through, works: {shared_memory_works}", summary);
}

}  // namespace

// "Would be refuted by" names only what the run tried: without a reader lacking the privilege, an
// unprivileged read refutes nothing here.
Decision decide_p3(const P3Evidence& e) {
    Decision d = p3_rule(e);
    if (e.unprivileged_attempts == 0)
        d.refuted_by =
            "a write seen across fork, or a handed pointer reaching the sender's data (no reader without the privilege "
            "could be tried here, so an unprivileged read was not)";
    return d;
}

}  // namespace proclab::process_isolation
