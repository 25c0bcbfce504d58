#include "proclab/serialize.hpp"

#include "proclab/sizes.hpp"
#include "proclab/topology.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace proclab {

void require_readable_schema(int version, std::string_view what) {
    if (version < kOldestReadableSchema || version > kSchemaVersion)
        throw std::runtime_error(fmt::format("{} has schema_version {}; this proclab reads {} to {}", what, version,
                                             kOldestReadableSchema, kSchemaVersion));
}

namespace {

// JSON has no NaN or infinity: a number that is not finite is written as null and read back as NaN.
Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }
double number_of(const Json& j) { return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN(); }

template <class T>
T value_or(const Json& j, const char* key, T fallback) {
    return j.contains(key) && !j.at(key).is_null() ? j.at(key).get<T>() : fallback;
}

}  // namespace

void to_json(Json& j, const Summary& s) {
    j = Json{{"count", s.count},       {"min", number(s.min)},       {"median", number(s.median)},
             {"mean", number(s.mean)}, {"p90", number(s.p90)},       {"p99", number(s.p99)},
             {"max", number(s.max)},   {"stddev", number(s.stddev)}, {"cv", number(s.cv)}};
    if (!s.distribution.empty())
        j["distribution"] =
            Json{{"kind", s.distribution_is_percentiles() ? "percentiles" : "samples"}, {"values", s.distribution}};
}

void from_json(const Json& j, Summary& s) {
    s.count = j.value("count", std::size_t{0});
    s.min = number_of(j.value("min", Json()));
    s.median = number_of(j.value("median", Json()));
    s.mean = number_of(j.value("mean", Json()));
    s.p90 = number_of(j.value("p90", Json()));
    s.p99 = number_of(j.value("p99", Json()));
    s.max = number_of(j.value("max", Json()));
    s.stddev = number_of(j.value("stddev", Json()));
    s.cv = number_of(j.value("cv", Json()));
    s.distribution.clear();
    if (j.contains("distribution")) s.distribution = j.at("distribution").value("values", std::vector<double>{});
}

namespace {

// The facts demos decide on, each with its typed value (schema 4 writes it as "typed"): how it is
// read from the environment, set back into it, and read from the fact's words, which is all that
// schemas 1 to 3 kept ("0-1 (2 CPUs)", "yes", "1.50 CPUs (...)", "yes (/.dockerenv exists)"). A
// fact that could not be read has no typed value; a key not listed has none either.
struct TypedFact {
    std::string_view key;
    Json (*get)(const Environment&);
    void (*set)(Environment&, const Json&);
    Json (*from_text)(const std::string& text);
};

std::string_view first_word(const std::string& text) { return std::string_view(text).substr(0, text.find(' ')); }
Json whole_from_text(const std::string& text) {
    if (const auto n = whole_number(text)) return *n;
    return {};
}
Json yes_from_text(const std::string& text) { return first_word(text) == "yes"; }

const TypedFact kTypedFacts[] = {
    {"online_cpus", [](const Environment& e) { return Json(e.online_cpus); },
     [](Environment& e, const Json& v) { e.online_cpus = v.get<int>(); }, whole_from_text},
    {"affinity_cpus", [](const Environment& e) { return Json(e.affinity_cpus); },
     [](Environment& e, const Json& v) { e.affinity_cpus = v.get<std::vector<int>>(); },
     [](const std::string& text) { return Json(parse_cpu_list(first_word(text))); }},
    {"euid", [](const Environment& e) { return Json(e.euid); },
     [](Environment& e, const Json& v) { e.euid = v.get<uid_t>(); }, whole_from_text},
    {"cap_sys_ptrace", [](const Environment& e) { return Json(e.cap_sys_ptrace); },
     [](Environment& e, const Json& v) { e.cap_sys_ptrace = v.get<bool>(); }, yes_from_text},
    {"yama_ptrace_scope",
     [](const Environment& e) { return e.yama_ptrace_scope ? Json(*e.yama_ptrace_scope) : Json(); },
     [](Environment& e, const Json& v) { e.yama_ptrace_scope = v.get<int>(); }, whole_from_text},
    // A number of CPUs, or "none".
    {"cpu_quota", [](const Environment& e) { return e.cpu_quota_cpus ? Json(*e.cpu_quota_cpus) : Json("none"); },
     [](Environment& e, const Json& v) {
         if (v.is_number()) e.cpu_quota_cpus = v.get<double>();
     },
     [](const std::string& text) {
         const std::string_view first = first_word(text);
         if (first == "none") return Json("none");
         if (const auto cpus = real_number(first)) return Json(*cpus);
         return Json();
     }},
    {"container", [](const Environment& e) { return Json(e.in_container); },
     [](Environment& e, const Json& v) { e.in_container = v.get<bool>(); }, yes_from_text},
};

const TypedFact* typed_fact(std::string_view key) {
    for (const auto& f : kTypedFacts)
        if (f.key == key) return &f;
    return nullptr;
}

}  // namespace

void to_json(Json& j, const Environment& env) {
    j = Json::object();
    for (const auto& f : env.facts) {
        Json fact{{"label", f.label}};
        if (f.value) {
            fact["value"] = *f.value;
            if (const TypedFact* t = typed_fact(f.key))
                if (Json typed = t->get(env); !typed.is_null()) fact["typed"] = std::move(typed);
        } else {
            fact["value"] = nullptr;
            fact["unknown"] = f.unknown_reason;
            if (!f.unknown_brief.empty() && f.unknown_brief != f.unknown_reason)
                fact["unknown_brief"] = f.unknown_brief;
        }
        fact["source"] = f.source;
        j[f.key] = std::move(fact);
    }
}

void from_json(const Json& j, Environment& env) {
    env = Environment{};
    if (!j.is_object()) throw std::runtime_error("'environment' is not an object");
    for (const auto& [key, f] : j.items()) {
        MachineFact fact;
        fact.key = key;
        fact.label = f.value("label", key);
        if (f.contains("value") && f.at("value").is_string()) fact.value = f.at("value").get<std::string>();
        fact.unknown_reason = f.value("unknown", "");
        fact.unknown_brief = f.value("unknown_brief", "");
        fact.source = f.value("source", "");
        if (const TypedFact* t = typed_fact(key); t && fact.value) {
            try {
                const Json typed = f.contains("typed") ? f.at("typed") : t->from_text(*fact.value);
                if (!typed.is_null()) t->set(env, typed);
            } catch (const Json::exception&) {
                throw std::runtime_error(fmt::format("environment fact '{}' has a typed value of the wrong kind", key));
            }
        }
        env.facts.push_back(std::move(fact));
    }
}

namespace {

Json bound_json(const Bound& b) {
    return Json{{"value", number(b.value)}, {"what", b.what}, {"tolerance", b.tolerance}};
}
Bound bound_of(const Json& j) {
    return Bound{number_of(j.value("value", Json())), j.value("what", ""), j.value("tolerance", 0.10)};
}

}  // namespace

void to_json(Json& j, const Unit& u) { j = std::string(u.name()); }

namespace {

// The unit named by a file's "unit" key (none where it has no key); one that proclab does not know
// is an error that names it, where it was found.
Unit unit_of(const Json& holder, std::string_view where) {
    const std::string name = holder.value("unit", "");
    if (const auto unit = Unit::read(name)) return *unit;
    throw std::runtime_error(fmt::format("{} has the unit '{}', which proclab does not know", where, name));
}

}  // namespace

void to_json(Json& j, const Fact& f) {
    j = Json{{"id", f.id}};
    if (f.is_number()) j["value"] = number(f.number());
    else if (f.is_flag()) j["value"] = f.flag();
    else j["value"] = f.text();
    j["unit"] = f.unit;
    j["what"] = f.what;
    if (f.floor) j["floor"] = bound_json(*f.floor);
    if (f.ceiling) j["ceiling"] = bound_json(*f.ceiling);
    if (f.implausible()) j["implausible"] = true;  // derived: for readers of the file, not read back
}

void from_json(const Json& j, Fact& f) {
    f = Fact{};
    f.id = j.at("id").get<std::string>();
    const Json& v = j.at("value");
    if (v.is_boolean()) f.value = v.get<bool>();
    else if (v.is_string()) f.value = v.get<std::string>();
    else f.value = number_of(v);
    f.unit = unit_of(j, fmt::format("fact '{}'", f.id));
    f.what = j.value("what", "");
    if (j.contains("floor")) f.floor = bound_of(j.at("floor"));
    if (j.contains("ceiling")) f.ceiling = bound_of(j.at("ceiling"));
}

void to_json(Json& j, const RuleInfo& r) {
    Json outcomes = Json::array();
    for (const auto& o : r.outcomes)
        outcomes.push_back(Json{{"verdict", to_string(o.verdict)}, {"when", o.when}, {"reached_by", o.reached_by}});
    j = Json{{"claim", r.claim},           {"demo", r.demo},           {"evidence", r.evidence},
             {"refuted_by", r.refuted_by}, {"guarantee", r.guarantee}, {"outcomes", std::move(outcomes)}};
}

void from_json(const Json& j, RuleInfo& r) {
    r = RuleInfo{};
    r.claim = j.at("claim").get<std::string>();
    r.demo = j.value("demo", "");
    r.evidence = j.value("evidence", "");
    r.refuted_by = j.value("refuted_by", "");
    r.guarantee = j.value("guarantee", false);
    for (const auto& o : j.value("outcomes", Json::array())) {
        const auto v = verdict_from_string(o.value("verdict", ""));
        if (!v) throw std::runtime_error(fmt::format("rule {}: unknown verdict '{}'", r.claim, o.value("verdict", "")));
        r.outcomes.push_back({*v, o.value("when", ""), o.value("reached_by", "")});
    }
}

void to_json(Json& j, const Decision& d) {
    j = Json{
        {"id", d.claim}, {"verdict", to_string(d.verdict)}, {"reason", d.reason_text()}, {"summary", d.summary_text()}};
    j["template"] = Json{{"reason", d.reason}, {"summary", d.summary}};
    j["facts"] = d.facts;
    j["refuted_by"] = d.refuted_by;
    if (d.guarantee) j["guarantee"] = true;
    if (!d.trial_verdicts.empty()) {
        Json each = Json::array();
        for (Verdict t : d.trial_verdicts) each.push_back(to_string(t));
        j["trials"] =
            Json{{"count", d.trial_verdicts.size()}, {"agreeing", d.agreeing_trials()}, {"verdicts", std::move(each)}};
    }
}

void from_json(const Json& j, Decision& d) {
    const std::string verdict = j.at("verdict").get<std::string>();
    const auto v = verdict_from_string(verdict);
    if (!v) throw std::runtime_error("unknown verdict '" + verdict + "'");
    if (j.contains("template")) {
        d = Decision{};
        d.claim = j.at("id").get<std::string>();
        d.verdict = *v;
        d.reason = j.at("template").value("reason", "");
        d.summary = j.at("template").value("summary", "");
        d.facts = j.value("facts", std::vector<Fact>{});
    } else {  // schema 1 and 2: the sentences were text
        d = Decision(j.at("id").get<std::string>(), *v, j.value("reason", ""), j.value("summary", ""));
    }
    d.refuted_by = j.value("refuted_by", "");
    d.guarantee = j.value("guarantee", false);
    if (j.contains("trials"))
        for (const auto& t : j.at("trials").at("verdicts"))
            if (auto tv = verdict_from_string(t.get<std::string>())) d.trial_verdicts.push_back(*tv);
}

void to_json(Json& j, const Metric& m) {
    j = Json{{"name", m.name}, {"value", number(m.value)}, {"unit", m.unit}, {"description", m.description}};
    if (m.summary) j["summary"] = *m.summary;
    if (m.headline) j["headline"] = true;
}

void from_json(const Json& j, Metric& m) {
    m = Metric{};
    m.name = j.at("name").get<std::string>();
    m.value = number_of(j.at("value"));
    m.unit = unit_of(j, fmt::format("metric '{}'", m.name));
    m.description = j.value("description", "");
    if (j.contains("summary")) m.summary = j.at("summary").get<Summary>();
    m.headline = j.value("headline", false);
}

void to_json(Json& j, const Table& t) {
    Json columns = Json::array();
    for (const auto& c : t.columns) columns.push_back(Json{{"label", c.label}, {"unit", c.unit}});
    Json rows = Json::array();
    for (const auto& row : t.rows) {
        Json r = Json::array();
        for (const auto& cell : row) {
            if (cell.is_number()) r.push_back(number(cell.number));
            else if (cell.is_text()) r.push_back(cell.text);
            else r.push_back(nullptr);
        }
        rows.push_back(std::move(r));
    }
    j = Json{{"title", t.title}, {"columns", std::move(columns)}, {"rows", std::move(rows)}, {"note", t.note}};
}

void from_json(const Json& j, Table& t) {
    t = Table{};
    t.title = j.value("title", "");
    t.note = j.value("note", "");
    for (const auto& c : j.value("columns", Json::array())) {
        if (c.is_string()) t.columns.emplace_back(c.get<std::string>());  // schema 1 and 2: labels only
        else t.columns.emplace_back(c.value("label", ""), unit_of(c, fmt::format("table '{}'", t.title)));
    }
    for (const auto& r : j.value("rows", Json::array())) {
        auto& row = t.rows.emplace_back();
        for (const auto& cell : r) {
            if (cell.is_number()) row.emplace_back(cell.get<double>());
            else if (cell.is_string()) row.emplace_back(cell.get<std::string>());
            else row.emplace_back();
        }
    }
}

void to_json(Json& j, const Figure& f) { j = Json{{"title", f.title}, {"lines", f.lines}, {"note", f.note}}; }

void from_json(const Json& j, Figure& f) {
    f.title = j.value("title", "");
    f.lines = j.value("lines", std::vector<std::string>{});
    f.note = j.value("note", "");
}

void to_json(Json& j, const Result& r) {
    j = Json::object();
    j["schema_version"] = kSchemaVersion;
    j["proclab_version"] = r.proclab_version;
    j["demo"] = r.demo;
    j["title"] = r.title;
    j["claims"] = r.verdicts;
    if (!r.rules.empty()) j["rules"] = r.rules;
    j["metrics"] = r.metrics;
    j["tables"] = r.tables;
    j["figures"] = r.figures;
    j["notes"] = r.notes;
    j["config"] = Json{{"quick", r.config.quick}, {"repeat", r.config.repeat}, {"timeout_s", r.config.timeout_s}};
    if (r.config.trials > 0) j["config"]["trials"] = r.config.trials;
    j["clock"] = Json{{"source", "CLOCK_MONOTONIC"},
                      {"read_overhead_ns", number(r.clock.read_overhead_ns)},
                      {"observed_resolution_ns", number(r.clock.observed_resolution_ns)},
                      {"reported_resolution_ns", number(r.clock.reported_resolution_ns)},
                      {"samples", r.clock.samples}};
    j["wall_time_s"] = r.wall_time_s;
    j["environment"] = r.environment;
    j["raw"] = r.raw.is_object() ? r.raw : Json::object();
    j["plots"] = r.plots;
}

void from_json(const Json& j, Result& r) {
    r = Result{};
    r.demo = j.at("demo").get<std::string>();
    r.title = j.value("title", "");
    r.proclab_version = j.value("proclab_version", "");
    r.verdicts = j.at("claims").get<std::vector<Decision>>();
    for (const auto& v : r.verdicts) r.claims.push_back(v.claim);
    r.rules = j.value("rules", std::vector<RuleInfo>{});
    r.metrics = j.at("metrics").get<std::vector<Metric>>();
    r.tables = j.value("tables", std::deque<Table>{});
    r.figures = j.value("figures", std::vector<Figure>{});
    r.notes = j.value("notes", std::vector<std::string>{});
    const Json config = j.value("config", Json::object());
    r.config.quick = config.value("quick", false);
    r.config.repeat = config.value("repeat", 0);
    r.config.timeout_s = config.value("timeout_s", 0.0);
    r.config.trials = config.value("trials", 0);
    const Json clock = j.value("clock", Json::object());
    r.clock.read_overhead_ns = number_of(clock.value("read_overhead_ns", Json(0)));
    r.clock.observed_resolution_ns = number_of(clock.value("observed_resolution_ns", Json(0)));
    r.clock.reported_resolution_ns = number_of(clock.value("reported_resolution_ns", Json(0)));
    r.clock.samples = clock.value("samples", 0);
    r.wall_time_s = j.value("wall_time_s", 0.0);
    r.environment = j.at("environment").get<Environment>();
    r.raw = j.contains("raw") && j.at("raw").is_object() ? j.at("raw") : Json::object();
    r.plots = j.value("plots", std::vector<plot::Plot>{});
}

std::string render_json(const Result& r) { return Json(r).dump(2) + "\n"; }

Result result_from_json(const Json& j) {
    if (!j.is_object()) throw std::runtime_error("result JSON is not an object");
    for (const char* key : {"demo", "claims", "metrics", "environment"})
        if (!j.contains(key)) throw std::runtime_error(fmt::format("result JSON has no '{}'", key));
    require_readable_schema(j.value("schema_version", 0), "result JSON");
    return j.get<Result>();
}

}  // namespace proclab
