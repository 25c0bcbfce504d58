#!/usr/bin/env python3
"""report.html on a phone: renders it in headless Chromium inside a 390 px wide frame (Chromium's
own window cannot be narrower than 500 px) and checks that the claims table, and the page, fit the
width without sideways scrolling; then the same at 1366 px.

Usage: docs_report_width.py REPORT_HTML   (exits 77, skipped, where Chromium is not installed)
"""
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

MEASURE = """<script>
window.addEventListener('load', () => {
  const table = document.querySelector('table.stack');
  const width = document.documentElement.clientWidth;
  const result = {width: width, page_scroll_width: document.documentElement.scrollWidth,
                  table_right: table ? Math.ceil(table.getBoundingClientRect().right) : null,
                  table_scroll_width: table ? table.parentElement.scrollWidth : null,
                  table_box_width: table ? table.parentElement.clientWidth : null};
  const out = parent.document.createElement('pre'); out.id = 'measure'; out.textContent = JSON.stringify(result);
  parent.document.body.appendChild(out);
});
</script>"""


def measure(browser, report, width):
    page = report.read_text().replace("</body>", MEASURE + "</body>")
    frame = (f'<!doctype html><html><body style="margin:0"><iframe style="border:0;width:{width}px;height:900px" '
             f'srcdoc="{html.escape(page, quote=True)}"></iframe></body></html>')
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frame.html"
        path.write_text(frame)
        run = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={max(width, 500) + 40},900",
                              "--virtual-time-budget=5000", "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="measure">([^<]*)</pre>', run.stdout)
    if not found:  # the browser itself could not run here: not a finding about the report
        print(f"skipped: no measurement came back from {browser}: {run.stderr.strip()[-300:]}", file=sys.stderr)
        sys.exit(77)
    return json.loads(html.unescape(found.group(1)))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not browser:
        print("skipped: no Chromium (Debian: apt-get install chromium)", file=sys.stderr)
        return 77
    failures = 0
    for width in (390, 1366):
        m = measure(browser, Path(sys.argv[1]), width)
        print(f"{width} px: {m}")
        if m["table_right"] is None:
            print("  no claims table (table.stack) in the page")
            failures += 1
            continue
        if m["page_scroll_width"] > m["width"]:
            print(f"  the page scrolls sideways: {m['page_scroll_width']} px of content in {m['width']}")
            failures += 1
        if m["table_scroll_width"] > m["table_box_width"] or m["table_right"] > m["width"]:
            print(f"  the claims table does not fit: {m['table_scroll_width']} px in a box of {m['table_box_width']}")
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
