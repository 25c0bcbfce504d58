// Evidence as data: what a verdict rule read, and the verdict with every word of its sentence
// tied to it (docs/schema.md, "Decisions").
//
// A Fact is a named measurement of this run: a number with its unit, a flag or a text, with a
// short label, and where physics bounds it a floor or a ceiling measured in the same run (a
// cache line's round trip under a hand-off, the CPUs allowed over a sum of shares). A rule reads
// facts and returns a Decision: the verdict, the facts it used, and its sentences as templates
// whose placeholders name those facts ("{siblings_alive of siblings} siblings answered"). The
// renderer fills the templates; nothing else writes a number or a data-dependent word into a
// sentence, and check_sentence() says where a template breaks that (every rule's test runs it).
//
// Template syntax: {id} a fact as its unit renders it; {id:pct} a number as a percentage, {id:x}
// as a factor ("1.98x"), {id:plain} without its unit; {a of b} two counts as a quantity ("all 4",
// "both", "none of 4", "3 of 4"); {{ and }} literal braces.
#pragma once

#include "proclab/units.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace proclab {

enum class Verdict { confirmed, refuted, nuanced, not_measured };

std::string_view to_string(Verdict v);
std::optional<Verdict> verdict_from_string(std::string_view s);

// A physical bound a figure must respect, measured in this run, with a tolerance for the noise
// of both measurements: a figure beyond bound +- tolerance is implausible.
struct Bound {
    double value = 0;         // in the fact's unit
    std::string what;         // "two one-way trips of a cache line between CPUs 0 and 1, this run"
    double tolerance = 0.10;  // a fraction of the bound
};

struct Fact {
    std::string id;  // stable, snake_case, unique within a decision: "siblings_alive"
    std::variant<double, bool, std::string> value;
    // Numbers: ns, bytes, B/s, count, ratio, x, fraction, CPUs (or any other word); "" for flags and text.
    Unit unit;
    std::string what;  // a short label: "siblings that answered a ping after the crash"
    std::optional<Bound> floor, ceiling;

    bool is_number() const { return std::holds_alternative<double>(value); }
    bool is_flag() const { return std::holds_alternative<bool>(value); }
    bool is_text() const { return std::holds_alternative<std::string>(value); }
    double number() const;  // throws std::logic_error when not a number
    bool flag() const;
    const std::string& text() const;
    // Below its floor or above its ceiling, beyond the bound's tolerance.
    bool below_floor() const;
    bool above_ceiling() const;
    bool implausible() const { return below_floor() || above_ceiling(); }

    bool operator==(const Fact&) const;
};

bool operator==(const Bound& a, const Bound& b);

// Fact builders.
Fact number_fact(std::string id, double value, Unit unit, std::string what);
Fact count_fact(std::string id, long long value, std::string what);
Fact flag_fact(std::string id, bool value, std::string what);
Fact text_fact(std::string id, std::string value, std::string what);

// A fact's value as a sentence shows it: "1.23 µs", "4", "52%", "1.98x", "yes", "SIGSEGV".
// format: "" (by unit), "pct", "x", "plain", or "count NOUN" for a count with its noun, singular for
// one ("count fault": "1 fault", "3 faults"; "count child/children" names an irregular plural).
std::string render_fact(const Fact& f, std::string_view format = {});

class TemplateError : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

// A template cut into literal text and filled placeholders.
struct Segment {
    bool placeholder = false;
    std::string text;                   // the literal, or the placeholder's rendering
    std::vector<std::string> fact_ids;  // the facts a placeholder names
};

// Throws TemplateError naming a placeholder whose fact is not in `facts`, or a malformed one.
std::vector<Segment> render_segments(std::string_view tpl, const std::vector<Fact>& facts);
std::string render_template(std::string_view tpl, const std::vector<Fact>& facts);
// The text as a literal template: braces doubled.
std::string escape_template(std::string_view literal);

// What a claim's rule reads and what would refute it, as data: printed beside the verdict
// ("would be refuted by"), and in the generated table of docs/verdict-rules.md.
struct RuleInfo {
    std::string claim = {};       // "P1"
    std::string demo = {};        // filled by the harness
    std::string evidence = {};    // what the rule reads
    std::string refuted_by = {};  // the observation that would refute the claim
    // A guarantee of Linux (POSIX, the kernel's design): the demo shows it happening, it is not a
    // test that could fail on a working kernel; shown as "a guarantee, demonstrated".
    bool guarantee = false;
    // Each verdict the rule can reach on Linux, the observation behind it, and the test (a Catch
    // test case of tests/, by its name) that reaches it: an outcome no test reaches is a defect,
    // which the docs test `rules.every_outcome_reached` reports.
    struct Outcome {
        Verdict verdict = Verdict::not_measured;
        std::string when = {};
        std::string reached_by = {};

        bool operator==(const Outcome&) const = default;
    };
    std::vector<Outcome> outcomes = {};

    bool operator==(const RuleInfo&) const = default;
};

struct Decision {
    Decision() = default;
    // A verdict whose sentence is fixed text: for a demo that failed before a rule ran, and for
    // results read from files older than schema 3 (their sentences were written as text).
    Decision(std::string claim_id, Verdict v, std::string literal_reason, std::string literal_summary = {});

    std::string claim;  // "P1"
    Verdict verdict = Verdict::not_measured;
    std::string reason;       // template: one or two sentences naming the evidence
    std::string summary;      // template: the evidence in a few words, for the claims table
    std::vector<Fact> facts;  // every fact the rule used, as it was
    std::string refuted_by;
    bool guarantee = false;
    // Where the verdict came from repeated independent trials: each trial's own verdict, in order
    // (empty when it was decided once, from a deterministic observation).
    std::vector<Verdict> trial_verdicts;

    std::string reason_text() const { return render_template(reason, facts); }
    std::string summary_text() const { return render_template(summary.empty() ? reason : summary, facts); }
    const Fact* fact(std::string_view id) const;
    int agreeing_trials() const;

    bool operator==(const Decision&) const = default;
};

// Collects the facts a rule reads and makes its Decision. A fact used twice with different values
// is a bug in the rule (std::logic_error). When a used fact is implausible (beyond its floor or
// ceiling), decide() returns not-measured with both numbers instead: no verdict stands on a
// figure that is not what its label says.
class Rule {
public:
    explicit Rule(const RuleInfo& info);

    const Fact& use(Fact f);
    double number(Fact f) { return use(std::move(f)).number(); }
    bool flag(Fact f) { return use(std::move(f)).flag(); }
    const std::string& text(Fact f) { return use(std::move(f)).text(); }

    Decision decide(Verdict v, std::string reason, std::string summary = {}) const;
    Decision confirmed(std::string reason, std::string summary = {}) const {
        return decide(Verdict::confirmed, std::move(reason), std::move(summary));
    }
    Decision nuanced(std::string reason, std::string summary = {}) const {
        return decide(Verdict::nuanced, std::move(reason), std::move(summary));
    }
    Decision refuted(std::string reason, std::string summary = {}) const {
        return decide(Verdict::refuted, std::move(reason), std::move(summary));
    }
    Decision not_measured(std::string reason, std::string summary = {}) const {
        return decide(Verdict::not_measured, std::move(reason), std::move(summary));
    }

private:
    const RuleInfo& info_;
    std::vector<Fact> facts_;
};

// decide_from_trials(), one verdict from R trials, is in aggregate.hpp beside the other ways
// verdicts are combined.

// Words whose truth depends on the data. A quantifier may come only from a placeholder (a fact
// or a quantity); an outcome word in a template's literal text needs a used fact whose id names
// it (a count of any value, a true flag, a non-empty text): "{stopped of runaways} runaways
// stopped" is backed by the fact 'stopped'.
inline constexpr std::string_view kQuantifierWords[] = {"all",    "every", "none",      "both",
                                                        "always", "never", "throughout"};
inline constexpr std::string_view kOutcomeWords[] = {"stopped", "refused", "allowed", "killed", "died",
                                                     "crashed", "lost",    "sigsegv", "sigterm"};

// Where a decision's sentences break the rules above: a placeholder naming no used fact, a number
// or a quantifier in the literal text, an outcome word no fact backs. Empty when it is sound.
std::vector<std::string> check_sentence(const Decision& d);
// The same for a sentence given as fixed text (a decision from an older file, or any string).
std::vector<std::string> check_literal_sentence(std::string_view text);

}  // namespace proclab
