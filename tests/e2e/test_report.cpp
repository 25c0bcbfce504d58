// proclab report, end to end: the folder, its JSON, its summary and (with matplotlib) its plots.
#include "proclab/claims.hpp"
#include "proclab/render.hpp"
#include "proclab/spawn.hpp"
#include "html.hpp"
#include "plots.hpp"
#include "report.hpp"
#include "support.hpp"
#include "width.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace proclab;
using namespace std::chrono_literals;

namespace {
std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool is_png(const std::filesystem::path& p) {
    const std::string bytes = slurp(p);
    return bytes.size() > 1000 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0 && bytes.compare(12, 4, "IHDR") == 0;
}
}  // namespace

TEST_CASE("proclab report writes the JSON, a summary naming every claim, and the plots", "[report]") {
    test::become_subreaper();
    const test::TerminalColumns terminal(80);  // its text fits an 80-column terminal
    const auto dir = test::scratch_dir("proclab-report-") / "report";
    auto run = run_captured(test::bin_dir() / "proclab", {"report", dir.string(), "--quick"}, {.timeout = 600s});
    INFO(run.err);
    REQUIRE(run.status.describe() == "exit 0");
    CHECK(test::wider_than(run.out, 80) == std::vector<std::string>{});
    CHECK(test::wider_than(run.err, 80) == std::vector<std::string>{});
    CHECK(test::leftover_children() == 0);

    const auto j = Json::parse(slurp(dir / "suite.json"));
    CHECK(j.at("claims").size() == 13);
    const std::string md = slurp(dir / "report.md");
    for (const auto& claim : all_claims()) {
        CHECK_THAT(md, Catch::Contains("| " + std::string(claim.id) + " |"));
        CHECK_THAT(md, Catch::Contains("### " + std::string(claim.id) + ": "));
    }
    CHECK(std::filesystem::exists(dir / "plot_report.py"));
    // Each demo's own tables, isolation_matrix's among them.
    CHECK_THAT(
        md, Catch::Contains("### isolation_matrix: its evidence") && Catch::Contains("A runaway beside two siblings"));
    // report.html: one page, nothing fetched from elsewhere, every claim in its table.
    const std::string html = slurp(dir / "report.html");
    CHECK_THAT(html, Catch::StartsWith("<!doctype html>") && Catch::EndsWith("</html>\n"));
    for (const auto& claim : all_claims())
        CHECK_THAT(html, Catch::Contains("<td data-label=\"id\">" + std::string(claim.id) + "</td>"));
    // The glossary at the end, each term linked where the report first uses it.
    CHECK_THAT(html, Catch::Contains("<h2 id=\"glossary\">") && Catch::Contains("<dt id=\"g-floor\">") &&
                         Catch::Contains("class=\"term\" href=\"#g-"));
    CHECK_THAT(md,
               Catch::Contains("## Glossary") && Catch::Contains("<a id=\"g-hop\"></a>") && Catch::Contains("](#g-"));
    CHECK(html.find("src=\"http") == std::string::npos);
    CHECK(html.find("<script") == std::string::npos);
    CHECK_THAT(html, Catch::Contains("<summary>isolation_matrix: its evidence"));

    const std::vector<std::string> plots{
        "timeline.png",       "cpu_share.png",   "speedup.png",     "creation_costs.png", "fork_vs_size.png",
        "context_switch.png", "working_set.png", "ipc_latency.png", "ipc_bandwidth.png",  "isolation_matrix.png"};
    if (suite::python_with_matplotlib().empty()) {
        WARN("no python3 with matplotlib: plots not checked");
        CHECK_THAT(md, Catch::Contains("python3-matplotlib"));
    } else {
        for (const auto& p : plots) {
            INFO(p);
            CHECK(is_png(dir / "plots" / p));
            CHECK_THAT(md, Catch::Contains("plots/" + p));
        }
        CHECK_THAT(html, Catch::Contains("src=\"data:image/png;base64,iVBORw0KGgo"));  // the PNG signature, embedded
    }
    std::filesystem::remove_all(dir.parent_path());
}

TEST_CASE("HTML helpers: escaping and base64 as RFC 4648 gives them", "[report]") {
    CHECK(html_escape("a<b & \"c\">") == "a&lt;b &amp; &quot;c&quot;&gt;");
    CHECK(suite::base64("") == "");
    CHECK(suite::base64("f") == "Zg==");
    CHECK(suite::base64("fo") == "Zm8=");
    CHECK(suite::base64("foo") == "Zm9v");
    CHECK(suite::base64("foobar") == "Zm9vYmFy");
    CHECK(suite::base64(std::string("\x89PNG", 4)) == "iVBORw==");
}

TEST_CASE("the report summary is Markdown with every claim and a note when there are no plots", "[report]") {
    std::vector<suite::DemoRun> runs;
    const auto rows = suite::claim_rows(runs, {});
    const Environment env;
    const auto md = suite::render_markdown(suite::report_view(
        {.env = &env, .runs = &runs, .rows = &rows, .plots_note = "No plots: because.", .wall_s = 1.5, .quick = true}));
    for (const auto& claim : all_claims()) CHECK_THAT(md, Catch::Contains("| " + std::string(claim.id) + " |"));
    CHECK_THAT(md, Catch::Contains("No plots: because."));
    CHECK_THAT(md, Catch::Contains("no demo in this run covers this claim"));
}

TEST_CASE("proclab report refuses a folder it cannot create, with one line and exit 2", "[report]") {
    auto run = run_captured(test::bin_dir() / "proclab", {"report", "/proc/no/such/dir"}, {.timeout = 60s});
    CHECK(run.status.describe() == "exit 2");
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
}
