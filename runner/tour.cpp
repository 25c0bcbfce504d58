#include "tour.hpp"

#include "suite.hpp"

#include "proclab/claims.hpp"
#include "proclab/exit_codes.hpp"
#include "proclab/render.hpp"
#include "proclab/units.hpp"

#include <algorithm>
#include <cctype>
#include <istream>
#include <ostream>

#include <fmt/format.h>
#include <unistd.h>

namespace proclab::suite {

const std::vector<TourStop>& tour_stops() {
    static const std::vector<TourStop> stops{
        {.id = "processes",
         .title = "processes and isolation",
         .demo = "process_isolation",
         .asked_claim = "P3",
         .question = "A process holds a secret in its memory. Can another process read it?",
         .choices = {{"no: each process has its own memory, and the kernel refuses to let another read it",
                      Verdict::confirmed},
                     {"yes: memory is memory, any process can read any other's", Verdict::refuted}},
         .try_this = {{"{bin}/isolation_matrix --quick", "who may signal, trace or read whom"},
                      {"setpriv --reuid=65534 --regid=65534 --clear-groups {bin}/process_isolation --quick",
                       "the same, as an unprivileged user (nobody)"}}},
        {.id = "slices",
         .title = "time slices",
         .demo = "time_slicing",
         .asked_claim = "P4",
         .question = "Twice as many busy workers as CPUs. How many of them run at any one instant?",
         .choices = {{"as many as there are CPUs; the others wait for their turn", Verdict::confirmed},
                     {"all of them at once", Verdict::refuted}},
         .try_this = {{"{bin}/time_slicing --workers 16", "16 workers: shorter turns each"},
                      {"taskset -c 0 {bin}/time_slicing --quick --kind threads",
                       "threads instead of processes, on one CPU"}}},
        {.id = "threads",
         .title = "threads and shared memory",
         .demo = "thread_memory",
         .asked_claim = "T4",
         .question = "One thread hands another the address of its local variable. Can the other write to it?",
         .choices = {{"yes: threads share one address space", Verdict::confirmed},
                     {"no: each thread's memory is its own", Verdict::refuted}},
         .try_this = {{"{bin}/thread_memory --threads 8", "more threads: more lost updates"},
                      {"{bin}/address_space --quick", "what sharing one address space costs"}}},
        {.id = "thread_local",
         .title = "thread_local",
         .demo = "thread_local_storage",
         .asked_claim = "T5",
         .question = "Four threads each add 1000 to a thread_local counter. What does each thread read at the end?",
         .choices = {{"1000: each thread has its own counter", Verdict::confirmed},
                     {"4000: they share one", Verdict::refuted}},
         .try_this = {{"{bin}/thread_local_storage --threads 16", "16 threads: 16 instances"}}},
        {.id = "fork",
         .title = "fork",
         .demo = "fork_semantics",
         .asked_claim = "T6",
         .question = "A process runs 4 threads and one of them calls fork(). How many threads does the child have?",
         .choices = {{"1: fork copies only the thread that called it", Verdict::confirmed},
                     {"4: the child gets every thread", Verdict::refuted}},
         .try_this = {{"{bin}/fork_semantics --sizes 1M,256M", "copy-on-write as the region grows"},
                      {"perf stat -e minor-faults {bin}/fork_semantics --quick",
                       "the kernel's own count of those faults"}}},
        {.id = "pools",
         .title = "creation costs and pools",
         .demo = "creation_cost",
         .asked_claim = "T8",
         .question = "A small task: is it cheaper to create a thread for it, or to hand it to a thread that already "
                     "runs (a pool)?",
         .choices = {{"the pool: creating a thread costs far more than a hand-off", Verdict::confirmed},
                     {"a new thread: creating one is as cheap as a hand-off", Verdict::refuted}},
         .try_this = {{"{bin}/creation_cost --ops thread,pool,fork", "a thread, a hand-off and a fork side by side"},
                      {"taskset -c 0 {bin}/creation_cost --quick", "on one CPU, where the pool's worker shares it"}}},
        {.id = "gil",
         .title = "the GIL",
         .demo = "threads_parallel",
         .asked_claim = "T9",
         .question = "Two threads of pure Python on two free CPUs. How many CPUs do they keep busy?",
         .choices = {{"about one: the GIL lets one run at a time, and they take turns", Verdict::confirmed},
                     {"about two: each thread gets a CPU", Verdict::refuted}},
         .try_this = {{"taskset -c 0 {bin}/threads_parallel --quick", "on one CPU even C++ threads take turns"},
                      {"{bin}/threads_parallel --switch-interval 1", "a shorter turn under the emulated GIL"}}},
    };
    return stops;
}

const TourStop* find_stop(std::string_view id) {
    for (const auto& s : tour_stops())
        if (s.id == id) return &s;
    return nullptr;
}

GuessOutcome judge_guess(std::optional<std::size_t> choice, const TourStop& stop, Verdict measured) {
    if (!choice || *choice >= stop.choices.size()) return GuessOutcome::not_asked;
    switch (measured) {
        // A nuanced claim holds with a qualification: a guess that it holds is partly right, a
        // guess that it fails is wrong.
        case Verdict::nuanced:
            return stop.choices[*choice].implies == Verdict::refuted ? GuessOutcome::missed : GuessOutcome::partly;
        case Verdict::not_measured: return GuessOutcome::undecided;
        case Verdict::confirmed:
        case Verdict::refuted: break;
    }
    return stop.choices[*choice].implies == measured ? GuessOutcome::held : GuessOutcome::missed;
}

std::string_view to_string(GuessOutcome g) {
    switch (g) {
        case GuessOutcome::held: return "held";
        case GuessOutcome::missed: return "missed";
        case GuessOutcome::partly: return "partly";
        case GuessOutcome::undecided: return "undecided";
        case GuessOutcome::not_asked: return "not asked";
    }
    return "?";
}

std::optional<std::size_t> parse_choice(std::string_view line, std::size_t choices) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    if (line.size() != 1) return std::nullopt;
    const auto index = static_cast<std::size_t>(std::tolower(static_cast<unsigned char>(line[0])) - 'a');
    if (index >= choices) return std::nullopt;
    return index;
}

namespace {

// A command to copy within `width` columns: broken at spaces, every line but the last ending in
// " \\" so that the lines still paste into a shell as one command (two columns kept for it).
std::string shell_lines(const std::string& command, std::size_t width, const std::string& indent) {
    std::string out = indent;
    for (const char c : wrap(command, width > 2 ? width - 2 : width, indent + "  ")) {
        if (c == '\n') out += " \\";
        out += c;
    }
    return out;
}

std::string letter(std::size_t i) { return std::string(1, static_cast<char>('a' + i)); }

// What a guess came to, in words that quote the verdict it was judged by.
std::string guess_sentence(GuessOutcome g, const TourStop& stop, std::optional<std::size_t> choice, Verdict v) {
    const std::string claim = std::string(stop.asked_claim);
    switch (g) {
        case GuessOutcome::held:
            return fmt::format("Your guess ({}) held: {} came out {}.", letter(*choice), claim, to_string(v));
        case GuessOutcome::missed:
            return v == Verdict::nuanced
                       ? fmt::format(
                             "Your guess ({}) missed: {} came out nuanced, true with the qualification "
                             "its line above says.",
                             letter(*choice), claim)
                       : fmt::format("Your guess ({}) missed: {} came out {}.", letter(*choice), claim, to_string(v));
        case GuessOutcome::partly:
            return fmt::format("Your guess ({}) meets a qualification: {} came out nuanced, as its line above says.",
                               letter(*choice), claim);
        case GuessOutcome::undecided:
            return fmt::format("This machine could not decide {}: its line above says why.", claim);
        case GuessOutcome::not_asked: break;
    }
    return "";
}

struct StopOutcome {
    const TourStop* stop = nullptr;
    std::optional<std::size_t> choice = std::nullopt;
    std::optional<Verdict> verdict = std::nullopt;  // the asked claim's, when the demo ran
    GuessOutcome outcome = GuessOutcome::not_asked;
};

}  // namespace

int run_tour(const std::filesystem::path& dir, const TourOptions& o, std::istream& in, std::ostream& out, int width) {
    const auto w = static_cast<std::size_t>(std::max(40, width));
    const bool ask = o.prompt && ::isatty(STDIN_FILENO) == 1;
    // The demos' folder as the student would type it: relative to here when it is below here.
    std::string bin = dir.string();
    std::error_code ec;
    if (const auto relative = std::filesystem::relative(dir, ec);
        !ec && !relative.empty() && relative.string().rfind("..", 0) != 0)
        bin = relative.string();
    std::vector<const TourStop*> stops;
    for (const auto& s : tour_stops())
        if (o.stops.empty() || std::find(o.stops.begin(), o.stops.end(), s.id) != o.stops.end()) stops.push_back(&s);
    std::vector<StopOutcome> outcomes;
    bool failed = false;
    out << wrap(fmt::format("A tour of the notes in {}: at each, what the notes say, {}the demo that tests it on "
                            "this machine, and what it found.",
                            counted(static_cast<long long>(stops.size()), "stop"), ask ? "your prediction, " : ""),
                w, "")
        << "\n";
    for (std::size_t k = 0; k < stops.size(); ++k) {
        const TourStop& stop = *stops[k];
        StopOutcome result{.stop = &stop};
        out << "\n" << fmt::format("Stop {} of {}: {} ({})", k + 1, stops.size(), stop.title, stop.demo) << "\n";
        const auto described = describe_demo(dir, std::string(stop.demo));
        out << "  The notes say:\n";
        for (const auto& id : described ? described->claims : std::vector<std::string>{std::string(stop.asked_claim)})
            if (const ClaimInfo* c = find_claim(id))
                out << "    " << wrap(fmt::format("{}: {}", id, c->statement), w, "        ") << "\n";
        out << "  " << wrap("Predict: " + std::string(stop.question), w, "  ") << "\n";
        for (std::size_t i = 0; i < stop.choices.size(); ++i)
            out << "    " << wrap(fmt::format("{}) {}", letter(i), stop.choices[i].text), w, "       ") << "\n";
        if (ask) {
            out << fmt::format("  your guess [a-{}, Enter to skip]: ", letter(stop.choices.size() - 1)) << std::flush;
            std::string line;
            if (std::getline(in, line)) result.choice = parse_choice(line, stop.choices.size());
        }
        std::vector<std::string> extra;
        if (o.quick) extra.emplace_back("--quick");
        out << fmt::format("  Running {}{} ...", stop.demo, o.quick ? " --quick" : "") << std::flush;
        const DemoRun run = run_demo(dir, std::string(stop.demo), extra, o.timeout_s);
        out << fmt::format(" {:.2f} s\n", run.wall_s);
        if (run.status != RunStatus::ok || !run.result) {
            out << "  " << wrap(fmt::format("It did not finish: {} {}", to_string(run.status), run.detail), w, "  ")
                << "\n";
            failed = true;
            outcomes.push_back(result);
            continue;
        }
        const Result& r = *run.result;
        out << "  What this machine did:\n";
        for (const auto& d : r.verdicts) {
            out << "    "
                << wrap(fmt::format("{} {}: {}", d.claim, to_string(d.verdict), d.summary_text()), w, "      ") << "\n";
            if (d.claim == stop.asked_claim) result.verdict = d.verdict;
        }
        if (result.verdict) {
            result.outcome = judge_guess(result.choice, stop, *result.verdict);
            if (result.outcome != GuessOutcome::not_asked)
                out << "  " << wrap(guess_sentence(result.outcome, stop, result.choice, *result.verdict), w, "  ")
                    << "\n";
        }
        if (!r.figures.empty()) {  // the demo's own picture: the terminal timeline
            const Figure& f = r.figures.front();
            out << "  " << wrap(f.title, w, "  ") << "\n";
            for (const auto& line : f.lines) out << "  " << line << "\n";
            if (!f.note.empty()) out << "  " << wrap(f.note, w, "  ") << "\n";
        }
        out << "  Try this:\n";
        for (const auto& attempt : stop.try_this) {
            std::string text(attempt.command);
            for (auto at = text.find("{bin}"); at != std::string::npos; at = text.find("{bin}"))
                text.replace(at, 5, bin);
            out << "    # " << wrap(attempt.shows, w, "    # ") << "\n" << shell_lines(text, w, "    ") << "\n";
        }
        outcomes.push_back(result);
    }
    out << "\nWhat you predicted, and what this machine did\n";
    TextTable t({"stop", "claim", "your guess", "this machine", "your guess was"});
    for (const auto& s : outcomes)
        t.add_row({std::string(s.stop->id), std::string(s.stop->asked_claim), s.choice ? letter(*s.choice) : "-",
                   s.verdict ? std::string(to_string(*s.verdict)) : "did not run", std::string(to_string(s.outcome))});
    out << t.render("  ", w);
    out << "  "
        << wrap(
               "Every claim with its evidence: proclab run; every rule: proclab rules; the words: proclab "
               "glossary.",
               w, "  ")
        << "\n";
    return failed ? kExitHarness : kExitOk;
}

}  // namespace proclab::suite
