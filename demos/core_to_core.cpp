// core_to_core: what the path between two CPUs costs, behind the cross-CPU figures of P2 and T1
// (docs/claims.md): a wake-up or a hand-off on another CPU pays for the cache line's
// trip between them.
//
//   P2  Processes share the cores; a hand-off between CPUs is what "sharing" costs.
//   T1  The scheduler moves threads between CPUs; what a move costs depends on where to.
//
// Method (after c2clat and core-to-core-latency; common/handoff.hpp): two threads, each pinned to
// one CPU of the pair, hand one cache line back and forth, timed in batches of 100 round trips
// after a warm-up; the median batch gives the one-way hand-off. Every
// pair of allowed CPUs is measured, or, past a time budget (--budget), every pair of the first
// CPU and then pairs drawn at random (fixed seed), so a 192-CPU machine stays within a minute.
// The whole matrix is measured several times (--rounds): in a virtual machine the host may move
// the virtual CPUs between rounds, and a pair whose figure moves between rounds is a finding (a
// drifting topology), shown with its spread, not averaged away.
// Each pair is put in the closest group the topology gives it (sysfs: SMT siblings, shared
// last-level cache, same package, same NUMA node, other node), with a median per group.
//
// Caveats: in a virtual machine the vCPUs' real placement is the host's; the guest's topology
// may be flat. Frequency scaling and SMT siblings busy with other work show up as spread. Both
// threads spin: this is a floor for a hand-off, not a wake-up (context_switch measures those).

#include "proclab/affinity.hpp"
#include "proclab/clock.hpp"
#include "proclab/demo.hpp"
#include "proclab/handoff.hpp"
#include "proclab/handles.hpp"
#include "proclab/render.hpp"
#include "proclab/stats.hpp"
#include "proclab/topology.hpp"
#include "proclab/units.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>

namespace proclab::core_to_core {

std::vector<DemoOption> options() {
    return {
        {.name = "--cpus",
         .help = "Only these CPUs, a list like 0-3,8 within the affinity mask",
         .type_name = "LIST",
         .default_words = "every allowed CPU"},
        {.name = "--budget",
         .help = "Time for the pairs, in seconds; past it, pairs are sampled",
         .full = "20",
         .quick = "2",
         .type_name = "SECONDS",
         .check = CLI::Range(0.1, 3600.0)},
        {.name = "--rounds",
         .help = "Times the whole matrix is measured, to see it move",
         .full = "3",
         .quick = "2",
         .type_name = "N",
         .check = CLI::Range(1, 100)},
    };
}

// ---------------------------------------------------------------------------------------------
// One pair: the line handed back and forth between two pinned threads (common/handoff.hpp).

// One pair over the rounds: each round's one-way hand-off, and their median.
struct PairResult {
    int a = -1, b = -1;
    std::vector<double> rounds_ns;
    std::uint64_t tokens_in_order = 0;
    PairGroup group = PairGroup::unknown;
    int line_node = -1;  // where the kernel put the line's page (move_pages) in the first round
    double handoff_ns() const { return summarize(rounds_ns).median; }
    double spread() const {  // the largest round over the smallest
        const auto s = summarize(rounds_ns);
        return s.min > 0 ? s.max / s.min : 0;
    }
};

// Which pairs to measure: all, or within the budget every pair with the first CPU (its row of the
// matrix, which meets every group the first CPU has) and then pairs drawn at random.
std::vector<std::pair<int, int>> choose_pairs(const std::vector<int>& cpus, std::size_t max_pairs,
                                              std::uint32_t seed = 42) {
    std::vector<std::pair<int, int>> all, chosen;
    for (std::size_t i = 0; i < cpus.size(); ++i)
        for (std::size_t j = i + 1; j < cpus.size(); ++j) all.emplace_back(cpus[i], cpus[j]);
    if (all.size() <= max_pairs) return all;
    std::vector<std::pair<int, int>> rest;
    for (const auto& p : all) (p.first == cpus.front() ? chosen : rest).push_back(p);
    // Where a pair costs so much that the budget does not cover even the first CPU's row (a guest
    // whose CPUs take turns on fewer host CPUs: seconds a pair), the row is cut at the budget too.
    if (chosen.size() >= max_pairs) {
        chosen.resize(std::max<std::size_t>(1, max_pairs));
        return chosen;
    }
    std::mt19937 rng(seed);
    std::shuffle(rest.begin(), rest.end(), rng);
    for (const auto& p : rest) {
        if (chosen.size() >= max_pairs) break;
        chosen.push_back(p);
    }
    return chosen;
}

std::string metric_id(PairGroup g) {
    switch (g) {
        case PairGroup::smt_siblings: return "smt_siblings";
        case PairGroup::shared_llc: return "shared_llc";
        case PairGroup::same_package: return "same_package";
        case PairGroup::same_node: return "same_node";
        case PairGroup::other_node: return "other_node";
        case PairGroup::unknown: break;
    }
    return "unknown_group";
}

// ---------------------------------------------------------------------------------------------

// The CPUs asked for: the affinity mask, or --cpus within it.
std::vector<int> read_cpus(const DemoContext& ctx) {
    std::vector<int> cpus = ctx.env.affinity_cpus;
    const std::string& text = ctx.values.text("--cpus");
    if (text.empty()) return cpus;
    const auto wanted = parse_cpu_list(text);
    if (wanted.empty()) throw UsageError(fmt::format("--cpus {}: not a CPU list (like 0-3,8)", text));
    for (int c : wanted)
        if (std::find(cpus.begin(), cpus.end(), c) == cpus.end())
            throw UsageError(
                fmt::format("--cpus: CPU {} is not in this process's affinity mask ({})", c, format_cpu_list(cpus)));
    return wanted;
}

// The matrix, measured `rounds` times: every pair, or as many as the budget allows.
struct Matrix {
    int rounds = 0, batches = 0;
    double budget_s = 0;
    double probe_s = 0;  // the first pair's time, all batches: what sizes the sample
    std::size_t total_pairs = 0;
    std::vector<PairResult> pairs;
};

Matrix measure_matrix(const DemoContext& ctx, const std::vector<int>& cpus, const Topology& topology) {
    Matrix mx;
    mx.batches = ctx.repeat();
    mx.budget_s = ctx.values.number("--budget");
    mx.rounds = static_cast<int>(ctx.values.integer("--rounds"));
    const double overhead = ctx.clock.read_overhead_ns;
    // Time one pair to size the sample within the budget (all rounds together).
    const Stopwatch probe;
    const CacheLineHandoff first = measure_handoff(cpus[0], cpus[1], mx.batches, overhead);
    const double per_pair_s = std::max(1e-4, probe.elapsed_s());
    mx.probe_s = per_pair_s;
    const auto max_pairs = static_cast<std::size_t>(std::max(1.0, mx.budget_s / mx.rounds / per_pair_s));
    mx.total_pairs = cpus.size() * (cpus.size() - 1) / 2;
    for (const auto& [a, b] : choose_pairs(cpus, max_pairs))
        mx.pairs.push_back(PairResult{a, b, {}, 0, classify(topology, a, b)});
    for (int r = 0; r < mx.rounds; ++r)  // back to back: a pair that moves between rounds moved within this run
        for (auto& m : mx.pairs) {
            const CacheLineHandoff h =
                r == 0 && m.a == cpus[0] && m.b == cpus[1] ? first : measure_handoff(m.a, m.b, mx.batches, overhead);
            m.rounds_ns.push_back(h.one_way_ns);
            m.tokens_in_order += h.tokens_in_order;
            if (r == 0) m.line_node = h.line_node;
        }
    return mx;
}

void add_topology_table(Result& result, const Topology& topology) {
    auto& tt = result.add_table("Where the CPUs sit (sysfs)", {"CPU", "package", "core", "SMT siblings",
                                                               "last-level cache shared with", "NUMA node"});
    for (const auto& p : topology.cpus)
        tt.rows.push_back({std::to_string(p.cpu), p.package >= 0 ? std::to_string(p.package) : "?",
                           p.core >= 0 ? std::to_string(p.core) : "?",
                           p.smt_siblings.empty() ? "?" : format_cpu_list(p.smt_siblings),
                           p.llc_cpus.empty() ? "?" : fmt::format("{} (L{})", format_cpu_list(p.llc_cpus), p.llc_level),
                           p.node >= 0 ? std::to_string(p.node) : "?"});
    if (!topology.unknown.empty())
        tt.note = fmt::format(
            "Not readable: {}.",
            fmt::join(topology.unknown.begin(),
                      topology.unknown.begin() + std::min<std::ptrdiff_t>(4, std::ptrdiff_t(topology.unknown.size())),
                      "; "));
}

// Where the lines lived: each pair's on a fresh page its first CPU touched first, which the
// kernel's local allocation puts on that CPU's node; move_pages says where it went.
std::string line_placement(const Matrix& mx, const Topology& topology) {
    int known = 0, on_first_cpus_node = 0;
    std::set<int> nodes;
    for (const auto& m : mx.pairs) {
        const CpuPlace* place = topology.find(m.a);
        if (m.line_node < 0 || !place || place->node < 0) continue;
        ++known;
        nodes.insert(m.line_node);
        on_first_cpus_node += m.line_node == place->node;
    }
    const std::string how = "Each pair's line sits on a fresh page that the first CPU's thread touches first.";
    if (known == 0) return how + " Its NUMA node could not be read (move_pages or sysfs).";
    return fmt::format("{} The kernel put {} of {} on that CPU's node (move_pages; node{} {}).", how,
                       on_first_cpus_node, counted(known, "line"), nodes.size() == 1 ? "" : "s",
                       fmt::join(nodes, ", "));
}

// Groups, closest first.
void add_groups_table(Result& result, const DemoContext& ctx, const std::vector<int>& cpus, const Matrix& mx,
                      const Topology& topology) {
    std::map<PairGroup, std::vector<double>> by_group;
    for (const auto& m : mx.pairs) by_group[m.group].push_back(m.handoff_ns());
    auto& gt = result.add_table("Hand-off latency by how close the CPUs are",
                                {"group", {"pairs", "count"}, {"median", "ns"}, {"min", "ns"}, {"max", "ns"}});
    for (const auto& [group, values] : by_group) {
        const Summary s = summarize(values);
        gt.rows.push_back({std::string(to_string(group)), double(values.size()), s.median, s.min, s.max});
        result
            .add_metric("handoff_" + metric_id(group), s, "ns",
                        fmt::format("one-way cache-line hand-off, {} (median over pairs)", to_string(group)))
            .headline = true;
    }
    gt.note = fmt::format(
        "{} of {} pairs measured{}, each in {} rounds of the whole matrix; a round: {} batches of {} round trips after "
        "a warm-up, one "
        "way = median batch / 2, the clock's overhead ({}) subtracted per batch. A pair's figure is the median of its "
        "rounds. Both "
        "threads spin: a floor for a hand-off, not a wake-up. {}",
        mx.pairs.size(), mx.total_pairs,
        mx.pairs.size() < mx.total_pairs
            ? (mx.pairs.size() < cpus.size() - 1
                   ? fmt::format(" (budget {:.0f} s: {} of CPU {}'s {} pairs, one pair having taken {})", mx.budget_s,
                                 mx.pairs.size(), cpus[0], cpus.size() - 1, format_value(mx.probe_s * 1e9, "ns"))
                   : fmt::format(" (budget {:.0f} s: every pair of CPU {}, then a random draw)", mx.budget_s, cpus[0]))
            : "",
        mx.rounds, mx.batches, kHandoffBatch, format_value(ctx.clock.read_overhead_ns, "ns"),
        line_placement(mx, topology));
}

// The rounds: how much each pair moved between them.
void add_rounds_table(Result& result, const Matrix& mx) {
    auto& rt =
        result.add_table("The rounds: each pair's one-way hand-off in every round of the matrix",
                         {"pair", "group", {"least", "ns"}, {"median", "ns"}, {"most", "ns"}, {"most / least", "x"}});
    std::vector<double> spreads;
    const std::size_t shown_pairs = std::min<std::size_t>(mx.pairs.size(), 32);
    for (std::size_t i = 0; i < mx.pairs.size(); ++i) {
        const auto& m = mx.pairs[i];
        const Summary s = summarize(m.rounds_ns);
        spreads.push_back(m.spread());
        if (i < shown_pairs)
            rt.rows.push_back({fmt::format("{} and {}", m.a, m.b), std::string(to_string(m.group)), s.min, s.median,
                               s.max, m.spread()});
    }
    rt.note = fmt::format(
        "{} rounds. A pair that moves by a large factor between rounds is a finding: in a virtual machine the host "
        "places the virtual CPUs and may move them; on bare metal, frequency changes or a busy SMT sibling.{}",
        mx.rounds,
        mx.pairs.size() > shown_pairs ? fmt::format(" The first {} pairs shown; all are in the JSON.", shown_pairs)
                                      : "");
    result
        .add_metric("round_spread", summarize(spreads), "ratio",
                    "per pair, the largest round over the smallest (1: it did not move)")
        .headline = true;
}

// The matrix: printed for up to 16 CPUs; always in the JSON (the report draws it as a heatmap).
void add_matrix(Result& result, const std::vector<int>& cpus, const Matrix& mx) {
    std::map<std::pair<int, int>, double> cell;
    for (const auto& m : mx.pairs) cell[{m.a, m.b}] = cell[{m.b, m.a}] = m.handoff_ns();
    Json matrix = Json::array();
    for (int a : cpus) {
        Json row = Json::array();
        for (int b : cpus) {
            const auto it = cell.find({a, b});
            row.push_back(a == b || it == cell.end() ? Json(nullptr) : Json(it->second));
        }
        matrix.push_back(std::move(row));
    }
    if (cpus.size() <= 16) {
        std::vector<Column> columns{"from \\ to"};
        for (int b : cpus) columns.push_back({std::to_string(b), "ns"});
        auto& mt = result.add_table("One-way hand-off between each pair of CPUs (median of the rounds)", columns);
        for (int a : cpus) {
            std::vector<Cell> row{std::to_string(a)};
            for (int b : cpus) {
                const auto it = cell.find({a, b});
                row.push_back(a == b || it == cell.end() ? Cell{} : Cell{it->second});
            }
            mt.rows.push_back(std::move(row));
        }
        mt.note = "Symmetric: each pair measured once per round, the first CPU of the pair starting the round trips.";
    } else {
        result.notes.push_back(fmt::format("The {}x{} matrix is in the JSON (raw.matrix) and the report's heatmap.",
                                           cpus.size(), cpus.size()));
    }
    std::uint64_t checked = 0;
    for (const auto& m : mx.pairs) checked += m.tokens_in_order;
    result.notes.push_back(
        fmt::format("The responders saw {} tokens, each the one expected next (a token out of order would have stalled "
                    "its round trip).",
                    checked));
    Json groups = Json::array();
    for (const auto& m : mx.pairs)
        groups.push_back(Json{{"a", m.a},
                              {"b", m.b},
                              {"group", to_string(m.group)},
                              {"handoff_ns", m.handoff_ns()},
                              {"rounds_ns", m.rounds_ns}});
    result.raw =
        Json{{"cpus", cpus}, {"rounds", mx.rounds}, {"matrix", std::move(matrix)}, {"pairs", std::move(groups)}};

    // The heatmap: values written in the cells up to 8 CPUs, about 32 labelled CPUs at most.
    plot::Cells heat{.colour_bar = "ns"};
    const std::size_t step = std::max<std::size_t>(1, cpus.size() / 32);
    for (std::size_t i = 0; i < cpus.size(); ++i) {
        const std::string label = i % step == 0 ? std::to_string(cpus[i]) : "";
        heat.rows.push_back(label);
        heat.columns.push_back(label);
        std::vector<std::optional<double>> values;
        std::vector<std::string> text;
        for (int b : cpus) {
            const auto it = cell.find({cpus[i], b});
            values.push_back(cpus[i] == b || it == cell.end() ? std::nullopt : std::optional(it->second));
            text.push_back(values.back() && cpus.size() <= 8 ? fmt::format("{:.0f}", *values.back()) : "");
        }
        heat.values.push_back(std::move(values));
        heat.text.push_back(std::move(text));
    }
    const double side = std::min(12.0, std::max(4.5, 3 + 0.35 * double(cpus.size())));
    result.plots.push_back(
        {.file = "core_to_core.png",
         .caption = "A cache line's one-way trip between each pair of CPUs (core_to_core).",
         .width = std::max(7.5, side + 2),
         .height = side + 0.5,
         .panels = {{.title = "A cache line's trip between two CPUs, one way (ns)\nblank: same CPU or not measured",
                     .x = {.label = "CPU"},
                     .y = {.label = "CPU"},
                     .cells = std::move(heat)}}});
}

// The plan: where the CPUs sit, then the matrix measured in rounds, then its tables.
Result run(const DemoContext& ctx) {
    Result result;
    const std::vector<int> cpus = read_cpus(ctx);
    const Topology topology = read_topology(cpus);
    result.config.repeat = ctx.repeat();
    add_topology_table(result, topology);
    if (cpus.size() < 2) {
        result.notes.push_back(
            fmt::format("Not measured: only one CPU ({}) is allowed, so there is no pair to hand a line between.",
                        format_cpu_list(cpus)));
        result.raw = Json{{"cpus", cpus}, {"matrix", Json::array()}};
        return result;
    }
    const Matrix mx = measure_matrix(ctx, cpus, topology);
    add_groups_table(result, ctx, cpus, mx, topology);
    add_rounds_table(result, mx);
    add_matrix(result, cpus, mx);
    return result;
}

DemoSpec spec() {
    return DemoSpec{
        .name = "core_to_core",
        .title = "what a cache line's trip between two CPUs costs, for every pair, grouped by topology",
        .default_timeout_s = 180,
        .repeat =
            RepeatSpec{.counts = "Batches of hand-offs timed for each pair in each round", .full = 200, .quick = 40},
        .options = options(),
        .run = run,
    };
}

}  // namespace proclab::core_to_core

PROCLAB_DEMO_MAIN(proclab::core_to_core::spec)
