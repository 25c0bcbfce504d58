// The suite: what the runner knows about demos and how it combines their results into one
// claims table. Kept apart from proclab.cpp's main so the tests can call it.
#pragma once

#include "proclab/aggregate.hpp"
#include "proclab/child.hpp"
#include "proclab/handoff.hpp"
#include "proclab/render.hpp"
#include "proclab/result.hpp"
#include "proclab/serialize.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace proclab::suite {

// Every demo built with proclab_add_demo(), in the order of demos/CMakeLists.txt.
const std::vector<std::string>& demo_names();

struct DemoDescription {
    std::string name;
    std::string title;
    std::vector<std::string> claims;
    std::vector<RuleInfo> rules;
};

enum class RunStatus { ok, failed, crashed, timed_out, bad_output };
std::string_view to_string(RunStatus s);

struct DemoRun {
    std::string name;
    RunStatus status = RunStatus::ok;
    std::string detail;  // "exit 3: process_isolation: error: ..." when not ok
    double wall_s = 0;
    int stray_processes = 0;       // processes the demo left behind (killed and reaped by the runner)
    std::optional<Result> result;  // the demo's JSON, read back typed
};

struct ClaimRow {
    std::string id;
    std::string statement;
    Verdict verdict = Verdict::not_measured;
    std::vector<std::string> demos;  // the demos whose verdicts were combined
    std::string evidence;            // one line: each demo's summary (its reason where it has none), joined with " | "
    std::vector<std::string> reasons;     // each demo's full reason, "demo (verdict): reason"
    std::vector<std::string> refuted_by;  // each demo's rule: "what would refute the claim (demo)"
};

// One row per claim P1..T9: each covered claim's verdicts combined (combine_verdicts); a claim
// whose demo failed, or that no demo in this run covers, is not-measured with that reason.
std::vector<ClaimRow> claim_rows(const std::vector<DemoRun>& runs, const std::vector<DemoDescription>& described);

// The claims for the terminal: each measured claim with its demos, evidence and what would refute it;
// the claims no demo of this run covers (a subset run) in one line at the end.
std::string render_claims(const std::vector<ClaimRow>& rows, bool colour, int width = 110);
// Every rule as data (evidence.hpp's RuleInfo), for `proclab rules` and docs/verdict-rules.md.
std::string render_rules(const std::vector<RuleInfo>& rules, int width = 110);
std::string rules_markdown(const std::vector<RuleInfo>& rules);
std::string render_demo_runs(const std::vector<DemoRun>& runs, std::size_t width = 0);

// A whole run of the suite as its JSON holds it (`proclab run --json`, a report's suite.json).
struct SuiteDocument {
    int schema_version = kSchemaVersion;
    std::string proclab_version;
    Environment environment;
    std::vector<ClaimRow> rows;
    std::vector<DemoRun> runs;
    Json crosscheck;  // the crosscheck's pairs (crosscheck.hpp), null when it did not run
};

// The run's machine emulated its CPUs (a VM lab guest under TCG: the "emulated" environment fact):
// its timings are not a real machine's, so compare and the fleet never judge them.
bool emulated(const SuiteDocument& suite);

// `line_floors`: the cache-line floors the runner measured before the demos and shared with them
// (measure_line_floors), as "line_floors" in the JSON.
Json suite_json(const Environment& env, const std::vector<DemoRun>& runs, const std::vector<ClaimRow>& rows,
                const std::vector<CacheLineHandoff>& line_floors = {});

// One floor per CPU pair per suite (handoff.hpp): every pair suite_floor_pairs names for
// `allowed`, each timed as a demo would (kFloorBatches batches), until `budget_s` is spent: a pair
// left out is measured by the demo that uses it. Call it with no demo running.
std::vector<CacheLineHandoff> measure_line_floors(const std::vector<int>& allowed, double budget_s = 1.0);
// "CPUs 0 and 1: 55.2 ns", or "7 pairs with CPU 0: 48.1 to 61.0 ns"; "" for none.
std::string describe_line_floors(const std::vector<CacheLineHandoff>& line_floors);
// Throws std::runtime_error naming what is missing, or a schema this proclab cannot read.
SuiteDocument suite_from_json(const Json& j);

// A program that led its own process group has ended: anything still in the group was left
// behind. Kills the group and reaps what this process (a child subreaper) inherited; returns how
// many it reaped.
int reap_strays(pid_t group);

// Where the demos are, for a runner in `runner_dir`: $PROCLAB_DEMO_DIR when set; the runner's own
// folder in a build tree; PROCLAB_INSTALLED_DEMO_DIR relative to it when installed
// (bin/../libexec/proclab). Throws std::runtime_error naming the places it looked.
std::filesystem::path demo_directory(const std::filesystem::path& runner_dir);

// Runs `dir/name --json - [extra...]` in its own process group with a hard timeout.
DemoRun run_demo(const std::filesystem::path& dir, const std::string& name, const std::vector<std::string>& extra,
                 double hard_timeout_s);
std::optional<DemoDescription> describe_demo(const std::filesystem::path& dir, const std::string& name);

}  // namespace proclab::suite
