#include "glossary.hpp"

#include "proclab/render.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

namespace proclab::suite {

const std::vector<GlossaryTerm>& glossary() {
    static const std::vector<GlossaryTerm> terms{
        {"confirmed",
         "confirmed",
         {"confirmed"},
         "A verdict: this run's measurements support the claim as the notes put it, by the rule's stated threshold."},
        {"nuanced",
         "nuanced",
         {"nuanced"},
         "A verdict: true, with a qualification the measurements show (root can read another process's memory; code "
         "that "
         "releases CPython's GIL runs in parallel). The reason says which."},
        {"not-measured",
         "not-measured",
         {"not-measured"},
         "A verdict: this run could not decide, and the reason says why: no privilege to try, one CPU only, no "
         "python3, too much "
         "interference, or a figure below its floor."},
        {"refuted",
         "refuted",
         {"refuted"},
         "A verdict: this run observed directly what the claim forbids (each rule names that observation as \"would be "
         "refuted "
         "by\"). Never from a derived number that noise or load can move."},
        {"guarantee",
         "guarantee of Linux",
         {"guarantee of Linux"},
         "A claim Linux guarantees by design (an address space per process, a thread_local instance per thread): the "
         "run "
         "demonstrates it, and the rule still names what would refute it."},
        {"instrument",
         "instrument",
         {"instrument"},
         "A demo that measures and decides no claim (context_switch, ipc_cost, core_to_core, address_space): it prices "
         "what other demos "
         "decide."},
        {"trial",
         "trial",
         {"trials", "trial"},
         "One independent repetition of a decisive measurement, decided on its own with the interference around it. A "
         "verdict "
         "comes from R trials (5; 3 with --quick): refuted only if every trial refuted, otherwise the majority; \"[5 "
         "of 5 "
         "trials]\" says how many agreed."},
        {"interference",
         "interference",
         {"interference"},
         "What else used the CPUs while a trial ran: other tasks' run time and a virtual machine's steal time, as a "
         "share of the "
         "CPUs' capacity (from /proc/stat and the demo's own schedstat). Above a claim's margin the verdict is "
         "not-measured: a busy "
         "machine never refutes a claim."},
        {"steal",
         "steal time",
         {"steal time", "steal"},
         "Time the hypervisor gave this virtual CPU's host CPU to something else while the guest wanted to run "
         "(/proc/stat's steal "
         "column). Inside the guest it looks like a gap in a task's run."},
        {"floor",
         "floor",
         {"floors", "floor"},
         "The least a figure can physically be: the clock's resolution, a cache line's trip between the two CPUs, "
         "memcpy of the "
         "same bytes. A figure below its floor is a measurement error, not a result: the rule says not-measured and "
         "quotes both "
         "numbers."},
        {"ceiling",
         "ceiling",
         {"ceilings", "ceiling"},
         "The most a figure can be: a speedup of N with N threads, as many CPUs busy as are allowed, memcpy's "
         "bandwidth. Above it "
         "(beyond a stated tolerance): not-measured, both numbers quoted."},
        {"implausible",
         "implausible",
         {"implausible"},
         "A fact below its floor or above its ceiling, beyond the stated tolerance."},
        {"round-trip",
         "round trip",
         {"round trips", "round trip"},
         "A token or message sent from one task to another and answered back: two hops. Timed on CLOCK_MONOTONIC from "
         "the send "
         "to the answer's arrival; a figure is per round trip unless its column says per hop."},
        {"hop",
         "hop",
         {"hops", "hop"},
         "One direction of a round trip: µs per hop = half a round trip. On one CPU a hop over a blocking pipe or "
         "futex includes "
         "one context switch."},
        {"hand-off",
         "hand-off",
         {"hand-offs", "hand-off"},
         "Passing something from one thread or CPU to another. A line hand-off: one cache line's trip between two "
         "CPUs, one way "
         "(core_to_core). A pool hand-off: a task queued by the caller and run by a worker thread, timed until the "
         "caller sees it "
         "done."},
        {"two-rings",
         "shape of two rings",
         {"shape of two rings"},
         "A token handed one way on one cache line and answered on another: what a channel with a ring in each "
         "direction costs "
         "before the rings do any work, beside the one-line floor."},
        {"context-switch",
         "context switch",
         {"context switches", "context switch"},
         "The kernel taking a CPU from one task and giving it to another. Voluntary: the task blocked; involuntary: it "
         "was "
         "preempted (counted per task in /proc/PID/status)."},
        {"slice",
         "slice",
         {"time slices", "time slice", "slices", "slice"},
         "A run interval: the time a worker ran on a CPU between two gaps (a step of its own clock longer than the "
         "calibrated gap "
         "threshold). Its median is the slice as observed, in ms."},
        {"tick",
         "tick",
         {"ticks", "tick"},
         "The scheduler's timer interrupt, CONFIG_HZ times a second on a busy CPU (every 4 ms at HZ=250). Observed as "
         "local timer "
         "interrupts per busy CPU-second in /proc/interrupts; where preemption waits for it, slices end at ticks."},
        {"lateness",
         "lateness",
         {"lateness"},
         "How late a sleeper woke for its absolute deadline (cyclictest's figure): the timer's slack and expiry, the "
         "wake-up, "
         "and any wait for a CPU (sched_latency)."},
        {"run-delay",
         "run_delay",
         {"run_delay"},
         "The time a task was runnable but not running, as the kernel counts it (/proc/PID/task/TID/schedstat, second "
         "field); "
         "per wake-up, the part of a latency spent waiting for a CPU (what runqlat shows)."},
        {"turn",
         "turn of the run queue",
         {"turn of the run queue"},
         "What a woken task may wait on a busy CPU before it runs: ceil(runnable tasks / CPUs) slices of at most one "
         "tick each "
         "(sched_latency's bound for P2)."},
        {"address-space",
         "address space",
         {"address spaces", "address space"},
         "The memory a process sees: its own map of virtual addresses to pages, built by the kernel. Every process has "
         "one; the threads of a process share it, so one thread's pointer is valid, and writable, in another."},
        {"page-fault",
         "page fault",
         {"page faults", "page fault", "minor faults", "minor fault"},
         "What the CPU raises when an address has no page behind it yet, or a page that may not be written: the "
         "kernel then supplies one (a minor fault when no disk is read). The first touch of fresh memory, and the "
         "first write to a copy-on-write page, each fault once (counted in getrusage and /proc/PID/stat)."},
        {"copy-on-write",
         "copy-on-write",
         {"copy-on-write", "COW"},
         "How fork copies memory: parent and child share every page, read-only, until one of them writes; that write "
         "faults, and the kernel gives the writer its own copy of that page alone. A child's write is never seen by "
         "its parent (fork_semantics)."},
        {"dumpable",
         "dumpable",
         {"non-dumpable", "dumpable"},
         "A process flag (prctl PR_SET_DUMPABLE). A non-dumpable process's memory and /proc files are closed to "
         "ptrace-style access by anyone without CAP_SYS_PTRACE, its own user included; set-uid programs start so."},
        {"yama",
         "Yama",
         {"Yama ptrace_scope", "Yama"},
         "A Linux security module that narrows who may trace whom (kernel.yama.ptrace_scope): 0, any process of the "
         "same user; 1, only an ancestor, or a process the target named; 2, only with CAP_SYS_PTRACE; 3, no one, root "
         "included. "
         "process_vm_readv and /proc/PID/mem follow the same rule."},
        {"cap-sys-ptrace",
         "CAP_SYS_PTRACE",
         {"CAP_SYS_PTRACE"},
         "The capability to trace, and read the memory of, any process: root has it unless a container dropped it. "
         "Yama's scope 3 refuses even it."},
        {"gil",
         "GIL",
         {"GIL"},
         "CPython's global interpreter lock: one thread at a time runs Python bytecode, and the holder hands it over "
         "every switch interval (5 ms) or when it blocks. Threads of pure Python code take turns; code that releases "
         "it (I/O, many C extensions) runs in parallel. threads_parallel emulates it in C++ and times real CPython "
         "beside it."},
        {"cfs-eevdf",
         "CFS, EEVDF",
         {"EEVDF", "CFS"},
         "Linux's schedulers for ordinary tasks: CFS (the Completely Fair Scheduler, to kernel 6.5; Debian 12's 6.1 "
         "runs it) and EEVDF (Earliest Eligible Virtual Deadline First, since 6.6). Both share CPU time in proportion "
         "to weight (nice); they differ in how long a slice runs and who goes next."},
        {"thp",
         "THP",
         {"transparent huge pages", "THP"},
         "Transparent huge pages: the kernel backs large anonymous mappings with huge pages (2 MiB on x86) where it "
         "can, so one "
         "fault supplies 512 small pages' worth; a fault count then depends on it "
         "(/sys/kernel/mm/transparent_hugepage/enabled)."},
        {"cv",
         "cv",
         {"cv"},
         "The coefficient of variation: a sample's standard deviation over its mean (10%: the values spread by about "
         "a tenth of their size)."},
        {"tlb-shootdown",
         "TLB shootdown",
         {"TLB shootdowns", "TLB shootdown"},
         "An interrupt the kernel sends to another CPU that runs the same address space, to make it drop cached "
         "translations of "
         "memory just unmapped; counted per CPU on the TLB line of /proc/interrupts (x86). Threads need them, "
         "processes do not "
         "(address_space)."},
        {"share",
         "share",
         {"shares", "share"},
         "A worker's run time divided by its own lifetime (from its start to its end): 1 means it never waited for a "
         "CPU; K "
         "workers on N < K CPUs get about N/K each."},
        {"cpus-busy",
         "CPUs busy",
         {"CPUs busy"},
         "All workers' run time divided by the wall time: how many CPUs they kept busy on average (at most the CPUs "
         "allowed). "
         "A count of CPUs, not a share of them: see capacity used."},
        {"capacity-used",
         "capacity used",
         {"capacity used"},
         "The workers' CPU time divided by the CPUs' capacity (the allowed CPUs times the wall time) while every "
         "worker still "
         "had work: a share, 1 when no CPU idled (time_slicing's P4)."},
        {"jain",
         "Jain's index",
         {"Jain's index", "Jain index", "Jain"},
         "Jain's fairness index of the workers' shares, (sum of x)^2 / (n x sum of x^2): 1 when all are equal, 1/n "
         "when one has "
         "everything."},
        {"speedup",
         "speedup",
         {"speedups", "speedup"},
         "Wall time of a fixed job with one thread divided by its wall time with N threads: N at best (the ceiling)."},
        {"overlap",
         "overlap",
         {"overlap"},
         "The share of the wall time during which two or more of the threads were running at the same instant (each "
         "thread logs "
         "its running intervals)."},
        {"p99", "p99", {"p99"}, "The 99th percentile: 99% of the samples are at or below it. The median is p50."},
        {"beyond-noise",
         "beyond noise",
         {"beyond noise"},
         "In a comparison of runs: a metric whose two distributions differ by a Mann-Whitney U test (p < 0.05) and "
         "whose ratio is "
         "outside 1 ± 5%."},
    };
    return terms;
}

std::string glossary_markdown(bool page) {
    std::string md = page ? "# Glossary\n\nThe words proclab's reports use, each linked from its first use in "
                            "report.md and report.html "
                            "(this page is `proclab glossary --markdown`).\n\n"
                          : "## Glossary\n\n";
    for (const auto& t : glossary())
        md += fmt::format("- <a id=\"g-{}\"></a>**{}**: {}\n", t.anchor, t.term, t.definition);
    return md;
}

std::string glossary_html() {
    std::string h = "<h2 id=\"glossary\">Glossary</h2>\n<dl class=\"glossary\">\n";
    for (const auto& t : glossary())
        h += fmt::format("<dt id=\"g-{}\">{}</dt><dd>{}</dd>\n", t.anchor, html_escape(t.term),
                         html_escape(t.definition));
    return h + "</dl>\n";
}

namespace {

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return out;
}

// Links the first use of each term not yet linked in one run of plain text.
template <typename MakeLink>
std::string link_in_text(std::string_view text, std::set<std::string>& linked, MakeLink make_link) {
    struct Match {
        std::size_t at, length;
        const GlossaryTerm* term;
    };
    const std::string low = lower(text);
    std::vector<Match> matches;
    for (const auto& t : glossary()) {
        if (linked.count(t.anchor)) continue;
        std::optional<Match> first;
        for (const auto& form : t.forms) {
            const std::string f = lower(form);
            for (std::size_t at = low.find(f); at != std::string::npos; at = low.find(f, at + 1)) {
                const bool starts = at == 0 || !word_char(low[at - 1]);
                const bool ends = at + f.size() == low.size() || !word_char(low[at + f.size()]);
                if (starts && ends) {
                    if (!first || at < first->at) first = Match{at, f.size(), &t};
                    break;
                }
            }
        }
        if (first) matches.push_back(*first);
    }
    std::sort(matches.begin(), matches.end(), [](const Match& a, const Match& b) { return a.at < b.at; });
    std::string out;
    std::size_t done = 0;
    for (const auto& m : matches) {
        if (m.at < done) continue;  // inside an earlier, longer term: that one is linked here, this one later
        out.append(text.substr(done, m.at - done));
        out += make_link(text.substr(m.at, m.length), m.term->anchor);
        linked.insert(m.term->anchor);
        done = m.at + m.length;
    }
    out.append(text.substr(done));
    return out;
}

}  // namespace

std::string link_first_uses_markdown(const std::string& markdown) {
    std::set<std::string> linked;
    auto link = [](std::string_view word, const std::string& anchor) {
        return fmt::format("[{}](#g-{})", word, anchor);
    };
    std::string out;
    bool fenced = false;
    std::size_t start = 0;
    while (start < markdown.size()) {
        std::size_t end = markdown.find('\n', start);
        if (end == std::string::npos) end = markdown.size();
        const std::string_view line(markdown.data() + start, end - start);
        const bool fence = line.rfind("```", 0) == 0;
        if (fence) fenced = !fenced;
        if (fence || fenced || line.rfind("#", 0) == 0 || line.rfind("![", 0) == 0 || line.rfind("|---", 0) == 0) {
            out.append(line);
        } else {
            // Plain runs only: code spans, links and inline HTML are copied as they are.
            std::size_t plain = 0, i = 0;
            auto flush = [&](std::size_t upto) { out += link_in_text(line.substr(plain, upto - plain), linked, link); };
            while (i < line.size()) {
                std::size_t skip_to = std::string_view::npos;
                if (line[i] == '`') {
                    const auto close = line.find('`', i + 1);
                    if (close != std::string_view::npos) skip_to = close + 1;
                } else if (line[i] == '[') {
                    // A link [text](target) only: "[3 of 3 trials]" is plain text.
                    const auto mid = line.find(']', i);
                    const auto close = mid != std::string_view::npos && mid + 1 < line.size() && line[mid + 1] == '('
                                           ? line.find(')', mid)
                                           : std::string_view::npos;
                    if (close != std::string_view::npos) skip_to = close + 1;
                } else if (line[i] == '<') {
                    const auto close = line.find('>', i);
                    if (close != std::string_view::npos) skip_to = close + 1;
                }
                if (skip_to == std::string_view::npos) {
                    ++i;
                    continue;
                }
                flush(i);
                out.append(line.substr(i, skip_to - i));
                plain = i = skip_to;
            }
            flush(line.size());
        }
        if (end < markdown.size()) out += '\n';
        start = end + 1;
    }
    return out;
}

std::string link_first_uses_html(const std::string& html) {
    std::set<std::string> linked;
    auto link = [](std::string_view word, const std::string& anchor) {
        return fmt::format("<a class=\"term\" href=\"#g-{}\">{}</a>", anchor, word);
    };
    // Text inside these stays as it is: links, code, headings, the page's head, a <summary> (a click
    // there opens the details).
    static const std::set<std::string> kept{"a",  "code", "pre", "style",   "script", "title",
                                            "h1", "h2",   "h3",  "summary", "th"};
    std::string out;
    int inside_kept = 0;
    std::size_t i = 0;
    while (i < html.size()) {
        const auto tag = html.find('<', i);
        const auto text_end = tag == std::string::npos ? html.size() : tag;
        const std::string_view text(html.data() + i, text_end - i);
        out += inside_kept ? std::string(text) : link_in_text(text, linked, link);
        if (tag == std::string::npos) break;
        const auto close = html.find('>', tag);
        const auto tag_end = close == std::string::npos ? html.size() : close + 1;
        const std::string_view markup(html.data() + tag, tag_end - tag);
        std::size_t name_at = 1 + (markup.size() > 1 && markup[1] == '/');
        std::size_t name_end = name_at;
        while (name_end < markup.size() && std::isalnum(static_cast<unsigned char>(markup[name_end]))) ++name_end;
        const std::string name = lower(markup.substr(name_at, name_end - name_at));
        if (kept.count(name)) inside_kept += markup[1] == '/' ? -1 : 1;
        inside_kept = std::max(inside_kept, 0);
        out.append(markup);
        i = tag_end;
    }
    return out;
}

}  // namespace proclab::suite
