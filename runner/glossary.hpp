// The words a report uses before a reader has met them: one list, rendered as docs/glossary.md
// (`proclab glossary --markdown`, kept equal by a test) and as the Glossary section of report.md and
// report.html, where each term is linked at its first use.
#pragma once

#include <string>
#include <vector>

namespace proclab::suite {

struct GlossaryTerm {
    std::string anchor;              // "hop": the link target is #g-hop
    std::string term;                // as the glossary heads it
    std::vector<std::string> forms;  // the words linked in a report, longest first ("round trips", "round trip")
    std::string definition;          // what it is, what it is of, and its unit
};

const std::vector<GlossaryTerm>& glossary();

// docs/glossary.md (a page), or the report's section (one heading level down).
std::string glossary_markdown(bool page);
std::string glossary_html();

// The text with each term's first use linked to its definition: outside code, headings, links and
// the glossary itself. Markdown links are [word](#g-anchor); HTML links touch text nodes only.
std::string link_first_uses_markdown(const std::string& markdown);
std::string link_first_uses_html(const std::string& html);

}  // namespace proclab::suite
