#include "fleet.hpp"

#include "proclab/aggregate.hpp"
#include "proclab/claims.hpp"
#include "proclab/environment.hpp"
#include "proclab/stats.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace proclab::suite {

bool FleetMetric::any_flagged() const {
    return std::any_of(cells.begin(), cells.end(), [](const FleetCell& c) { return c.flagged; });
}

bool FleetVerdict::differs() const {
    return values_differ(verdicts);
}

std::vector<int> FleetView::flags_per_machine() const {
    std::vector<int> n(machines.size(), 0);
    for (const auto& m : metrics)
        for (std::size_t i = 0; i < m.cells.size(); ++i) n[i] += m.cells[i].flagged;
    return n;
}

FactSplit split_facts(const std::vector<FactRow>& facts) {
    FactSplit split;
    for (const auto& f : facts) {
        if (!f.differs) {
            split.same.push_back(fmt::format("{} {}", f.label, f.values.front()));
            continue;
        }
        auto& row = split.differing.emplace_back(std::vector<std::string>{f.label});
        row.insert(row.end(), f.values.begin(), f.values.end());
    }
    return split;
}

namespace {

const std::vector<double>* distribution_of(const Metric* m) {
    return m && m->summary && !m->summary->distribution.empty() ? &m->summary->distribution : nullptr;
}

FleetMetric metric_across(const std::vector<LoadedRun>& machines, const std::string& demo, const Metric& first) {
    FleetMetric fm;
    fm.demo = demo;
    fm.name = first.name;
    fm.unit = first.unit;
    std::vector<const Metric*> found;
    std::vector<double> values;
    for (const auto& machine : machines) {
        const Metric* m = find_metric(machine.suite, demo, first.name);
        found.push_back(m);
        fm.cells.emplace_back();
        if (!m) continue;
        fm.headline = fm.headline || m->headline;
        fm.cells.back().value = m->value;
        values.push_back(m->value);
    }
    fm.reporting = values.size();
    if (values.empty()) return fm;
    fm.median = median_of(values);
    for (std::size_t i = 0; i < machines.size(); ++i) {
        FleetCell& cell = fm.cells[i];
        if (!cell.value) continue;
        if (fm.median != 0) cell.ratio = *cell.value / fm.median;
        const auto* own = distribution_of(found[i]);
        if (!own) continue;
        std::vector<double> rest;
        for (std::size_t j = 0; j < machines.size(); ++j)
            if (j != i)
                if (const auto* d = distribution_of(found[j])) rest.insert(rest.end(), d->begin(), d->end());
        cell.p = mann_whitney_p(*own, rest);
        cell.flagged = beyond_noise(cell.p, cell.ratio);
    }
    return fm;
}

}  // namespace

std::string fleet_cell_text(const FleetCell& c, const std::string& unit) {
    if (!c.value) return "-";
    std::string s = format_value(*c.value, unit);
    if (c.ratio) s += fmt::format(" ({:.2f})", *c.ratio);
    if (c.flagged) s += " *";
    return s;
}

bool fleet_shown(const FleetMetric& m, bool all) { return m.reporting >= 2 && (all || m.headline || m.any_flagged()); }

namespace {

std::string machine_title(const FleetView& v, std::size_t i) {
    return v.from_corpus[i] ? "corpus: " + v.machines[i].label : v.machines[i].label;
}

}  // namespace

std::string fleet_rule_sentence() {
    return fmt::format("A machine is flagged (*) on a metric when its samples differ from the pooled samples of the other machines "
                       "(Mann-Whitney U, two-sided, p < {}) and its value is outside 1 +- {:.0f}% of the fleet median. In brackets: the "
                       "value's ratio to the fleet median.",
                       kCompareAlpha, 100 * kCompareMinEffect);
}

namespace {

std::string flag_summary(const FleetView& v) {
    const auto flags = v.flags_per_machine();
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < flags.size(); ++i) parts.push_back(fmt::format("{} {}", v.machines[i].label, flags[i]));
    return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

FleetView fleet_view(std::vector<LoadedRun> machines, std::vector<bool> from_corpus) {
    FleetView v;
    v.machines = std::move(machines);
    v.from_corpus = std::move(from_corpus);
    v.from_corpus.resize(v.machines.size(), false);
    v.facts = fact_rows(v.machines);
    {
        // How each suite ran: a --quick run beside a full one differs by method, not by machine.
        FactRow mode{"suite", {}, false};
        for (const auto& m : v.machines) mode.values.push_back(suite_mode(m.suite));
        mode.differs = values_differ(mode.values);
        v.facts.insert(v.facts.begin(), std::move(mode));
    }
    // Metrics: in the order the machines report them (the first machine's first), each once.
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& machine : v.machines)
        for (const auto& run : machine.suite.runs) {
            if (!run.result) continue;
            for (const auto& m : run.result->metrics) {
                if (!seen.insert({run.name, m.name}).second) continue;
                auto fm = metric_across(v.machines, run.name, m);
                if (fm.reporting >= 2) v.metrics.push_back(std::move(fm));
            }
        }
    for (const auto& claim : all_claims()) {
        FleetVerdict row;
        row.id = claim.id;
        for (const auto& machine : v.machines) {
            auto [verdict, evidence] = verdict_of(machine.suite, std::string(claim.id));
            row.verdicts.push_back(std::move(verdict));
            row.evidence.push_back(std::move(evidence));
        }
        row.usual = most_common(row.verdicts, row.verdicts).value_or("-");  // a tie: the earliest machine's
        v.verdicts.push_back(std::move(row));
    }
    // What the reader should know before trusting a flag.
    if (v.machines.size() == 2)
        v.notes.push_back("With two machines the fleet median is their midpoint: a flag says the two differ, not which one is odd. "
                          "A third machine (or --with-corpus) tells which.");
    std::set<std::string> versions;
    for (const auto& m : v.machines) versions.insert(m.suite.proclab_version);
    if (v.facts.front().differs)
        v.notes.push_back("The suites ran in different modes (full and --quick): a quick run's shorter cells and fewer trials can move a metric "
                          "and a verdict on the same machine.");
    if (versions.size() > 1)
        v.notes.push_back(fmt::format("The runs come from different proclab versions ({}): a metric may differ because the method did.",
                                      fmt::join(versions, ", ")));
    for (const auto& demo : demo_names()) {
        std::vector<std::string> with, without;
        for (const auto& m : v.machines) (ran(m.suite, demo) ? with : without).push_back(m.label);
        if (!with.empty() && !without.empty())
            v.notes.push_back(fmt::format("{} has no result from {}.", demo, fmt::join(without, ", ")));
    }
    for (const auto& m : v.machines)
        if (m.suite.schema_version < 2)
            v.notes.push_back(fmt::format("{} ({}) is schema {}: its metrics carry no distributions, so it is never flagged.", m.label, m.path,
                                          m.suite.schema_version));
    return v;
}

std::string render_fleet(const FleetView& v, bool all, bool colour) {
    std::string out = fmt::format("proclab compare: a fleet of {} machines\n", v.machines.size());
    for (std::size_t i = 0; i < v.machines.size(); ++i)
        out += fmt::format("  {} = {} (proclab {}, schema {})\n", machine_title(v, i), v.machines[i].path, v.machines[i].suite.proclab_version,
                           v.machines[i].suite.schema_version);
    std::vector<std::string> names;
    for (const auto& m : v.machines) names.push_back(m.label);
    {
        std::vector<std::string> header{"fact"};
        header.insert(header.end(), names.begin(), names.end());
        TextTable t(header);
        const auto facts = split_facts(v.facts);
        for (const auto& row : facts.differing) t.add_row(row);
        out += fmt::format("\nFacts that differ: {}\n", facts.differing.size());
        if (!facts.differing.empty()) out += t.render();
        if (!facts.same.empty()) out += wrap(fmt::format("The same on every machine: {}.", fmt::join(facts.same, "; ")), 100, "  ") + "\n";
    }
    {
        std::vector<std::string> header{"claim"};
        header.insert(header.end(), names.begin(), names.end());
        TextTable t(header);
        int n = 0;
        for (const auto& row : v.verdicts) {
            if (!row.differs()) continue;
            ++n;
            std::vector<std::string> cells{row.id};
            for (const auto& x : row.verdicts) {
                const auto verdict = verdict_from_string(x);
                std::string cell = verdict ? colour_verdict(*verdict, colour) : x;
                if (x != row.usual) cell += " *";
                cells.push_back(std::move(cell));
            }
            t.add_row(std::move(cells));
        }
        out += fmt::format("\nVerdicts that differ between machines: {}{}\n", n, n ? " (* where a machine's verdict is not the fleet's most common; in a tie, the earliest machine's counts as that)" : "");
        if (n) {
            out += t.render();
            for (const auto& row : v.verdicts)
                if (row.differs())
                    for (std::size_t i = 0; i < v.machines.size(); ++i)
                        if (row.verdicts[i] != row.usual)
                            out += wrap(fmt::format("{} on {}: {}", row.id, v.machines[i].label, row.evidence[i]), 100, "    ") + "\n";
        }
    }
    {
        std::vector<std::string> header{"demo", "metric", "fleet median"};
        header.insert(header.end(), names.begin(), names.end());
        TextTable t(header);
        int flagged_metrics = 0;
        for (const auto& m : v.metrics) {
            flagged_metrics += m.any_flagged();
            if (!fleet_shown(m, all)) continue;
            std::vector<std::string> row{m.demo, m.name, format_value(m.median, m.unit)};
            for (const auto& c : m.cells) row.push_back(fleet_cell_text(c, m.unit));
            t.add_row(std::move(row));
        }
        out += fmt::format("\nMetrics: {} reported by two machines or more, {} with a machine flagged; flags per machine: {}{}\n", v.metrics.size(),
                           flagged_metrics, flag_summary(v), all ? "" : "; shown: the headline metrics and those with a flag (--all: every one)");
        out += t.render();
        out += wrap(fleet_rule_sentence(), 100, "") + "\n";
    }
    for (const auto& n : v.notes) out += wrap("note: " + n, 100, "      ") + "\n";
    return out;
}

std::string fleet_markdown(const FleetView& v, bool all) {
    std::string md = fmt::format("# proclab compare: a fleet of {} machines\n\n", v.machines.size());
    for (std::size_t i = 0; i < v.machines.size(); ++i)
        md += fmt::format("- **{}**: `{}` (proclab {}, schema {})\n", machine_title(v, i), v.machines[i].path, v.machines[i].suite.proclab_version,
                          v.machines[i].suite.schema_version);
    auto header = [&](std::initializer_list<std::string> first) {
        std::string h = "|", rule = "|";
        for (const auto& c : first) h += fmt::format(" {} |", c), rule += "---|";
        for (const auto& m : v.machines) h += fmt::format(" {} |", markdown_cell(m.label)), rule += "---|";
        return h + "\n" + rule + "\n";
    };
    md += "\n## Facts that differ\n\n";
    const auto facts = split_facts(v.facts);
    std::string rows;
    for (const auto& row : facts.differing) {
        rows += "|";
        for (const auto& cell : row) rows += fmt::format(" {} |", markdown_cell(cell));
        rows += "\n";
    }
    md += rows.empty() ? "None.\n" : header({"fact"}) + rows;
    if (!facts.same.empty()) md += fmt::format("\nThe same on every machine: {}.\n", markdown_cell(fmt::format("{}", fmt::join(facts.same, "; "))));
    md += "\n## Verdicts that differ between machines\n\n";
    rows.clear();
    std::string why;
    for (const auto& row : v.verdicts) {
        if (!row.differs()) continue;
        rows += "| " + row.id + " |";
        for (std::size_t i = 0; i < row.verdicts.size(); ++i) {
            rows += row.verdicts[i] != row.usual ? fmt::format(" **{}** |", row.verdicts[i]) : fmt::format(" {} |", row.verdicts[i]);
            if (row.verdicts[i] != row.usual) why += fmt::format("- {} on {}: {}\n", row.id, markdown_cell(v.machines[i].label), markdown_cell(row.evidence[i]));
        }
        rows += "\n";
    }
    md += rows.empty() ? "None: every claim has the same verdict on every machine.\n"
                       : "In bold: a verdict that is not the fleet's most common (in a tie, the earliest machine's counts as that).\n\n" + header({"claim"}) + rows + "\n" + why;
    md += fmt::format("\n## Metrics\n\n{} Flags per machine: {}. Shown: {}.\n\n", fleet_rule_sentence(), flag_summary(v),
                      all ? "every metric two machines or more report" : "the headline metrics and those with a flag");
    md += header({"demo", "metric", "fleet median"});
    for (const auto& m : v.metrics) {
        if (!fleet_shown(m, all)) continue;
        md += fmt::format("| {} | {} | {} |", m.demo, markdown_cell(m.name), format_value(m.median, m.unit));
        for (const auto& c : m.cells) md += c.flagged ? fmt::format(" **{}** |", fleet_cell_text(c, m.unit)) : fmt::format(" {} |", fleet_cell_text(c, m.unit));
        md += "\n";
    }
    if (!v.notes.empty()) {
        md += "\n";
        for (const auto& n : v.notes) md += "- " + markdown_cell(n) + "\n";
    }
    return md;
}

Json fleet_json(const FleetView& v, bool all) {
    Json j{{"schema_version", kSchemaVersion}, {"kind", "fleet"}, {"alpha", kCompareAlpha}, {"min_effect", kCompareMinEffect}};
    Json machines = Json::array();
    const auto flags = v.flags_per_machine();
    for (std::size_t i = 0; i < v.machines.size(); ++i)
        machines.push_back({{"name", v.machines[i].label}, {"path", v.machines[i].path}, {"corpus", bool(v.from_corpus[i])},
                            {"proclab_version", v.machines[i].suite.proclab_version}, {"schema_version", v.machines[i].suite.schema_version},
                            {"flagged_metrics", flags[i]}});
    j["machines"] = std::move(machines);
    Json facts = Json::array();
    for (const auto& f : v.facts) facts.push_back({{"label", f.label}, {"values", f.values}, {"differs", f.differs}});
    j["facts"] = std::move(facts);
    Json verdicts = Json::array();
    for (const auto& row : v.verdicts)
        verdicts.push_back({{"id", row.id}, {"verdicts", row.verdicts}, {"evidence", row.evidence}, {"usual", row.usual}, {"differs", row.differs()}});
    j["verdicts"] = std::move(verdicts);
    Json metrics = Json::array();
    for (const auto& m : v.metrics) {
        Json cells = Json::array();
        for (std::size_t i = 0; i < m.cells.size(); ++i) {
            const auto& c = m.cells[i];
            cells.push_back({{"machine", v.machines[i].label}, {"value", c.value ? Json(*c.value) : Json(nullptr)},
                             {"ratio", c.ratio ? Json(*c.ratio) : Json(nullptr)}, {"p", c.p ? Json(*c.p) : Json(nullptr)}, {"flagged", c.flagged}});
        }
        metrics.push_back({{"demo", m.demo}, {"name", m.name}, {"unit", m.unit}, {"headline", m.headline}, {"median", m.median},
                           {"reporting", m.reporting}, {"shown", fleet_shown(m, all)}, {"machines", std::move(cells)}});
    }
    j["metrics"] = std::move(metrics);
    j["notes"] = v.notes;
    return j;
}

CompareInputs load_compare_inputs(const std::vector<std::string>& args) {
    namespace fs = std::filesystem;
    CompareInputs in;
    std::map<std::string, int> used;
    auto add = [&](const fs::path& path, std::string name) {
        if (const int n = ++used[name]; n > 1) name += fmt::format("#{}", n);
        in.runs.push_back(load_run(path, std::move(name)));
    };
    auto failure_note = [&](const fs::path& note) {
        std::string why = read_small_file(note.string()).value_or("");
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
        in.failed_hosts.push_back(fmt::format("{}: no run, the fleet playbook says: {}", note.stem().string(), why.empty() ? "(empty note)" : why));
    };
    for (const auto& arg : args) {
        fs::path path = fs::path(arg).lexically_normal();
        if (path.has_parent_path() && path.filename().empty()) path = path.parent_path();  // "results/host/"
        std::error_code ec;
        if (path.extension() == ".failed" && fs::is_regular_file(path, ec)) {  // `proclab compare results/*` after a host failed
            failure_note(path);
            continue;
        }
        if (!fs::is_directory(path, ec) || fs::exists(path / "suite.json", ec)) {
            const bool folder = fs::is_directory(path, ec);
            std::string name = folder ? fs::absolute(path).lexically_normal().filename().string() : path.stem().string();
            if (name.empty() || name == ".") name = path.string();
            add(path, name);
            continue;
        }
        // A folder of runs: its report folders and suite JSON files, in name order.
        std::vector<fs::path> entries;
        std::vector<fs::path> notes;
        for (const auto& e : fs::directory_iterator(path, ec)) {
            if ((e.is_directory() && fs::exists(e.path() / "suite.json")) || (e.is_regular_file() && e.path().extension() == ".json"))
                entries.push_back(e.path());
            else if (e.is_regular_file() && e.path().extension() == ".failed")
                notes.push_back(e.path());
        }
        std::sort(notes.begin(), notes.end());
        for (const auto& note : notes) failure_note(note);
        if (ec) throw std::runtime_error(fmt::format("{}: cannot be read ({})", path.string(), ec.message()));
        if (entries.empty())
            throw std::runtime_error(fmt::format("{}: no runs in this folder (a report folder holds suite.json; a folder of runs holds report "
                                                 "folders or suite JSON files)",
                                                 path.string()));
        std::sort(entries.begin(), entries.end());
        for (const auto& e : entries) add(e, fs::is_directory(e) ? e.filename().string() : e.stem().string());
        in.folder_of_runs = true;
    }
    return in;
}

std::string cpu_vendor(const std::string& cpu_model) {
    std::string lower;
    for (char c : cpu_model) lower += char(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& [needle, vendor] : std::vector<std::pair<std::string, std::string>>{
             {"intel", "Intel"}, {"amd", "AMD"}, {"ampere", "Ampere"}, {"neoverse", "Arm"}, {"cortex", "Arm"}, {"apple", "Apple"}})
        if (lower.find(needle) != std::string::npos) return vendor;
    const auto end = cpu_model.find(' ');
    return cpu_model.substr(0, end);
}

namespace {

// Lower case letters, digits, '.' and '-'; "(R)" and "(TM)" dropped; runs of anything else one '-'.
std::string slug(std::string text) {
    for (const char* mark : {"(R)", "(r)", "(TM)", "(tm)"})
        for (auto at = text.find(mark); at != std::string::npos; at = text.find(mark)) text.erase(at, std::char_traits<char>::length(mark));
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '.')
            out += char(std::tolower(u));
        else if (!out.empty() && out.back() != '-')
            out += '-';
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out.empty() ? "unknown" : out;
}

}  // namespace

std::string corpus_stem(const Environment& env) {
    return slug(fact_value(env, "cpu_model")) + "_" + slug(fact_value(env, "kernel_release"));
}

std::filesystem::path corpus_directory(const std::filesystem::path& runner_dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (const char* env = std::getenv("PROCLAB_CORPUS_DIR"); env && *env) return env;
    const fs::path installed = runner_dir / ".." / "share" / "doc" / "proclab" / "results";
    if (fs::is_directory(installed, ec)) return installed.lexically_normal();
    if (const fs::path source = source_corpus_directory(); fs::is_directory(source, ec)) return source;
    return {};
}

std::vector<LoadedRun> nearest_in_corpus(const std::vector<LoadedRun>& runs, const std::filesystem::path& corpus, std::vector<std::string>& how) {
    namespace fs = std::filesystem;
    std::vector<LoadedRun> all;
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(corpus, ec))
        if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
    if (ec) throw std::runtime_error(fmt::format("--with-corpus: {} cannot be read ({})", corpus.string(), ec.message()));
    std::sort(files.begin(), files.end());
    for (const auto& f : files) all.push_back(load_run(f, f.stem().string()));

    std::vector<LoadedRun> chosen;
    std::set<std::string> taken;
    for (const auto& run : runs) {
        const std::string model = fact_value(run.suite.environment, "cpu_model");
        const std::string vendor = cpu_vendor(model);
        std::vector<const LoadedRun*> same_model, same_vendor;
        for (const auto& c : all) {
            std::error_code e1;
            if (fs::equivalent(c.path, run.path, e1)) continue;  // the user's run is itself in the corpus
            const std::string m = fact_value(c.suite.environment, "cpu_model");
            if (m == model) same_model.push_back(&c);
            else if (cpu_vendor(m) == vendor) same_vendor.push_back(&c);
        }
        auto pick = same_model.empty() ? same_vendor : same_model;
        // Of those, the runs made the same way (full or --quick), where there are any.
        const std::string mode = suite_mode(run.suite);
        std::vector<const LoadedRun*> same_mode;
        for (const auto* c : pick)
            if (suite_mode(c->suite) == mode) same_mode.push_back(c);
        const bool by_mode = !same_mode.empty() && same_mode.size() < pick.size();
        if (by_mode) pick = same_mode;
        std::vector<std::string> names;
        for (const auto* c : pick) {
            names.push_back(c->label);
            if (taken.insert(c->path).second) chosen.push_back(*c);
        }
        if (pick.empty())
            how.push_back(fmt::format("{}: no corpus run has its CPU model ({}) or vendor ({}); the corpus ({}) holds {} run(s).", run.label, model,
                                      vendor, corpus.string(), all.size()));
        else
            how.push_back(fmt::format("{}: beside {} corpus run(s) with its {} ({}){}: {}.", run.label, pick.size(),
                                      same_model.empty() ? "vendor" : "CPU model", same_model.empty() ? vendor : model,
                                      by_mode ? fmt::format(", run as it was ({})", mode) : "", fmt::join(names, ", ")));
    }
    return chosen;
}

}  // namespace proclab::suite
