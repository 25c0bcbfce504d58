// proclab compare for a fleet: N machines side by side, which one differs from the rest.
//
// Machines are columns: the facts that differ between them on top, then each metric's value on
// every machine beside the fleet's median, and the claims whose verdict is not the same
// everywhere. A machine is flagged on a metric when it is beyond noise against the fleet: its
// distribution differs from the pooled distributions of the other machines (Mann-Whitney U,
// two-sided, p < kCompareAlpha, the pairwise compare's test) AND its value is outside
// 1 +- kCompareMinEffect of the fleet median. The median, not the rest's pool, sets the effect:
// with one odd machine among several, the pool of the rest holds the odd one's samples, so every
// normal machine would differ from it; the median does not move.
//
// The results corpus (docs/results/) holds suite JSON files from machines the project ran on,
// named by CPU model and kernel. `--with-corpus` adds the runs nearest to the user's: the same
// CPU model, else the same vendor.
#pragma once

#include "compare.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace proclab::suite {

struct FleetCell {
    std::optional<double> value;  // none: this machine did not report the metric
    std::optional<double> ratio;  // value / fleet median; none when the median is 0
    std::optional<double> p;      // this machine against the pooled rest; none without distributions
    bool flagged = false;
};

struct FleetMetric {
    std::string demo, name;
    Unit unit;
    bool headline = false;
    double median = 0;             // over the machines that report it
    std::size_t reporting = 0;     // how many do
    std::vector<FleetCell> cells;  // one per machine
    bool any_flagged() const;
};

struct FleetVerdict : VerdictRow {  // one verdict per machine
    std::optional<Verdict> usual;  // the most common verdict (a tie: the earliest machine's); none: most lack the claim
    bool differs() const;
};

struct FleetView {
    std::vector<LoadedRun> machines;  // label: the machine's name
    std::vector<bool> from_corpus;
    std::vector<FactRow> facts;        // every fact; differs: not the same on every machine
    std::vector<FleetMetric> metrics;  // every metric two machines or more report
    std::vector<FleetVerdict> verdicts;
    std::vector<std::string> notes;
    std::vector<int> flags_per_machine() const;
};

// The facts for a view: the rows that differ (label, then each machine's value), and "label value"
// of each fact that is the same on every machine.
struct FactSplit {
    std::vector<std::vector<std::string>> differing;
    std::vector<std::string> same;
};
FactSplit split_facts(const std::vector<FactRow>& facts);

// "1.95 (1.02)": the value and its ratio to the fleet median; "-" when absent.
std::string fleet_cell_text(const FleetCell& c, Unit unit);
// Which metrics a view shows: reported by two machines or more, and (unless all) headline or flagged.
bool fleet_shown(const FleetMetric& m, bool all);
// The flag rule in one sentence, as every view prints it.
std::string fleet_rule_sentence();

FleetView fleet_view(std::vector<LoadedRun> machines, std::vector<bool> from_corpus = {});

// The fleet for people (view.hpp draws it in each format). all: every metric; otherwise the
// headline ones and those with a flag.
View view_of(const FleetView& v, bool all);
Json fleet_json(const FleetView& v, bool all);
// Each machine's ratio to the fleet median on each shown metric, the most deviant first; filled
// where flagged. No panel when no metric has a ratio.
plot::Plot fleet_plot(const FleetView& v, bool all);
inline constexpr double kFleetPlotFloor = 0.05;  // a ratio below it is drawn at it (a log axis has no 0)

// What `proclab compare` was given: each argument a suite JSON (named by its file's stem), a
// report folder (named by the folder), or a folder of those (each named the same way, in name
// order). Throws std::runtime_error with one line naming what cannot be read.
struct CompareInputs {
    std::vector<LoadedRun> runs;
    bool folder_of_runs = false;  // an argument was a folder of runs: the fleet view
    // The fleet playbook's failure notes (results/<host>.failed), given or found in a folder:
    // not runs, so not compared; each becomes "host: no run, the playbook says: why".
    std::vector<std::string> failed_hosts;
};
CompareInputs load_compare_inputs(const std::vector<std::string>& args);

// "Intel" for "Intel(R) Xeon(R) Processor", "AMD" for "AMD EPYC 7B13"; otherwise the first word.
std::string cpu_vendor(const std::string& cpu_model);
// "intel-xeon-processor_6.18.44-fc-v657": how a corpus file is named, before "_full"/"_quick".
std::string corpus_stem(const Environment& env);

// The corpus: $PROCLAB_CORPUS_DIR when set; installed, <bin>/../share/doc/proclab/results; else
// the source tree's docs/results. Empty when none exists.
std::filesystem::path corpus_directory(const std::filesystem::path& runner_dir);
// The source tree's docs/results, as configured (source_paths.cpp).
std::filesystem::path source_corpus_directory();

// The corpus runs nearest to `runs`: for each run, those with its CPU model, else those with its
// vendor. `how` gets one sentence per run saying which were chosen and why.
std::vector<LoadedRun> nearest_in_corpus(const std::vector<LoadedRun>& runs, const std::filesystem::path& corpus,
                                         std::vector<std::string>& how);

}  // namespace proclab::suite
