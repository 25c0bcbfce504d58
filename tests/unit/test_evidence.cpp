// Typed evidence (common/evidence.cpp, common/serialize.cpp): facts, sentence templates, the
// sentence checks every rule's test runs, floors and ceilings, and the JSON that carries them.
#include "proclab/evidence.hpp"
#include "proclab/serialize.hpp"

#include <catch2/catch.hpp>

using namespace proclab;

namespace {
const RuleInfo kRule{"P1", "", "the runaways and their siblings", "a sibling dying beside a runaway", false, {}};

bool mentions(const std::vector<std::string>& problems, std::string_view what) {
    for (const auto& p : problems)
        if (p.find(what) != std::string::npos) return true;
    return false;
}
}  // namespace

TEST_CASE("a fact renders by its unit, or as asked", "[evidence]") {
    CHECK(render_fact(number_fact("t", 1234, "ns", "")) == "1.23 µs");
    CHECK(render_fact(count_fact("n", 4, "")) == "4");
    CHECK(render_fact(number_fact("s", 0.52, "fraction", "")) == "52%");
    CHECK(render_fact(number_fact("s", 0.031, "fraction", "")) == "3.1%");
    CHECK(render_fact(number_fact("r", 1.984, "x", "")) == "1.98x");
    CHECK(render_fact(number_fact("r", 642.1, "x", "")) == "642x");
    CHECK(render_fact(number_fact("c", 1.98, "CPUs", "")) == "1.98 CPUs");
    CHECK(render_fact(number_fact("r", 0.5, "ratio", ""), "pct") == "50%");
    CHECK(render_fact(number_fact("r", 3.0, "ratio", ""), "x") == "3x");
    CHECK(render_fact(flag_fact("f", true, "")) == "yes");
    CHECK(render_fact(text_fact("s", "SIGSEGV", "")) == "SIGSEGV");
    CHECK_THROWS_AS(render_fact(count_fact("n", 4, ""), "bold"), TemplateError);
    // A count with its noun: singular for one, the given plural where "s" is wrong.
    CHECK(render_fact(count_fact("n", 1, ""), "count fault") == "1 fault");
    CHECK(render_fact(count_fact("n", 0, ""), "count fault") == "0 faults");
    CHECK(render_fact(count_fact("n", 1, ""), "count child/children") == "1 child");
    CHECK(render_fact(count_fact("n", 3, ""), "count child/children") == "3 children");
    CHECK(render_fact(number_fact("c", 1, "CPUs", ""), "count CPU") == "1 CPU");
    CHECK_THROWS_AS(render_fact(number_fact("c", 1.5, "CPUs", ""), "count CPU"), TemplateError);
}

TEST_CASE("a template is filled from the facts it names, and only from them", "[evidence]") {
    const std::vector<Fact> facts{count_fact("stopped", 3, ""), count_fact("runaways", 4, ""),
                                  count_fact("none", 0, ""), number_fact("loss", 0.22, "fraction", "")};
    CHECK(render_template("{stopped of runaways} runaways stopped, siblings lost {loss}", facts) ==
          "3 of 4 runaways stopped, siblings lost 22%");
    CHECK(render_template("{runaways of runaways}", facts) == "all 4");
    CHECK(render_template("{none of runaways}", facts) == "none of 4");
    CHECK(render_template("a {{literal}} brace", facts) == "a {literal} brace");
    CHECK(render_template(escape_template("x {y}"), facts) == "x {y}");
    CHECK_THROWS_WITH(render_template("{missing} things", facts), Catch::Contains("{missing} names no fact"));
    CHECK_THROWS_AS(render_template("{stopped", facts), TemplateError);
    CHECK_THROWS_AS(render_template("stopped}", facts), TemplateError);
}

TEST_CASE("the sentence check finds fixed numbers, fixed quantifiers and unbacked outcome words", "[evidence]") {
    Rule rule(kRule);
    rule.use(count_fact("runaways", 4, "runaways measured"));
    rule.use(count_fact("runaways_stopped", 3, "runaways a limit stopped"));
    CHECK(check_sentence(rule.nuanced("{runaways_stopped of runaways} runaways stopped by a limit")).empty());
    CHECK(mentions(check_sentence(rule.nuanced("4 runaways")), "the number '4'"));
    CHECK(mentions(check_sentence(rule.nuanced("all {runaways} runaways")), "quantifier 'all'"));
    CHECK(mentions(check_sentence(rule.nuanced("{runaways} runaways, siblings working throughout")),
                   "quantifier 'throughout'"));
    CHECK(mentions(check_sentence(rule.nuanced("{runaways} runaways, a SIGSEGV")), "'SIGSEGV' is backed by no fact"));
    CHECK(mentions(check_sentence(rule.nuanced("{runaways} runaways", "{unknown}")), "names no fact"));
    // A flag backs a word only when it is true.
    Rule flagged(kRule);
    flagged.use(flag_fact("child_killed", false, "the child was killed"));
    CHECK(mentions(check_sentence(flagged.confirmed("the child killed")), "'killed' is backed by no fact"));
}

TEST_CASE("the check fails on the P1 sentence that schema 2 carried as text", "[evidence]") {
    // isolation_matrix's summary in a recorded run, where the CPU runaway had no limit and its siblings lost 52-57%.
    const auto problems = check_literal_sentence(
        "4 of 4 runaways stopped by their limit, siblings working throughout; the same user may signal and trace");
    CHECK(mentions(problems, "the number '4'"));
    CHECK(mentions(problems, "'stopped' is backed by no fact"));
    CHECK(mentions(problems, "quantifier 'throughout'"));
}

TEST_CASE("a rule that stands on a figure beyond its floor or ceiling decides nothing", "[evidence]") {
    Rule rule(kRule);
    Fact handoff = number_fact("pool_handoff", 30, "ns", "a task handed to a pool worker and back");
    handoff.floor = Bound{56, "two one-way trips of a cache line between CPUs 0 and 1, this run", 0.10};
    CHECK(handoff.implausible());
    rule.use(handoff);
    const Decision d = rule.confirmed("the hand-off took {pool_handoff}");
    CHECK(d.verdict == Verdict::not_measured);
    CHECK_THAT(d.reason_text(), Catch::Contains("30 ns") && Catch::Contains("below its floor of 56 ns") &&
                                    Catch::Contains("implausible"));
    CHECK(check_sentence(d).empty());
    // Within the tolerance it stands.
    Rule close(kRule);
    handoff.value = 52.0;
    close.use(handoff);
    CHECK(close.confirmed("the hand-off took {pool_handoff}").verdict == Verdict::confirmed);
    // A ceiling works the same way.
    Rule above(kRule);
    Fact speedup = number_fact("speedup", 2.4, "x", "two threads against one");
    speedup.ceiling = Bound{2, "the thread count", 0.05};
    above.use(speedup);
    CHECK_THAT(above.confirmed("{speedup}").reason_text(), Catch::Contains("above its ceiling of 2"));
    // A rule that declined on its own (other load) keeps its cause first; the figure comes after.
    const Decision declined = above.not_measured("other load was not surely below the margin: {speedup}", "load");
    CHECK(declined.verdict == Verdict::not_measured);
    CHECK_THAT(declined.reason_text(), Catch::StartsWith("other load was not surely below the margin") &&
                                           Catch::Contains("besides") && Catch::Contains("above its ceiling of 2"));
}

TEST_CASE("a fact used twice must be the same fact", "[evidence]") {
    Rule rule(kRule);
    rule.use(count_fact("n", 4, "a count"));
    CHECK_NOTHROW(rule.use(count_fact("n", 4, "a count")));
    CHECK_THROWS_AS(rule.use(count_fact("n", 5, "a count")), std::logic_error);
}

TEST_CASE("a decision survives the JSON round trip with its facts and templates", "[evidence]") {
    Rule rule(kRule);
    Fact f = number_fact("loss", 0.22, "fraction", "the siblings' loss");
    f.ceiling = Bound{1, "all of their progress", 0};
    rule.use(f);
    rule.use(text_fact("how", "RLIMIT_AS", "the mechanism"));
    rule.use(flag_fact("alive", true, "siblings alive"));
    Decision d = rule.nuanced("siblings lost {loss} beside {how}", "lost {loss}");
    d.trial_verdicts = {Verdict::nuanced, Verdict::confirmed, Verdict::nuanced};
    const Json j = d;
    CHECK(j.at("reason") == "siblings lost 22% beside RLIMIT_AS");
    CHECK(j.at("template").at("reason") == "siblings lost {loss} beside {how}");
    CHECK(j.at("refuted_by") == "a sibling dying beside a runaway");
    const auto back = j.get<Decision>();
    CHECK(back == d);
    // Schema 2 wrote sentences as text: read back as literal templates.
    const auto old =
        Json{{"id", "P1"}, {"verdict", "confirmed"}, {"reason", "4 pids {sic}"}, {"summary", ""}}.get<Decision>();
    CHECK(old.reason_text() == "4 pids {sic}");
    CHECK(old.facts.empty());
}

TEST_CASE("a result survives the JSON round trip: what a demo writes is what the runner reads", "[evidence]") {
    Result r;
    r.demo = std::string("demo_x");  // (a literal assigned here trips GCC 12's -Wrestrict false positive)
    r.claims = {"P1"};
    Rule rule(kRule);
    rule.use(count_fact("pids", 3, "pids"));
    r.add_decision(rule.confirmed("{pids} pids"));
    r.rules = {kRule};
    r.add_metric("m", summarize(std::vector<double>{1, 2, 3}), "ns", "a metric").headline = true;
    auto& t = r.add_table("t", {"what", {"time", "ns"}, {"share", "fraction"}});
    t.rows.push_back({"a", 1500.0, 0.5});
    t.rows.push_back({"b", Cell{}, 0.25});
    r.figures.push_back({"f", {"##.."}, "n"});
    r.raw = Json{{"series", {1, 2}}};
    r.environment.facts = {{"kernel_release", "kernel", "6.1", "uname(2)", "", ""}};
    const Json once = r;
    const Json twice = once.get<Result>();
    CHECK(once == twice);
    CHECK(once.at("tables")[0].at("rows")[1][1].is_null());
}
