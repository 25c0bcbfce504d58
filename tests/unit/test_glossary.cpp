#include "glossary.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace proclab::suite;

TEST_CASE("each term is linked at its first use only, keeping the word as written", "[glossary]") {
    const std::string md = "A Hop costs this much; a hop again.\nThe floor is low.\n";
    const auto linked = link_first_uses_markdown(md);
    CHECK(linked == "A [Hop](#g-hop) costs this much; a hop again.\nThe [floor](#g-floor) is low.\n");
}

TEST_CASE("code, headings, links and words inside other words are left alone", "[glossary]") {
    const std::string md = "# The hop\n`hop` and [a hop](x) and shops and chopped\n```\nhop\n```\nthen a hop.\n";
    const auto linked = link_first_uses_markdown(md);
    CHECK(linked == "# The hop\n`hop` and [a hop](x) and shops and chopped\n```\nhop\n```\nthen a [hop](#g-hop).\n");
}

TEST_CASE("brackets that are not a link are plain text", "[glossary]") {
    CHECK(link_first_uses_markdown("ratio 9.5x [5 of 5 trials] and [x](y) floor") ==
          "ratio 9.5x [5 of 5 [trials](#g-trial)] and [x](y) [floor](#g-floor)");
}

TEST_CASE("the longer term wins where two start at one place", "[glossary]") {
    CHECK(link_first_uses_markdown("two round trips") == "two [round trips](#g-round-trip)");
    CHECK(link_first_uses_markdown("the shape of two rings") == "the [shape of two rings](#g-two-rings)");
}

TEST_CASE("HTML: only text nodes get links, never a tag, a heading, a link or code", "[glossary]") {
    const std::string html =
        "<h2>hop</h2><img alt=\"a hop\"><code>hop</code><a href=\"y\">hop</a><td>one hop</td><p>a hop</p>";
    CHECK(link_first_uses_html(html) ==
          "<h2>hop</h2><img alt=\"a hop\"><code>hop</code><a href=\"y\">hop</a><td>one <a class=\"term\" "
          "href=\"#g-hop\">hop</a></td><p>a hop</p>");
}

TEST_CASE("every linked anchor is defined, once", "[glossary]") {
    std::set<std::string> anchors;
    for (const auto& t : glossary()) {
        INFO(t.term);
        CHECK(anchors.insert(t.anchor).second);
        CHECK_FALSE(t.forms.empty());
        CHECK_FALSE(t.definition.empty());
        const auto md = glossary_markdown(false);
        CHECK_THAT(md, Catch::Contains("<a id=\"g-" + t.anchor + "\"></a>"));
        CHECK_THAT(glossary_html(), Catch::Contains("id=\"g-" + t.anchor + "\""));
    }
}
