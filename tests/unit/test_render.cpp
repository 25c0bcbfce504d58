#include "proclab/render.hpp"
#include "proclab/serialize.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>

using namespace proclab;

namespace {

Result sample_result() {
    Result r;
    r.demo = "demo_x";
    r.title = "a title";
    r.claims = {"P1", "P3"};
    r.proclab_version = "9.9.9";
    static const RuleInfo p1{"P1", "", "pids of the children", "two processes with one pid", false, {}};
    Rule rule(p1);
    rule.use(count_fact("pids", 4, "distinct pids"));
    r.add_decision(rule.confirmed("{pids} pids differ", "{pids} pids"));
    r.set_verdict("P3", Verdict::nuanced, "root reads across");
    r.add_metric("round_trip", summarize(std::vector<double>{100, 200, 300, 400}), "ns", "a round trip");
    r.add_metric("children", 3, "count", "children spawned");
    auto& t = r.add_table("Table", {"a", {"b", "ns"}});
    t.rows.push_back({"1", 1500.0});
    t.note = "a note";
    r.figures.push_back({"Figure", {"ab..", "..ba"}, "how to read it"});
    r.notes = {"a finding"};
    r.raw = Json{{"intervals", {1, 2}}};
    r.environment.facts = {{"kernel_release", "kernel", "6.1.0", "uname(2)", "", ""},
                           {"yama_ptrace_scope", "Yama ptrace_scope", std::nullopt,
                            "/proc/sys/kernel/yama/ptrace_scope", "Yama LSM not present", "Yama not present"}};
    r.clock = ClockCalibration{20, 10, 1, 1000};
    r.config = RunConfig{true, 5, 60};
    r.wall_time_s = 1.5;
    return r;
}

}  // namespace

TEST_CASE("JSON rendering produces exactly the documented text", "[render]") {
    const std::string expected = R"json({
  "schema_version": 4,
  "proclab_version": "9.9.9",
  "demo": "demo_x",
  "title": "a title",
  "claims": [
    {
      "id": "P1",
      "verdict": "confirmed",
      "reason": "4 pids differ",
      "summary": "4 pids",
      "template": {
        "reason": "{pids} pids differ",
        "summary": "{pids} pids"
      },
      "facts": [
        {
          "id": "pids",
          "value": 4.0,
          "unit": "count",
          "what": "distinct pids"
        }
      ],
      "refuted_by": "two processes with one pid"
    },
    {
      "id": "P3",
      "verdict": "nuanced",
      "reason": "root reads across",
      "summary": "root reads across",
      "template": {
        "reason": "root reads across",
        "summary": ""
      },
      "facts": [],
      "refuted_by": ""
    }
  ],
  "metrics": [
    {
      "name": "round_trip",
      "value": 250.0,
      "unit": "ns",
      "description": "a round trip",
      "summary": {
        "count": 4,
        "min": 100.0,
        "median": 250.0,
        "mean": 250.0,
        "p90": 370.0,
        "p99": 397.0,
        "max": 400.0,
        "stddev": 129.09944487358058,
        "cv": 0.5163977794943223,
        "distribution": {
          "kind": "samples",
          "values": [
            100.0,
            200.0,
            300.0,
            400.0
          ]
        }
      }
    },
    {
      "name": "children",
      "value": 3.0,
      "unit": "count",
      "description": "children spawned"
    }
  ],
  "tables": [
    {
      "title": "Table",
      "columns": [
        {
          "label": "a",
          "unit": ""
        },
        {
          "label": "b",
          "unit": "ns"
        }
      ],
      "rows": [
        [
          "1",
          1500.0
        ]
      ],
      "note": "a note"
    }
  ],
  "figures": [
    {
      "title": "Figure",
      "lines": [
        "ab..",
        "..ba"
      ],
      "note": "how to read it"
    }
  ],
  "notes": [
    "a finding"
  ],
  "config": {
    "quick": true,
    "repeat": 5,
    "timeout_s": 60.0
  },
  "clock": {
    "source": "CLOCK_MONOTONIC",
    "read_overhead_ns": 20.0,
    "observed_resolution_ns": 10.0,
    "reported_resolution_ns": 1.0,
    "samples": 1000
  },
  "wall_time_s": 1.5,
  "environment": {
    "kernel_release": {
      "label": "kernel",
      "value": "6.1.0",
      "source": "uname(2)"
    },
    "yama_ptrace_scope": {
      "label": "Yama ptrace_scope",
      "value": null,
      "unknown": "Yama LSM not present",
      "unknown_brief": "Yama not present",
      "source": "/proc/sys/kernel/yama/ptrace_scope"
    }
  },
  "raw": {
    "intervals": [
      1,
      2
    ]
  },
  "plots": []
}
)json";
    CHECK(render_json(sample_result()) == expected);
}

TEST_CASE("the runner reads back what a demo wrote", "[render]") {
    const auto back = result_from_json(Json(sample_result()));
    CHECK(back.demo == "demo_x");
    REQUIRE(back.verdicts.size() == 2);
    CHECK(back.verdicts[1].verdict == Verdict::nuanced);
    CHECK(back.verdicts[1].reason == "root reads across");
    REQUIRE(back.metric("children"));
    CHECK(back.metric("children")->value == 3);
    CHECK(back.wall_time_s == 1.5);
}

TEST_CASE("a plot travels in the result's JSON and comes back the same", "[render][plot]") {
    Result r = sample_result();
    plot::Panel lines{
        .title = "lines", .x = {.label = "N", .scale = plot::Scale::log2}, .y = {.label = "µs", .min = 0}};
    plot::set_ticks(lines.x, std::vector<int>{1, 2, 4}, [](int n) { return std::to_string(n); });
    lines.series.push_back({.label = "measured", .x = {1, 2, 4}, .y = {3, NAN, 1}, .colour = 2, .marker = "o"});
    lines.series.push_back({.mark = plot::Mark::hline, .y = {0.5}, .grey = true, .line = ":"});
    lines.series.push_back({.mark = plot::Mark::intervals, .intervals = {{0, 1.5, 0}, {2, 3, 1}}, .hatch = "//"});
    plot::Panel grid{.title = "grid",
                     .cells = plot::Cells{.rows = {"a"},
                                          .columns = {"x", "y"},
                                          .values = {{1.0, std::nullopt}},
                                          .text = {{"one", ""}},
                                          .palette = {"#ffffff", "#000000"}}};
    r.plots.push_back(
        {.file = "p.png", .caption = "what it shows", .width = 9, .side_by_side = true, .panels = {lines, grid}});
    const Json j = Json::parse(render_json(r));
    CHECK(j.at("plots")[0].at("panels")[0].at("series")[0].at("y")[1].is_null());      // NaN: JSON has none
    CHECK_FALSE(j.at("plots")[0].at("panels")[0].at("series")[0].contains("hollow"));  // defaults left out
    const Result back = result_from_json(j);
    REQUIRE(back.plots.size() == 1);
    const auto& p = back.plots[0];
    CHECK(p.caption == "what it shows");
    CHECK(p.width == 9);
    CHECK(p.side_by_side);
    REQUIRE(p.panels.size() == 2);
    CHECK(p.panels[0].x.scale == plot::Scale::log2);
    CHECK(p.panels[0].x.tick_labels == std::vector<std::string>{"1", "2", "4"});
    CHECK(p.panels[0].y.min == 0);
    CHECK_FALSE(p.panels[0].y.max);
    const auto& s = p.panels[0].series;
    CHECK(s[0].colour == 2);
    CHECK(std::isnan(s[0].y[1]));
    CHECK(s[1].mark == plot::Mark::hline);
    CHECK(s[1].grey);
    CHECK(s[2].intervals.size() == 2);
    CHECK(s[2].hatch == "//");
    REQUIRE(p.panels[1].cells);
    CHECK(p.panels[1].cells->values[0][0] == 1.0);
    CHECK_FALSE(p.panels[1].cells->values[0][1]);
    CHECK(p.panels[1].cells->text[0][0] == "one");
    CHECK(p.panels[1].cells->palette.size() == 2);
    CHECK(plot::size_label(8) == "8");
    CHECK(plot::size_label(4096) == "4K");
    CHECK(plot::size_label(1 << 20) == "1M");
}

TEST_CASE("reading a result without its claims names what is missing", "[render]") {
    auto j = Json(sample_result());
    j.erase("claims");
    CHECK_THROWS_WITH(result_from_json(j), "result JSON has no 'claims'");
    auto bad = Json(sample_result());
    bad["claims"][0]["verdict"] = "probably";
    CHECK_THROWS(result_from_json(bad));
    // Schema 1 (no distributions) is still read; a newer schema is refused with a clear message.
    auto old = Json(sample_result());
    old["schema_version"] = 1;
    CHECK_NOTHROW(result_from_json(old));
    auto newer = Json(sample_result());
    newer["schema_version"] = kSchemaVersion + 1;
    CHECK_THROWS_WITH(result_from_json(newer), Catch::Contains("this proclab reads 1 to"));
}

TEST_CASE("the terminal report shows every part, without colour codes unless asked", "[render]") {
    const auto plain = render_terminal(sample_result(), RenderStyle{false, 100});
    CHECK(plain.find('\033') == std::string::npos);
    for (const char* part :
         {"demo_x — a title", "claims P1, P3", "Environment", "unknown: Yama not present", "Table", "a note", "  ab..",
          "a round trip", "250 ns", "note: a finding", "P1  confirmed", "P3  nuanced"})
        CHECK_THAT(plain, Catch::Contains(part));
    // A metric is shown by what it measures; its id (a code name) only with --verbose.
    CHECK_THAT(plain, !Catch::Contains("round_trip"));
    CHECK_THAT(plain, !Catch::Contains("Yama LSM not present"));  // the full reason is for --verbose and JSON
    CHECK_THAT(render_terminal(sample_result(), RenderStyle{false, 100, true}),
               Catch::Contains("unknown: Yama LSM not present") && Catch::Contains("round_trip"));
    const auto coloured = render_terminal(sample_result(), RenderStyle{true, 100});
    CHECK_THAT(coloured, Catch::Contains("\033[32mconfirmed\033[0m"));
}

TEST_CASE("NO_COLOR turns colour off even where it would be on", "[render]") {
    ::setenv("NO_COLOR", "1", 1);
    CHECK_FALSE(want_colour(1));
    ::unsetenv("NO_COLOR");
}

TEST_CASE("values are shown with their unit scaled for reading", "[render]") {
    CHECK(format_value(19, "ns") == "19 ns");
    CHECK(format_value(1234, "ns") == "1.23 µs");
    CHECK(format_value(2.5e6, "ns") == "2.5 ms");
    CHECK(format_value(443000, "/s") == "443k/s");
    CHECK(format_value(1.25e6, "/s") == "1.25M/s");
    CHECK(format_value(12, "/s") == "12/s");
    CHECK(format_value(3e9, "ns") == "3 s");
    CHECK(format_value(3 * 1024 * 1024, "bytes") == "3 MiB");
    CHECK(format_value(1.5 * 1024 * 1024 * 1024, "B/s") == "1.5 GiB/s");
    CHECK(format_value(512 * 1024, "B/s") == "512 KiB/s");
    CHECK(format_value(3, "count") == "3");
    CHECK(format_value(0.4567, "ratio") == "0.457");
}

TEST_CASE("tables align on characters, not bytes", "[render]") {
    TextTable t({"name", "value"});
    t.add_row({"µs", "1"});
    t.add_row({"long name", "22"});
    CHECK(t.render("") ==
          "name       value\n"
          "---------  -----\n"
          "µs         1\n"
          "long name  22\n");
}

TEST_CASE("long text wraps under its prefix", "[render]") {
    CHECK(wrap("one two three four", 14, "    ") == "one two\n    three four");
    CHECK(wrap("short", 80, "  ") == "short");
    CHECK(display_width("\033[32mok\033[0m") == 2);
}

TEST_CASE("a unit is one of the known ones: a literal checked while compiling, a file's name read or refused",
          "[render][units]") {
    constexpr Unit ns = "ns";
    static_assert(ns.name() == "ns");
    static_assert(Unit{}.empty());
    CHECK(Unit::parse("B/s") == Unit("B/s"));
    CHECK_FALSE(Unit::parse("per s"));
    CHECK(Unit::read("per s") == Unit("/s"));  // an older file's spelling of a rate
    CHECK_FALSE(Unit::read("furlongs"));
    CHECK(format_value(1234, "ns") == "1.23 µs");
    // A metric whose unit proclab does not know is refused with a line that names both.
    auto j = Json(sample_result());
    j["metrics"][0]["unit"] = "furlongs";
    CHECK_THROWS_WITH(result_from_json(j), Catch::Contains("has the unit 'furlongs', which proclab does not know"));
    auto old = Json(sample_result());
    old["metrics"][0]["unit"] = "per s";
    CHECK(result_from_json(old).metrics.front().unit == Unit("/s"));
}

TEST_CASE("a table wider than the terminal wraps its cells, or lists each row as column: value", "[render]") {
    TextTable t({"name", "what it shows"});
    t.add_row({"alpha", "a long description that cannot fit beside its name in a narrow terminal"});
    t.add_row({"beta", "short"});
    CHECK(t.render("  ") == t.render("  ", 200));  // fits: the natural layout
    const std::string narrow = t.render("  ", 40);
    for (std::size_t start = 0, end; start < narrow.size(); start = end + 1) {
        end = narrow.find('\n', start);
        INFO(narrow.substr(start, end - start));
        CHECK(display_width(narrow.substr(start, end - start)) <= 40);
    }
    // The description wraps in its column; its words are all there, in order.
    CHECK_THAT(narrow, Catch::Contains("  alpha  a long description that cannot") && Catch::Contains("\n         fit"));
    CHECK_THAT(narrow, Catch::Contains("  beta   short"));
    // A value keeps its unit on its line; the prose beside it wraps instead.
    TextTable values({"what it measures", "value"});
    values.add_row({"a token's round trip between two processes over a pipe", "7.72 µs"});
    const std::string kept = values.render("  ", 20);
    CHECK_THAT(kept, Catch::Contains("7.72 µs") && !Catch::Contains("7.72\n"));
    // Too many columns for the width: each row as "column: value" lines.
    TextTable wide({"metric", "value", "n", "minimum", "median", "p99", "maximum"});
    wide.add_row({"handoff", "52 ns", "40", "48 ns", "52 ns", "60 ns", "75 ns"});
    const std::string listed = wide.render("  ", 20);
    CHECK_THAT(listed, Catch::StartsWith("  handoff\n") && Catch::Contains("    value: 52 ns\n") &&
                           Catch::Contains("    maximum: 75 ns\n"));
}
