// proclab: the runner. `proclab list` shows every demo and the claims it covers; `proclab run`
// runs each demo as a child process (its own process group, a hard timeout), reads its JSON and
// prints one table of every claim P1..T9 with its verdict and the evidence. `proclab stability N`
// runs the suite N times and shows how often each verdict held; `proclab crosscheck` puts proclab's
// headline figures beside perf bench, stress-ng, cyclictest and hackbench measuring the same thing.
//
// Exit codes: 0 every demo ran; 1 a claim was refuted (with --strict); 2 usage error;
// 3 a demo failed, crashed or timed out, or the runner itself failed.

#include "compare.hpp"
#include "fleet.hpp"
#include "crosscheck.hpp"
#include "glossary.hpp"
#include "tour.hpp"
#include "html.hpp"
#include "plots.hpp"
#include "report.hpp"
#include "stability.hpp"
#include "suite.hpp"

#include "proclab/claims.hpp"
#include "proclab/cli.hpp"
#include "proclab/demo.hpp"
#include "proclab/environment.hpp"
#include "proclab/output_file.hpp"
#include "proclab/clock.hpp"
#include "proclab/spawn.hpp"
#include "proclab/units.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <sys/prctl.h>
#include <unistd.h>

using namespace proclab;

namespace {

struct RunnerOptions {
    std::vector<std::string> demos;
    bool quick = false;
    bool strict = false;
    bool json = false;  // --json given (to stdout without FILE or with -)
    std::string json_path;
    // No FILE, "-", or a path that is stdout itself (/dev/stdout): the JSON alone on stdout.
    bool json_to_stdout() const { return json && (json_path.empty() || json_path == "-" || names_stdout(json_path)); }
    double timeout_s = 120;
    std::optional<std::string> report_dir;  // `proclab report [DIR]`
    bool crosscheck_in_report = true;
    int stability_runs = 0;                  // `proclab stability N`
    int cpu = -1;                            // `proclab crosscheck --cpu`
    std::string baseline;                    // `proclab run --baseline FILE`
    std::vector<std::string> compare_files;  // `proclab compare A B [C...]`
    bool compare_all = false;
    bool fleet = false, with_corpus = false;  // `proclab compare --fleet`, `--with-corpus`
    std::string corpus_dir;
    std::string markdown_path, plot_path, html_path;
};

int usage_error(const std::string& message, const char* hint = " (see --help)") {
    std::string line = message;
    std::replace(line.begin(), line.end(), '\n', ' ');
    std::fprintf(stderr, "proclab: error: %s%s\n", line.c_str(), hint);
    return kExitUsage;
}

// `proclab rules`: every claim's rule as its demo declares it (--describe): what it reads, what
// would refute it, the verdicts it can reach on Linux and the observation behind each. With
// --markdown it is docs/verdict-rules.md, which a test keeps equal to this output; with --json the
// rules as data (the docs test rules.every_outcome_reached reads the test named beside each outcome).
int list_rules(const std::filesystem::path& dir, bool markdown, bool json) {
    std::vector<RuleInfo> rules;
    for (const auto& name : suite::demo_names())
        if (auto d = suite::describe_demo(dir, name)) rules.insert(rules.end(), d->rules.begin(), d->rules.end());
    std::stable_sort(rules.begin(), rules.end(), [](const RuleInfo& a, const RuleInfo& b) {
        auto rank = [](const std::string& id) {
            const auto all = all_claims();
            return std::find_if(all.begin(), all.end(), [&](const ClaimInfo& c) { return c.id == id; }) - all.begin();
        };
        return rank(a.claim) < rank(b.claim);
    });
    if (json) std::cout << Json(rules).dump(2) << "\n";
    else
        std::cout << (markdown ? suite::rules_markdown(rules)
                               : suite::render_rules(rules, terminal_width(STDOUT_FILENO)));
    return kExitOk;
}

int list_demos(const std::filesystem::path& dir) {
    TextTable t({"demo", "claims", "what it shows"});
    for (const auto& name : suite::demo_names()) {
        auto d = suite::describe_demo(dir, name);
        if (!d) {
            t.add_row({name, "?", "(could not run " + name + " --describe)"});
            continue;
        }
        t.add_row(
            {name, d->claims.empty() ? "- (instrument)" : fmt::format("{}", fmt::join(d->claims, ", ")), d->title});
    }
    std::cout << t.render("  ", static_cast<std::size_t>(terminal_width(STDOUT_FILENO)));
    return kExitOk;
}

// -j,--json [FILE] as every proclab executable takes it: JSON to FILE, or with no FILE or "-" to
// stdout alone (what is meant for people goes to stderr then).
void add_json_option(CLI::App* command, RunnerOptions& o, const std::string& what) {
    command
        ->add_option(
            "-j,--json", o.json_path,
            fmt::format("Write {} as JSON to FILE, or to stdout (the text to stderr) without FILE or with -", what))
        ->expected(0, 1)
        ->type_name("[FILE]");
}

// Where the text for people goes: stdout, unless JSON goes there.
int text_fd(const RunnerOptions& o) { return o.json_to_stdout() ? STDERR_FILENO : STDOUT_FILENO; }
std::ostream& text_stream(const RunnerOptions& o) { return o.json_to_stdout() ? std::cerr : std::cout; }

// --json FILE opened before anything runs, so a bad path is a usage error at once (no file is
// left behind: OutputFile commits atomically). Returns the exit code on error. No FILE, or "-":
// stdout (the caller writes there; nothing to open).
std::optional<int> open_json_file(const std::string& path, std::optional<OutputFile>& file) {
    if (path.empty() || path == "-" || names_stdout(path)) return std::nullopt;
    file.emplace(path);
    if (!file->error().empty()) return usage_error("--json: " + file->error(), "");
    return std::nullopt;
}

// Ctrl-C and SIGTERM kill and reap every demo; orphans of a demo come to the runner, which reaps
// them and reports them as left behind.
void become_parent_of_demos() {
    cleanup::install_handlers("proclab");
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

// Runs each demo in turn, with one line of progress per demo on stderr. First, with nothing of
// ours running, the cache-line floors the demos share (handoff.hpp): one per CPU pair per suite,
// handed down in kLineFloorsVariable, and returned for the report.
std::vector<CacheLineHandoff> run_demos(const std::filesystem::path& dir, const std::vector<std::string>& names,
                                        const RunnerOptions& o, const std::string& progress_prefix,
                                        std::vector<suite::DemoRun>& runs,
                                        std::vector<suite::DemoDescription>& described) {
    const auto floors = suite::measure_line_floors(probe_environment().affinity_cpus);
    if (const std::string shared = encode_line_floors(floors); !shared.empty())
        ::setenv(kLineFloorsVariable, shared.c_str(), 1);
    else ::unsetenv(kLineFloorsVariable);  // none measured: each demo measures its own, not a stale one from outside
    std::vector<std::string> extra{"--timeout", fmt::format("{}", o.timeout_s)};
    if (o.quick) extra.push_back("--quick");
    for (std::size_t i = 0; i < names.size(); ++i) {
        std::fprintf(stderr, "%s[%zu/%zu] %s%s ... ", progress_prefix.c_str(), i + 1, names.size(), names[i].c_str(),
                     o.quick ? " --quick" : "");
        std::fflush(stderr);
        auto run = suite::run_demo(dir, names[i], extra, o.timeout_s + 15);
        std::fprintf(stderr, "%s (%.2f s)%s\n", std::string(suite::to_string(run.status)).c_str(), run.wall_s,
                     run.status == suite::RunStatus::ok ? "" : (": " + run.detail).c_str());
        if (!run.result)
            if (auto d = suite::describe_demo(dir, names[i])) described.push_back(*d);
        runs.push_back(std::move(run));
    }
    return floors;
}

std::vector<suite::CrosscheckPair> crosscheck_with_progress(const std::filesystem::path& dir, const RunnerOptions& o) {
    std::cerr << wrap(fmt::format("crosscheck{}: context_switch and sched_latency in {} turns alternating with perf "
                                  "bench, cyclictest and hackbench; creation_cost beside stress-ng (pinned to one "
                                  "CPU) ...",
                                  o.quick ? " --quick" : "", suite::kTurns),
                      static_cast<std::size_t>(terminal_width(STDERR_FILENO)), "  ")
              << std::endl;
    return suite::run_crosscheck(dir, {o.quick, o.cpu, o.timeout_s});
}

int run_crosscheck_command(const std::filesystem::path& dir, const RunnerOptions& o) {
    std::optional<OutputFile> json_file;
    if (const auto error = open_json_file(o.json_path, json_file)) return *error;
    become_parent_of_demos();
    if (o.cpu >= 0) {
        const auto allowed = probe_environment().affinity_cpus;
        if (std::find(allowed.begin(), allowed.end(), o.cpu) == allowed.end())
            return usage_error(
                fmt::format("--cpu {}: not in this process's affinity mask ({})", o.cpu, format_cpu_list(allowed)));
    }
    const auto pairs = crosscheck_with_progress(dir, o);
    text_stream(o) << "proclab beside the reference tools, same machine, in turns\n"
                   << suite::render_text(suite::view_of(pairs), {terminal_width(text_fd(o)), want_colour(text_fd(o))})
                   << std::flush;
    const Json j{{"schema_version", kSchemaVersion}, {"kind", "crosscheck"}, {"pairs", suite::crosscheck_json(pairs)}};
    if (json_file) json_file->commit(j.dump(2) + "\n");
    if (o.json_to_stdout()) std::cout << j.dump(2) << "\n" << std::flush;
    return kExitOk;  // a missing tool or a disagreement is a finding, not a failure
}

int run_stability(const std::filesystem::path& dir, const RunnerOptions& o) {
    std::optional<OutputFile> json_file;
    if (const auto error = open_json_file(o.json_path, json_file)) return *error;
    become_parent_of_demos();
    const auto names = o.demos.empty() ? suite::demo_names() : o.demos;
    std::vector<suite::SuiteRun> runs;
    for (int r = 0; r < o.stability_runs; ++r) {
        suite::SuiteRun run;
        std::vector<suite::DemoDescription> described;
        const Stopwatch clock;
        run_demos(dir, names, o, fmt::format("run {}/{} ", r + 1, o.stability_runs), run.runs, described);
        run.wall_s = clock.elapsed_s();
        run.rows = suite::claim_rows(run.runs, described);
        runs.push_back(std::move(run));
    }
    const auto report = suite::summarize_stability(runs, o.quick);
    text_stream(o) << suite::render_text(suite::view_of(report), {terminal_width(text_fd(o)), want_colour(text_fd(o))})
                   << std::flush;
    if (json_file) json_file->commit(suite::stability_json(report).dump(2) + "\n");
    if (o.json_to_stdout()) std::cout << suite::stability_json(report).dump(2) << "\n" << std::flush;
    return report.failed_demo_runs > 0 ? kExitHarness : kExitOk;
}

// Draws one plot (a comparison's or a fleet's ratios) with the plotting script the runner
// carries. Returns "plot: FILE" or "no plot: why".
std::string draw_plot(const plot::Plot& plot, const std::string& png) {
    if (plot.panels.empty()) return "no plot: nothing to draw (no shared metric has a ratio)";
    const auto python = suite::python_with_matplotlib();
    if (python.empty())
        return "no plot: python3 with matplotlib is not installed (Debian: apt-get install python3-matplotlib)";
    const auto tmp = std::filesystem::temp_directory_path() / fmt::format("proclab-compare-{}", ::getpid());
    std::filesystem::create_directories(tmp);
    struct Remove {
        std::filesystem::path dir;
        ~Remove() {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        }
    } remove{tmp};
    {
        std::ofstream(tmp / "plot_report.py") << suite::plot_script();
        std::ofstream(tmp / "plot.json") << Json(plot).dump();
    }
    auto run = run_captured(python, {(tmp / "plot_report.py").string(), "--plot", (tmp / "plot.json").string(), png},
                            {.timeout = std::chrono::seconds(120)});
    if (!run.status.exited() || run.status.exit_code() != 0)
        return fmt::format("no plot: the plotting script ended: {} {}", run.status.describe(), run.err);
    return fmt::format("plot: {}", png);
}

// `proclab compare --html`: the fleet page, its plot embedded where matplotlib can draw it.
std::string fleet_html(const suite::FleetView& view, bool all) {
    const auto png = std::filesystem::temp_directory_path() / fmt::format("proclab-fleet-{}.png", ::getpid());
    const plot::Plot plot = suite::fleet_plot(view, all);
    std::string note = draw_plot(plot, png.string()), bytes;
    if (note.starts_with("plot: ")) {
        bytes = read_small_file(png.string()).value_or("");
        std::error_code ec;
        std::filesystem::remove(png, ec);
    }
    return suite::render_fleet_html(view, all, bytes, bytes.empty() ? note : plot.caption);
}

int run_compare(const RunnerOptions& o) {
    suite::CompareInputs in;
    try {
        in = suite::load_compare_inputs(o.compare_files);
    } catch (const std::exception& e) {
        return usage_error(e.what(), "");
    }
    std::vector<bool> from_corpus(in.runs.size(), false);
    std::vector<std::string> corpus_notes;
    const bool with_corpus = o.with_corpus || !o.corpus_dir.empty();  // --corpus DIR implies --with-corpus
    if (with_corpus) {
        const auto dir = o.corpus_dir.empty() ? suite::corpus_directory(self_executable().parent_path())
                                              : std::filesystem::path(o.corpus_dir);
        if (dir.empty() || !std::filesystem::is_directory(dir))
            return usage_error(
                dir.empty()
                    ? "--with-corpus: no results corpus here (installed: share/doc/proclab/results; or --corpus DIR)"
                    : "--corpus: " + dir.string() + " is not a folder",
                "");
        try {
            for (auto& r : suite::nearest_in_corpus(in.runs, dir, corpus_notes)) {
                in.runs.push_back(std::move(r));
                from_corpus.push_back(true);
            }
        } catch (const std::exception& e) {
            return usage_error(e.what(), "");
        }
    }
    if (in.runs.size() < 2)
        return usage_error(fmt::format("compare needs two runs or more, got {}{}{}", in.runs.size(),
                                       in.runs.empty() ? "" : " (" + in.runs.front().path + ")",
                                       !corpus_notes.empty()      ? ": " + corpus_notes.front()
                                       : !in.failed_hosts.empty() ? ": " + in.failed_hosts.front()
                                                                  : ""),
                           "");
    const bool fleet = o.fleet || in.folder_of_runs || with_corpus || in.runs.size() >= 3;
    if (!fleet && !o.html_path.empty())
        return usage_error(
            "--html draws the fleet view: give three runs or more, a folder of runs, --with-corpus or --fleet", "");
    std::optional<OutputFile> json_file, md_file, html_file;
    if (const auto error = open_json_file(o.json_path, json_file)) return *error;
    if (!o.markdown_path.empty()) {
        md_file.emplace(o.markdown_path);
        if (!md_file->error().empty()) return usage_error("--markdown: " + md_file->error(), "");
    }
    if (!o.html_path.empty()) {
        html_file.emplace(o.html_path);
        if (!html_file->error().empty()) return usage_error("--html: " + html_file->error(), "");
    }
    if (!o.plot_path.empty()) {  // matplotlib writes it: its folder must be there before anything runs
        const auto folder = std::filesystem::absolute(o.plot_path).parent_path();
        if (!std::filesystem::is_directory(folder) || ::access(folder.c_str(), W_OK) != 0)
            return usage_error(fmt::format("--plot {}: the folder {} does not exist or cannot be written", o.plot_path,
                                           folder.string()),
                               "");
    }
    if (fleet) {
        auto view = suite::fleet_view(std::move(in.runs), std::move(from_corpus));
        view.notes.insert(view.notes.begin(), corpus_notes.begin(), corpus_notes.end());
        view.notes.insert(view.notes.begin(), in.failed_hosts.begin(), in.failed_hosts.end());
        text_stream(o) << suite::render_text(suite::view_of(view, o.compare_all),
                                             {terminal_width(text_fd(o)), want_colour(text_fd(o))})
                       << std::flush;
        const Json j = suite::fleet_json(view, o.compare_all);
        if (json_file) json_file->commit(j.dump(2) + "\n");
        if (o.json_to_stdout()) std::cout << j.dump(2) << "\n" << std::flush;
        if (md_file) md_file->commit(suite::render_markdown(suite::view_of(view, o.compare_all)));
        if (html_file) html_file->commit(fleet_html(view, o.compare_all));
        if (!o.plot_path.empty()) std::cerr << draw_plot(suite::fleet_plot(view, o.compare_all), o.plot_path) << "\n";
        return kExitOk;
    }
    // Two runs: the pairwise comparison, B against A.
    for (std::size_t i = 0; i < in.runs.size(); ++i) in.runs[i].label = std::string(1, char('A' + i));
    auto comparison = suite::compare_runs(std::move(in.runs));
    comparison.notes.insert(comparison.notes.begin(), in.failed_hosts.begin(), in.failed_hosts.end());
    text_stream(o) << suite::render_text(suite::view_of(comparison, o.compare_all),
                                         {terminal_width(text_fd(o)), want_colour(text_fd(o))})
                   << std::flush;
    const Json j = suite::comparison_json(comparison);
    if (json_file) json_file->commit(j.dump(2) + "\n");
    if (o.json_to_stdout()) std::cout << j.dump(2) << "\n" << std::flush;
    if (md_file) md_file->commit(suite::render_markdown(suite::view_of(comparison, o.compare_all)));
    if (!o.plot_path.empty()) std::cerr << draw_plot(suite::comparison_plot(comparison), o.plot_path) << "\n";
    return kExitOk;
}

int run_suite(const std::filesystem::path& dir, const RunnerOptions& o) {
    std::optional<OutputFile> json_file;
    if (const auto error = open_json_file(o.json_path, json_file)) return *error;
    // JSON to stdout: nothing else goes there; the report for people goes to stderr.
    const bool json_to_stdout = o.json_to_stdout();
    std::ostream& out = text_stream(o);
    // A baseline that cannot be read is a usage error before anything runs.
    std::optional<suite::LoadedRun> baseline;
    if (!o.baseline.empty()) {
        try {
            baseline = suite::load_run(o.baseline, "baseline");
        } catch (const std::exception& e) {
            return usage_error(std::string("--baseline: ") + e.what(), "");
        }
    }
    if (o.report_dir) {
        std::error_code ec;
        std::filesystem::create_directories(*o.report_dir, ec);
        if (ec)
            return usage_error(fmt::format("cannot create the report folder {}: {}", *o.report_dir, ec.message()), "");
    }
    become_parent_of_demos();
    const Stopwatch suite_clock;

    const auto names = o.demos.empty() ? suite::demo_names() : o.demos;
    const Environment env = probe_environment();
    std::vector<suite::DemoRun> runs;
    std::vector<suite::DemoDescription> described;
    const auto line_floors = run_demos(dir, names, o, "", runs, described);
    const auto rows = suite::claim_rows(runs, described);

    const bool colour = want_colour(text_fd(o));
    auto fact = [&](const char* key) {
        const MachineFact* f = env.find(key);
        return f && f->value ? *f->value : std::string("unknown");
    };
    const int width = terminal_width(text_fd(o));
    // Facts joined by " · ", a new line wherever the next would pass the terminal's width.
    auto fitted = [&](const std::vector<std::string>& parts) {
        std::string text, line = " ";
        for (const auto& part : parts) {
            if (line.size() > 1 && display_width(line) + 3 + display_width(part) > static_cast<std::size_t>(width)) {
                text += line + "\n";
                line = " ";
            }
            line += (line.size() > 1 ? " · " : " ") + part;
        }
        return text + line + "\n";
    };
    out << fmt::format("proclab {} on {}\n", PROCLAB_VERSION, fact("cpu_model"));
    std::vector<std::string> parts{
        fmt::format("CPUs: {} allowed of {} online", fact("affinity_cpus"), fact("online_cpus"))};
    // A cgroup CPU quota below the CPU count is the CPUs' capacity: shown beside them.
    if (env.cpu_quota_cpus) parts.push_back(fmt::format("CPU quota (cgroup): {:.2f} CPUs", *env.cpu_quota_cpus));
    for (auto part :
         {fmt::format("virtual machine: {}", fact("hypervisor")), fmt::format("kernel {}", fact("kernel_release")),
          fmt::format("privileges: euid {}, CAP_SYS_PTRACE {}", fact("euid"), fact("cap_sys_ptrace")),
          fmt::format("Yama ptrace_scope {}", fact("yama_ptrace_scope")),
          fmt::format("container: {}", fact("container"))})
        parts.push_back(std::move(part));
    if (const std::string floors = suite::describe_line_floors(line_floors); !floors.empty())
        parts.push_back("cache-line floor, shared with the demos: " + floors);
    out << fitted(parts) << "\n";
    out << "Demos\n" << suite::render_demo_runs(runs, static_cast<std::size_t>(width)) << "\n";
    out << "Claims (every rule: proclab rules; the words: proclab glossary)\n"
        << suite::render_claims(rows, colour, width);
    out << std::flush;

    const Json this_run = suite::suite_json(env, runs, rows, line_floors);
    if (json_file) json_file->commit(this_run.dump(2) + "\n");
    if (json_to_stdout) std::cout << this_run.dump(2) << "\n" << std::flush;
    bool verdict_changed = false;
    std::optional<suite::Comparison> comparison;
    if (baseline) {
        // This run as the document its JSON holds, built directly (not written out and read back).
        suite::LoadedRun current{"this run", "(this run)",
                                 suite::SuiteDocument{kSchemaVersion, PROCLAB_VERSION, env, rows, runs, Json()}};
        comparison = suite::compare_runs({*baseline, current});
        verdict_changed = std::any_of(comparison->verdicts.begin(), comparison->verdicts.end(), suite::changed);
        suite::View against = suite::view_of(*comparison, false);
        against.title = "Against the baseline";
        out << "\n" << suite::render_text(against, {width, colour}) << std::flush;
    }
    if (o.report_dir) {
        std::fprintf(stderr, "writing the report ...\n");
        std::optional<std::vector<suite::CrosscheckPair>> pairs;
        if (o.crosscheck_in_report) pairs = crosscheck_with_progress(dir, o);
        const auto outcome = suite::write_report(*o.report_dir, env, runs, rows, suite_clock.elapsed_s(), o.quick,
                                                 pairs, comparison ? &*comparison : nullptr, line_floors);
        out << "\n"
            << wrap(fmt::format("Report: {}/report.html, report.md, suite.json, {} in {}/plots{}", *o.report_dir,
                                counted(static_cast<long long>(outcome.plots.size()), "plot"), *o.report_dir,
                                outcome.plots.empty() ? " (" + outcome.plots_note + ")" : ""),
                    static_cast<std::size_t>(width), "  ")
            << "\n";
    }

    const bool any_failed = std::any_of(runs.begin(), runs.end(), [](const auto& r) {
        return r.status != suite::RunStatus::ok || r.stray_processes > 0;
    });
    if (any_failed) return kExitHarness;
    const bool refuted =
        std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.verdict == Verdict::refuted; });
    // With --strict a verdict that changed against the baseline fails the run too.
    return o.strict && (refuted || verdict_changed) ? kExitRefuted : kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app("proclab — run the demos and see what each claim of the notes turns out to be on this machine",
                 "proclab");
    cli::apply_conventions(app, "proclab");
    app.require_subcommand(1);
    app.footer(cli::exit_code_footer(
        {.refuted = true,
         .failed =
             "a demo failed or timed out, or the runner failed (each command's --help says which it can return)"}));
    const std::string runner_failed = "the runner failed";
    const std::string demo_failed = "a demo failed, crashed, timed out or left a process behind, or the runner failed";
    auto add_command = [&](const std::string& name, const std::string& about, cli::ExitCodes codes) {
        auto* command = app.add_subcommand(name, about);
        command->formatter(app.get_formatter());
        command->footer(cli::exit_code_footer(codes));
        return command;
    };
    auto* list = add_command("list", "Every demo with the claims it covers", {.failed = runner_failed});
    bool rules_markdown = false;
    auto* rules =
        add_command("rules", "Every claim's rule: what it reads, what would refute it, the verdicts it can reach",
                    {.failed = runner_failed});
    bool rules_json = false;
    rules->add_flag("--markdown", rules_markdown, "As the Markdown table of docs/verdict-rules.md");
    rules->add_flag("--json", rules_json, "As JSON: each rule with its outcomes and the test that reaches each")
        ->excludes("--markdown");
    bool glossary_markdown = false;
    auto* glossary = add_command("glossary", "The words the reports use, each defined with its unit and what it is of",
                                 {.failed = runner_failed});
    glossary->add_flag("--markdown", glossary_markdown, "As docs/glossary.md");
    suite::TourOptions tour_options;
    bool tour_list = false, tour_no_prompt = false;
    auto* tour = add_command("tour",
                             "The notes in order, a stop per demo: predict, run, see what this machine does (for a "
                             "first hour with proclab)",
                             {.failed = "a demo failed, or the runner failed"});
    tour->add_option("stops", tour_options.stops, "Stops to visit (see --list) (default: all, in order)")
        ->type_name("STOP");
    tour->add_flag("--list", tour_list, "List the stops and exit");
    tour->add_flag("--no-prompt", tour_no_prompt,
                   "Ask for no predictions (also without a terminal on stdin): run and show each stop");
    tour->add_flag("-q,--quick", tour_options.quick, "Short runs of each demo");
    RunnerOptions o;
    const std::string timeout_help =
        fmt::format("Per-demo timeout in seconds; the demo is killed after it (default: {})", o.timeout_s);
    auto* run = add_command("run", "Run the named demos (all when none is named) and print the claims table",
                            {.refuted = true, .failed = demo_failed});
    run->add_option("demos", o.demos, "Demos to run (see 'proclab list') (default: all)")->type_name("DEMO");
    run->add_flag("-q,--quick", o.quick, "Short runs of every demo");
    run->add_flag("--strict", o.strict, "Exit 1 when a claim is refuted, or a verdict changed against --baseline");
    add_json_option(run, o, "the combined results");
    run->add_option("--timeout", o.timeout_s, timeout_help)
        ->check(CLI::Range(kMinTimeoutS, kMaxTimeoutS))
        ->type_name("SECONDS");
    run->add_option("--baseline", o.baseline,
                    "After the run, compare with a saved run (a suite JSON or report folder): verdicts that changed, "
                    "metrics beyond "
                    "noise (default: none)")
        ->type_name("FILE");
    std::string report_dir = "proclab-report";
    auto* report =
        add_command("report", "Run every demo and write a report folder: report.html, report.md, suite.json, plots/",
                    {.refuted = true, .failed = demo_failed});
    report->add_option("dir", report_dir, "The folder (default: proclab-report)")->type_name("DIR");
    report->add_flag("-q,--quick", o.quick, "Short runs of every demo");
    report->add_flag("--strict", o.strict, "Exit 1 when a claim is refuted, or a verdict changed against --baseline");
    report->add_option("--timeout", o.timeout_s, timeout_help)
        ->check(CLI::Range(kMinTimeoutS, kMaxTimeoutS))
        ->type_name("SECONDS");
    bool no_crosscheck = false;
    report->add_flag("--no-crosscheck", no_crosscheck,
                     "Leave out the crosscheck section (perf bench, stress-ng, cyclictest, hackbench)");
    report
        ->add_option("--baseline", o.baseline,
                     "Compare with a saved run (a suite JSON or report folder) in the report and on the terminal "
                     "(default: none)")
        ->type_name("FILE");
    auto* stability = add_command(
        "stability", "Run the suite N times: how often each claim's verdict held, and each headline metric's spread",
        {.failed = "a demo failed in some run, or the runner failed"});
    stability->add_option("runs", o.stability_runs, "How many times, 1 to 1000")
        ->required()
        ->check(CLI::Range(1, 1000))
        ->type_name("N");
    stability->add_option("demos", o.demos, "Demos to run (see 'proclab list') (default: all)")->type_name("DEMO");
    stability->add_flag("-q,--quick", o.quick, "Short runs of every demo");
    add_json_option(stability, o, "the summary");
    stability->add_option("--timeout", o.timeout_s, timeout_help)
        ->check(CLI::Range(kMinTimeoutS, kMaxTimeoutS))
        ->type_name("SECONDS");
    auto* crosscheck = add_command("crosscheck",
                                   "proclab's figures beside perf bench, stress-ng, cyclictest and hackbench measuring "
                                   "the same thing, with ratios",
                                   {.failed = runner_failed});
    crosscheck->add_flag("-q,--quick", o.quick, "Short runs");
    add_json_option(crosscheck, o, "the pairs");
    crosscheck->add_option("--cpu", o.cpu, "The CPU every side is pinned to, 0 to 1023 (default: the first allowed)")
        ->check(CLI::Range(0, CPU_SETSIZE - 1))
        ->type_name("CPU");
    crosscheck
        ->add_option("--timeout", o.timeout_s, fmt::format("Per-command timeout in seconds (default: {})", o.timeout_s))
        ->check(CLI::Range(kMinTimeoutS, kMaxTimeoutS))
        ->type_name("SECONDS");

    auto* compare = add_command(
        "compare",
        "Runs side by side: two runs pairwise (B against A), or a fleet of machines (three or more, a folder of runs): "
        "the machines' differing facts, every metric per machine against the fleet median, the verdicts that differ",
        {.failed = runner_failed});
    compare
        ->add_option("runs", o.compare_files,
                     "Suite JSON files, report folders, or folders of them (results/ from the fleet playbook); with "
                     "two runs the first "
                     "is the base")
        ->required()
        ->expected(1, 256)
        ->type_name("RUN");
    compare->add_flag("--all", o.compare_all,
                      "Every shared metric (default: the headline ones and those beyond noise)");
    compare->add_flag("--fleet", o.fleet,
                      "The fleet view even for two runs (default: with three runs or more, or a folder of runs)");
    compare->add_flag(
        "--with-corpus", o.with_corpus,
        "Add the results corpus's runs nearest to these (the same CPU model, else the same vendor); the fleet view");
    compare
        ->add_option("--corpus", o.corpus_dir,
                     "The results corpus to use (default: the installed docs/results); implies --with-corpus")
        ->type_name("DIR");
    add_json_option(compare, o, "the comparison");
    compare->add_option("--markdown", o.markdown_path, "Write the comparison as Markdown to FILE")->type_name("FILE");
    compare->add_option("--html", o.html_path, "Write the fleet view as one self-contained HTML page to FILE")
        ->type_name("FILE");
    compare->add_option("--plot", o.plot_path, "Draw the ratios into FILE (PNG; needs python3-matplotlib)")
        ->type_name("FILE");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return kExitOk;
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {  // --help on a subcommand
            return app.exit(e);
        }
        return usage_error(cli::plain_parse_error(e, std::vector<std::string>(argv + 1, argv + argc)));
    }
    for (const auto& name : o.demos)
        if (std::find(suite::demo_names().begin(), suite::demo_names().end(), name) == suite::demo_names().end())
            return usage_error(fmt::format("unknown demo '{}'", name), " (see 'proclab list')");
    for (const auto& stop : tour_options.stops)
        if (!suite::find_stop(stop))
            return usage_error(fmt::format("unknown stop '{}'", stop), " (see 'proclab tour --list')");

    try {
        for (const auto* command : {run, stability, crosscheck, compare})
            if (*command && command->count("--json") > 0) o.json = true;
        if (*compare) return run_compare(o);
        if (*glossary) {
            if (glossary_markdown) {
                std::cout << suite::glossary_markdown(true);
            } else {
                const auto width = static_cast<std::size_t>(terminal_width(STDOUT_FILENO));
                for (const auto& t : suite::glossary())
                    std::cout << t.term << "\n    " << wrap(t.definition, width, "    ") << "\n";
            }
            return kExitOk;
        }
        const auto dir = suite::demo_directory(self_executable().parent_path());
        if (*tour) {
            if (tour_list) {
                TextTable t({"stop", "demo", "what it is about"});
                for (const auto& stop : suite::tour_stops())
                    t.add_row({std::string(stop.id), std::string(stop.demo), std::string(stop.title)});
                std::cout << t.render("  ", static_cast<std::size_t>(terminal_width(STDOUT_FILENO)));
                return kExitOk;
            }
            tour_options.prompt = !tour_no_prompt;
            tour_options.timeout_s = o.timeout_s;
            return suite::run_tour(dir, tour_options, std::cin, std::cout, terminal_width(STDOUT_FILENO));
        }
        if (*list) return list_demos(dir);
        if (*rules) return list_rules(dir, rules_markdown, rules_json);
        if (*stability) return run_stability(dir, o);
        if (*crosscheck) return run_crosscheck_command(dir, o);
        if (*report) {
            o.report_dir = report_dir;
            o.crosscheck_in_report = !no_crosscheck;
        }
        return run_suite(dir, o);
    } catch (const HarnessError& e) {
        std::fprintf(stderr, "proclab: error: %s (%s)\n", e.what(), errno_name(e.code().value()).c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "proclab: error: %s\n", e.what());
    }
    return kExitHarness;
}
