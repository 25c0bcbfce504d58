#include "html.hpp"

#include "glossary.hpp"

#include "plots.hpp"

#include "proclab/environment.hpp"
#include "proclab/render.hpp"

#include <fmt/format.h>

namespace proclab::suite {

namespace {

constexpr const char* kStyle = R"css(
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f; margin: 0 auto;
       max-width: 1180px; padding: 1.2rem 1.4rem 3rem; }
h1 { font-size: 1.55rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.meta { color: #555; margin-top: 0; }
.scroll { overflow-x: auto; margin: .5rem 0 1rem; }
table { border-collapse: collapse; font-size: .86rem; }
th, td { border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f6; } tr:nth-child(even) td { background: #fafafa; }
td.num { text-align: right; white-space: nowrap; }
.verdict { font-weight: 600; white-space: nowrap; border-radius: 4px; padding: .1rem .4rem; }
.confirmed { background: #e3f4e6; color: #1b5e20; } .refuted { background: #fde4e4; color: #b71c1c; }
.nuanced { background: #fff4d6; color: #7a5200; } .not-measured { background: #eceff1; color: #455a64; }
details { margin: .4rem 0; } summary { cursor: pointer; font-weight: 600; }
.note { color: #444; font-size: .84rem; max-width: 70rem; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .85rem; }
p, li, dd, dt, figcaption { overflow-wrap: break-word; }  /* a long path or cgroup name wraps, not the page */
code { background: #f4f4f6; padding: 0 .2rem; border-radius: 3px; }
pre { background: #f4f4f6; padding: .5rem .7rem; overflow-x: auto; }
@media (max-width: 720px) {
  td { overflow-wrap: anywhere; }
  body { padding: .8rem .7rem 2rem; font-size: 14px; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: auto; }
  table.stack thead { display: none; }
  table.stack tr { border: 1px solid #ddd; border-radius: 6px; margin: 0 0 .7rem; padding: .3rem .5rem; }
  table.stack td { border: none; padding: .15rem 0; background: none !important; }
  table.stack td::before { content: attr(data-label); display: block; color: #666; font-size: .75rem; }
}
.flag { font-weight: 700; color: #b71c1c; }
a.term { color: inherit; text-decoration: underline dotted; text-underline-offset: 2px; }
dl.glossary dt { font-weight: 600; margin-top: .6rem; } dl.glossary dd { margin: .1rem 0 0 1.2rem; max-width: 70rem; }
)css";

// The page around a view's blocks: the style sheet, the title.
std::string page_head(const std::string& title) {
    return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" +
           html_escape(title) + "</title><style>" + kStyle + "</style></head><body>\n";
}

}  // namespace

std::string report_html(const View& report) {
    return page_head("proclab report") + link_first_uses_html(render_html_blocks(report)) + glossary_html() +
           "</body></html>\n";
}

std::string render_fleet_html(const FleetView& v, bool all, const std::string& plot_png, const std::string& plot_text) {
    const View view = view_of(v, all);
    std::string h = page_head(view.title) + render_html_blocks(view);
    h += "<h2>Plot</h2>\n";
    if (!plot_png.empty())
        h += fmt::format(
            "<figure><img alt=\"each machine's ratio to the fleet median\" "
            "src=\"data:image/png;base64,{}\"><figcaption>{}</figcaption></figure>\n",
            base64(plot_png), html_escape(plot_text));
    else h += "<p class=\"note\">" + html_escape(plot_text) + "</p>\n";
    return h + "</body></html>\n";
}

}  // namespace proclab::suite
