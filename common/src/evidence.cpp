#include "proclab/evidence.hpp"

#include "proclab/aggregate.hpp"

#include "proclab/units.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

namespace proclab {

std::string_view to_string(Verdict v) {
    switch (v) {
        case Verdict::confirmed: return "confirmed";
        case Verdict::refuted: return "refuted";
        case Verdict::nuanced: return "nuanced";
        case Verdict::not_measured: return "not-measured";
    }
    return "not-measured";
}

std::optional<Verdict> verdict_from_string(std::string_view s) {
    for (Verdict v : {Verdict::confirmed, Verdict::refuted, Verdict::nuanced, Verdict::not_measured})
        if (to_string(v) == s) return v;
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Facts

double Fact::number() const {
    if (const auto* v = std::get_if<double>(&value)) return *v;
    throw std::logic_error(fmt::format("fact '{}' is not a number", id));
}

bool Fact::flag() const {
    if (const auto* v = std::get_if<bool>(&value)) return *v;
    throw std::logic_error(fmt::format("fact '{}' is not a flag", id));
}

const std::string& Fact::text() const {
    if (const auto* v = std::get_if<std::string>(&value)) return *v;
    throw std::logic_error(fmt::format("fact '{}' is not a text", id));
}

bool Fact::below_floor() const { return floor && is_number() && number() < floor->value * (1 - floor->tolerance); }

bool Fact::above_ceiling() const {
    return ceiling && is_number() && number() > ceiling->value * (1 + ceiling->tolerance);
}

bool operator==(const Bound& a, const Bound& b) {
    return a.value == b.value && a.what == b.what && a.tolerance == b.tolerance;
}

bool Fact::operator==(const Fact& o) const {
    return id == o.id && value == o.value && unit == o.unit && what == o.what && floor == o.floor &&
           ceiling == o.ceiling;
}

Fact number_fact(std::string id, double value, Unit unit, std::string what) {
    return Fact{std::move(id), value, unit, std::move(what), std::nullopt, std::nullopt};
}
Fact count_fact(std::string id, long long value, std::string what) {
    return number_fact(std::move(id), double(value), "count", std::move(what));
}
Fact flag_fact(std::string id, bool value, std::string what) {
    return Fact{std::move(id), value, "", std::move(what), std::nullopt, std::nullopt};
}
Fact text_fact(std::string id, std::string value, std::string what) {
    return Fact{std::move(id), std::move(value), "", std::move(what), std::nullopt, std::nullopt};
}

namespace {

std::string percent(double fraction) {
    const double p = 100 * fraction;
    return std::fabs(p) >= 10 || p == 0 ? fmt::format("{:.0f}%", p) : fmt::format("{:.1f}%", p);
}

std::string times(double v) { return std::fabs(v) >= 100 ? fmt::format("{:.0f}x", v) : fmt::format("{:.3g}x", v); }

}  // namespace

std::string render_fact(const Fact& f, std::string_view format) {
    if (f.is_flag()) return f.flag() ? "yes" : "no";
    if (f.is_text()) return f.text();
    const double v = f.number();
    if (format == "pct") return percent(v);
    if (format == "x") return times(v);
    if (format == "plain") return f.unit == "count" ? fmt::format("{:.0f}", v) : fmt::format("{:.3g}", v);
    if (format.starts_with("count ")) {
        // "count fault" or "count child/children": the count with its noun, singular for one.
        // A whole number of anything counts (CPUs are a count in one fact, a unit in another).
        if (v != std::round(v))
            throw TemplateError(fmt::format("':{}' takes a whole number, and '{}' is {}", format, f.id, v));
        const std::string_view noun = format.substr(6);
        const auto slash = noun.find('/');
        return counted(std::llround(v), noun.substr(0, slash),
                       slash == std::string_view::npos ? std::string_view{} : noun.substr(slash + 1));
    }
    if (!format.empty()) throw TemplateError(fmt::format("unknown format ':{}' for fact '{}'", format, f.id));
    if (f.unit == "fraction") return percent(v);
    if (f.unit == "x") return times(v);
    if (f.unit == "CPUs") return fmt::format("{:.2f} CPU{}", v, v == 1 ? "" : "s");
    return format_value(v, f.unit);
}

// ---------------------------------------------------------------------------------------------
// Templates

namespace {

const Fact* find_fact(const std::vector<Fact>& facts, std::string_view id) {
    for (const auto& f : facts)
        if (f.id == id) return &f;
    return nullptr;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

const Fact& need(const std::vector<Fact>& facts, std::string_view id, std::string_view tpl) {
    if (const Fact* f = find_fact(facts, id)) return *f;
    throw TemplateError(fmt::format("the placeholder {{{}}} names no fact the rule used (template: \"{}\")", id, tpl));
}

Segment placeholder(std::string_view body, const std::vector<Fact>& facts, std::string_view tpl) {
    Segment s;
    s.placeholder = true;
    if (const auto of = body.find(" of "); of != std::string_view::npos) {
        const Fact& part = need(facts, trim(body.substr(0, of)), tpl);
        const Fact& whole = need(facts, trim(body.substr(of + 4)), tpl);
        if (!part.is_number() || !whole.is_number())
            throw TemplateError(fmt::format("{{{}}}: a quantity takes two counts", body));
        const auto a = static_cast<long long>(std::llround(part.number())),
                   b = static_cast<long long>(std::llround(whole.number()));
        s.text = a == b && b == 2   ? std::string("both")
                 : a == b && b > 2  ? fmt::format("all {}", b)
                 : a == 0 && b >= 2 ? fmt::format("none of {}", b)
                                    : fmt::format("{} of {}", a, b);
        s.fact_ids = {part.id, whole.id};
        return s;
    }
    const auto colon = body.find(':');
    const std::string_view id = trim(body.substr(0, colon));
    const std::string_view format = colon == std::string_view::npos ? std::string_view{} : trim(body.substr(colon + 1));
    const Fact& f = need(facts, id, tpl);
    s.text = render_fact(f, format);
    s.fact_ids = {f.id};
    return s;
}

}  // namespace

std::vector<Segment> render_segments(std::string_view tpl, const std::vector<Fact>& facts) {
    std::vector<Segment> out;
    std::string literal;
    auto flush = [&] {
        if (!literal.empty()) out.push_back(Segment{false, std::move(literal), {}});
        literal.clear();
    };
    for (std::size_t i = 0; i < tpl.size(); ++i) {
        const char c = tpl[i];
        if ((c == '{' || c == '}') && i + 1 < tpl.size() && tpl[i + 1] == c) {
            literal += c;
            ++i;
            continue;
        }
        if (c == '}') throw TemplateError(fmt::format("a lone '}}' in \"{}\"", tpl));
        if (c != '{') {
            literal += c;
            continue;
        }
        const auto close = tpl.find('}', i);
        if (close == std::string_view::npos) throw TemplateError(fmt::format("an unclosed '{{' in \"{}\"", tpl));
        flush();
        out.push_back(placeholder(tpl.substr(i + 1, close - i - 1), facts, tpl));
        i = close;
    }
    flush();
    return out;
}

std::string render_template(std::string_view tpl, const std::vector<Fact>& facts) {
    std::string out;
    for (const auto& s : render_segments(tpl, facts)) out += s.text;
    return out;
}

std::string escape_template(std::string_view literal) {
    std::string out;
    for (char c : literal) {
        out += c;
        if (c == '{' || c == '}') out += c;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Decisions

Decision::Decision(std::string claim_id, Verdict v, std::string literal_reason, std::string literal_summary)
    : claim(std::move(claim_id)),
      verdict(v),
      reason(escape_template(literal_reason)),
      summary(escape_template(literal_summary)) {}

const Fact* Decision::fact(std::string_view id) const { return find_fact(facts, id); }

int Decision::agreeing_trials() const {
    return static_cast<int>(std::count(trial_verdicts.begin(), trial_verdicts.end(), verdict));
}

Rule::Rule(const RuleInfo& info) : info_(info) {}

const Fact& Rule::use(Fact f) {
    for (const auto& have : facts_) {
        if (have.id != f.id) continue;
        if (!(have == f))
            throw std::logic_error(
                fmt::format("rule {}: fact '{}' used twice with different values", info_.claim, f.id));
        return have;
    }
    facts_.push_back(std::move(f));
    return facts_.back();
}

Decision Rule::decide(Verdict v, std::string reason, std::string summary) const {
    Decision d;
    d.claim = info_.claim;
    d.refuted_by = info_.refuted_by;
    d.guarantee = info_.guarantee;
    d.facts = facts_;
    const auto bad = std::find_if(facts_.begin(), facts_.end(), [](const Fact& f) { return f.implausible(); });
    if (bad == facts_.end()) {
        d.verdict = v;
        d.reason = std::move(reason);
        d.summary = std::move(summary);
        return d;
    }
    // The figure the verdict would stand on is not what its label says: no verdict.
    const bool low = bad->below_floor();
    const Bound& bound = low ? *bad->floor : *bad->ceiling;
    const std::string bound_id = bad->id + (low ? "_floor" : "_ceiling");
    d.facts.push_back(number_fact(bound_id, bound.value, bad->unit, bound.what));
    d.facts.push_back(text_fact(bound_id + "_what", bound.what, "what bounds it"));
    d.facts.push_back(
        number_fact(bound_id + "_tolerance", bound.tolerance, "fraction", "the tolerance for noise in both"));
    d.facts.push_back(text_fact(bad->id + "_what", bad->what, "the figure"));
    d.verdict = Verdict::not_measured;
    const std::string implausible = fmt::format(
        "{{{0}_what}} measured {{{0}}}, {1} its {2} of {{{3}}} ({{{3}_what}}, +-{{{3}_tolerance}}): the figure is "
        "implausible, so no verdict stands on it",
        bad->id, low ? "below" : "above", low ? "floor" : "ceiling", bound_id);
    // A rule that had declined on its own (other load, a quota) keeps its reason first: that is the
    // cause, and the implausible figure is what it did (load slowing a one-thread baseline gave a
    // 2.46x speedup on 2 threads).
    d.reason = v == Verdict::not_measured ? reason + "; besides, " + implausible : implausible;
    d.summary = fmt::format("implausible: {{{0}}} {1} its {2} {{{3}}}", bad->id, low ? "below" : "above",
                            low ? "floor" : "ceiling", bound_id);
    return d;
}

Decision decide_from_trials(const std::vector<Decision>& trials, std::optional<std::size_t> prefer) {
    if (trials.empty()) return Decision("", Verdict::not_measured, "no trial ran");
    const int n = static_cast<int>(trials.size());
    std::vector<Verdict> verdicts;
    for (const auto& t : trials) verdicts.push_back(t.verdict);
    auto count = [&](Verdict v) { return static_cast<int>(std::count(verdicts.begin(), verdicts.end(), v)); };
    std::optional<Verdict> winner;
    for (Verdict v : {Verdict::confirmed, Verdict::nuanced, Verdict::not_measured})
        if (2 * count(v) > n) winner = v;
    if (count(Verdict::refuted) == n) winner = Verdict::refuted;

    // The trial shown: the first with the winning verdict; without a majority, the first refuted
    // one (the claim's most serious evidence), else the first.
    // The preferred trial (the one the demo's tables show), when it says the same.
    const Verdict shown_verdict = winner ? *winner : count(Verdict::refuted) > 0 ? Verdict::refuted : verdicts.front();
    const auto shown =
        prefer && *prefer < verdicts.size() && verdicts[*prefer] == shown_verdict
            ? *prefer
            : static_cast<std::size_t>(std::find(verdicts.begin(), verdicts.end(), shown_verdict) - verdicts.begin());
    Decision out = trials[shown];
    out.trial_verdicts = verdicts;
    out.facts.push_back(count_fact("trials", n, "independent trials"));
    out.facts.push_back(count_fact("shown_trial", long(shown) + 1, "the trial whose evidence is shown"));
    std::string counts;
    for (Verdict v : {Verdict::confirmed, Verdict::nuanced, Verdict::not_measured, Verdict::refuted}) {
        if (count(v) == 0) continue;
        std::string id = fmt::format("trials_{}", to_string(v));
        std::replace(id.begin(), id.end(), '-', '_');
        out.facts.push_back(count_fact(id, count(v), fmt::format("trials that said {}", to_string(v))));
        counts += fmt::format("{}{{{}}} {}", counts.empty() ? "" : ", ", id, to_string(v));
    }
    if (!winner) {
        out.verdict = Verdict::not_measured;
        out.reason = fmt::format(
            "the {{trials:count trial}} disagreed ({}), so no verdict holds; trial {{shown_trial}} said: {}", counts,
            out.reason);
        out.summary = fmt::format("trials disagreed: {}", counts);
        return out;
    }
    out.facts.push_back(count_fact("agreeing_trials", count(*winner), "trials that agree with the verdict"));
    const std::string suffix =
        count(*winner) == n
            ? " ({agreeing_trials of trials} trials agree; shown: trial {shown_trial})"
            : fmt::format(" ({{agreeing_trials}} of {{trials:count trial}}; {}; shown: trial {{shown_trial}})", counts);
    out.reason += suffix;
    out.summary = (out.summary.empty() ? out.reason : out.summary) + " [{agreeing_trials} of {trials:count trial}]";
    return out;
}

// ---------------------------------------------------------------------------------------------
// Sentence checks

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Words of a literal: runs of letters, digits, '_' and '.'.
std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::string word;
    for (char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (c == '.' && !word.empty())) {
            word += c;
        } else if (!word.empty()) {
            out.push_back(word);
            word.clear();
        }
    }
    if (!word.empty()) out.push_back(word);
    return out;
}

bool backs(const Fact& f, std::string_view word) {
    if (lower(f.id).find(word) == std::string::npos) return false;
    if (f.is_flag()) return f.flag();
    if (f.is_text()) return !f.text().empty();
    return true;
}

void check_literal(std::string_view literal, const std::vector<Fact>* facts, std::vector<std::string>& problems) {
    for (const auto& w : words(literal)) {
        const std::string lw = lower(w);
        if (std::isdigit(static_cast<unsigned char>(w.front())))
            problems.push_back(fmt::format("the number '{}' is fixed text, not a fact", w));
        for (auto q : kQuantifierWords)
            if (lw == q)
                problems.push_back(
                    fmt::format("the quantifier '{}' is fixed text: it must come from a fact or a quantity", w));
        for (auto o : kOutcomeWords) {
            if (lw != o) continue;
            const bool backed =
                facts && std::any_of(facts->begin(), facts->end(), [&](const Fact& f) { return backs(f, o); });
            if (!backed)
                problems.push_back(fmt::format("the word '{}' is backed by no fact (none whose id names it)", w));
        }
    }
}

}  // namespace

std::vector<std::string> check_sentence(const Decision& d) {
    std::vector<std::string> problems;
    for (const std::string* tpl : {&d.reason, &d.summary}) {
        try {
            for (const auto& s : render_segments(*tpl, d.facts))
                if (!s.placeholder) check_literal(s.text, &d.facts, problems);
        } catch (const TemplateError& e) {
            problems.push_back(e.what());
        }
    }
    for (const auto& f : d.facts)
        if (f.id.empty() || f.id.find_first_of(" {}:") != std::string::npos)
            problems.push_back(fmt::format("fact id '{}' is not a plain id", f.id));
    return problems;
}

std::vector<std::string> check_literal_sentence(std::string_view text) {
    std::vector<std::string> problems;
    check_literal(text, nullptr, problems);
    return problems;
}

}  // namespace proclab
