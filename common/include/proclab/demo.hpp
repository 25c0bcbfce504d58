// The harness every demo executable runs through: one set of options with declared ranges, the
// clock calibration and the environment, signal and timeout handling, rendering, exit codes.
// A demo provides a DemoSpec whose run() returns a Result; it never prints.
//
// Exit codes (exit_codes.hpp): 0 the demo ran; 1 a claim was refuted and --strict was given; 2
// usage error (one line on stderr); 3 the harness itself failed (one line naming the call and
// errno); 4 it ran past --timeout (every child killed and reaped).
#pragma once

#include "proclab/exit_codes.hpp"
#include "proclab/options.hpp"
#include "proclab/output_file.hpp"
#include "proclab/result.hpp"
#include "proclab/usage_error.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace proclab {

// Ranges, declared once for every executable.
inline constexpr int kMaxRepeat = 10'000'000;
inline constexpr int kMaxTrials = 99;
// Independent trials of each decisive measurement (docs/schema.md, "Trials").
inline constexpr int kDefaultTrials = 5;
inline constexpr int kDefaultQuickTrials = 3;
inline constexpr double kMinTimeoutS = 0.1;
inline constexpr double kMaxTimeoutS = 86'400;

struct RunOptions {
    bool json = false;      // --json given
    std::string json_path;  // empty or "-": JSON to stdout instead of the report
    bool quick = false;
    std::optional<int> repeat;
    std::optional<int> trials;
    double timeout_s = 0;
    bool strict = false;
    bool verbose = false;  // unknown facts with their full reasons

    // No FILE, "-", or a path that is stdout itself (/dev/stdout): the JSON alone on stdout.
    bool json_to_stdout() const { return json && (json_path.empty() || json_path == "-" || names_stdout(json_path)); }
};

// What --repeat counts in a demo, and its defaults. A demo without one does not offer --repeat.
struct RepeatSpec {
    std::string counts = {};        // "round trips per repetition"
    int full = 0, quick = 0;        // the defaults; 0: none fixed (the demo sizes it, as default_text says)
    std::string default_text = {};  // the default in words where there is no fixed count

    std::string help() const;  // "<counts> (default: N; --quick: M)"
};

struct DemoContext {
    RunOptions options;
    OptionValues values;  // the demo's own options (DemoSpec::options), each resolved for this run
    RepeatSpec repeat_spec;
    ClockCalibration clock;
    Environment env;
    std::filesystem::path self_exe;  // for spawning copies of this executable in a child mode

    // --repeat when given, else the demo's default (RepeatSpec) for a full or a --quick run.
    int repeat() const { return options.repeat.value_or(options.quick ? repeat_spec.quick : repeat_spec.full); }
    // --trials when given, else 5 (3 with --quick): how many independent trials decide a verdict.
    int trials() const { return options.trials.value_or(options.quick ? kDefaultQuickTrials : kDefaultTrials); }
};

using ChildMode = std::function<int(const std::vector<std::string>& args)>;

struct DemoSpec {
    std::string name = {};
    std::string title = {};                // one line: what the demo shows
    std::vector<std::string> claims = {};  // ids from docs/claims.md
    // The rule behind each claim, as data (evidence.hpp): what it reads, what would refute it, the
    // verdicts it can reach. `--describe` prints them; `proclab rules` tabulates them.
    std::vector<RuleInfo> rules = {};
    double default_timeout_s = 60;
    // Common options a demo offers only where they mean something: --repeat (what it counts), and
    // --trials where verdicts come from independent trials (run_trials). --strict comes with claims.
    std::optional<RepeatSpec> repeat = {};
    bool trials = false;
    std::vector<DemoOption> options = {};  // the demo's own options, declared once (options.hpp)
    std::function<Result(const DemoContext&)> run = {};
    // Internal entry points: `<exe> --child MODE args...` runs child_modes[MODE] instead of the
    // demo, so a demo can exec a fresh copy of itself (a new address space, not a fork).
    std::map<std::string, ChildMode> child_modes = {};
};

struct ParsedCommandLine {
    enum class Action { run, help, version, describe, usage_error };
    Action action = Action::run;
    std::string text;  // the help or version text, or the one-line error
    RunOptions options;
    OptionValues values;  // every declared option, given or defaulted for this run (full or --quick)
};

// Parses without side effects (no files are created): the unit tests call this directly.
ParsedCommandLine parse_command_line(const DemoSpec& spec, const std::vector<std::string>& args);

int demo_main(int argc, char** argv, const DemoSpec& spec);

}  // namespace proclab

// The one line a demo file ends with. PROCLAB_NO_MAIN lets a test compile the demo's logic.
#ifndef PROCLAB_NO_MAIN
#define PROCLAB_DEMO_MAIN(spec_function) \
    int main(int argc, char** argv) { return ::proclab::demo_main(argc, argv, spec_function()); }
#else
#define PROCLAB_DEMO_MAIN(spec_function)
#endif
