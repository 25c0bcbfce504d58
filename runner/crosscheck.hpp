// `proclab crosscheck`: proclab's headline figures beside the field's reference tools on this
// machine, in the same run, with the ratio. Judged only where both sides measure the same way:
// perf bench sched pipe (and -T) against context_switch's same-CPU pipe round trips; cyclictest
// (SCHED_OTHER, --laptop: no cpu_dma_latency) against sched_latency's timer lateness, idle and
// beside one busy process on the same CPU (the medians: cyclictest's from its histogram); hackbench
// and perf bench sched messaging against sched_latency's messaging total, pipes. Shown with
// each side's method, not judged: stress-ng's fork and vfork (ops per second of a larger process
// that also kills and re-groups each child, start-up included), switch and pthread stressors.
// Everything pinned to one CPU, so placement is the same.
// The judged rows alternate: proclab, then the tool, in kTurns turns (A B A B A B), so a drift of
// the machine between two runs falls on both sides alike. A row is judged on the ratio of the two
// sides' medians, and only where each side's own spread across its turns is within the margin:
// a row noisier than that says "too noisy to judge here" with its spread, never agree or disagree.
// The proclab figures are crosscheck's own runs of the demos (labelled so), not a report's.
// Where a tool is missing, its rows say so (and how to get it); crosscheck still exits 0.
#pragma once

#include "suite.hpp"
#include "view.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace proclab::suite {

inline constexpr double kAgreement = 0.15;  // same method: proclab within ±15% of the reference
inline constexpr int kTurns = 3;            // turns of each side in the judged rows

struct CrosscheckPair {
    std::string what;                    // "pipe round trip, two processes on one CPU"
    std::string proclab_figure;          // "context_switch round_trip_processes_pipe_same_cpu"
    std::optional<double> proclab_ns;    // the median of proclab_turns
    std::string tool;                    // "perf bench sched pipe"
    std::string command;                 // as run
    std::optional<double> reference_ns;  // the median of reference_turns
    std::vector<double> proclab_turns;   // each turn's figure, in the order run
    std::vector<double> reference_turns;
    bool same_method = true;  // only then is agreement judged
    std::string method_note;  // what each side measures, where they differ
    std::string missing;      // why a side has no figure
};

enum class Agreement { agree, disagree, too_noisy, not_judged, missing };
std::string_view to_string(Agreement a);

// proclab_ns and reference_ns from the turns: their medians (nullopt without a turn).
void settle(CrosscheckPair& p);
// How far a side's turns spread: (max - min) / 2 over their median, the larger of the two sides;
// nullopt where a side has fewer than 2 turns (its spread is unknown).
std::optional<double> spread(const CrosscheckPair& p);

// missing: a side has no figure; not_judged: different methods; too_noisy: a side's own spread
// above kAgreement, or unknown (fewer than 2 turns); agree: |ratio - 1| <= kAgreement;
// disagree: further apart, with each side's spread within the margin.
Agreement judge(const CrosscheckPair& p);
std::optional<double> ratio(const CrosscheckPair& p);  // proclab / reference, of the medians

// "       4.205450 usecs/op" in perf bench's output -> 4205.45 ns.
std::optional<double> parse_perf_usecs_per_op(std::string_view text);
// A "key: value" number in stress-ng's --yaml output (the first one after "stressor: NAME").
std::optional<double> parse_stress_ng_yaml(std::string_view yaml, std::string_view stressor, std::string_view key);

struct CrosscheckOptions {
    bool quick = false;
    int cpu = -1;            // -1: the first allowed CPU
    double timeout_s = 120;  // per command
};

// The median of cyclictest's histogram (-h: lines "000089 000123", a µs bucket and its count, for
// thread 0; "# Histogram Overflows: N" beyond the last bucket), in ns; nullopt without one.
std::optional<double> parse_cyclictest_median(std::string_view text);
// hackbench's "Time: 0.016" and perf bench sched messaging's "Total time: 0.023 [sec]" -> ns.
std::optional<double> parse_messaging_seconds(std::string_view text);

// Runs context_switch, creation_cost and sched_latency (from `dir`) and the reference tools, all pinned to one CPU.
std::vector<CrosscheckPair> run_crosscheck(const std::filesystem::path& dir, const CrosscheckOptions& options);

// The pairs for people: the table, the method, the commands (view.hpp draws it in each format).
View view_of(const std::vector<CrosscheckPair>& pairs);
Json crosscheck_json(const std::vector<CrosscheckPair>& pairs);

}  // namespace proclab::suite
