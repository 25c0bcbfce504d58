#!/usr/bin/env python3
"""Draws every plot the demos wrote into recorded suite JSON (runner/plot_report.py, the generic
drawer) and checks what a reader
sees: each figure's titles, axis labels, tick labels, legends and notes lie inside the figure and do
not overlap one another; every panel has a title and both axis labels; a panel with more than one
labelled series has a legend; a log axis has no value <= 0 to draw; every colour comes from the
Okabe-Ito palette, a grey, or viridis (no red/green pair anywhere); no stray text on a curve plot.

Usage: test_plots.py SUITE_JSON...   (exits 77, skipped, where matplotlib is missing)
"""
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle
except ImportError:
    print("skipped: no matplotlib for this python3", file=sys.stderr)
    sys.exit(77)

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("plot_report", ROOT / "runner" / "plot_report.py")
plot_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot_report)

# Every plot the full suite draws.
EXPECTED = {"timeline.png", "cpu_share.png", "speedup.png", "creation_costs.png", "fork_vs_size.png", "context_switch.png",
            "working_set.png", "core_to_core.png", "ipc_latency.png", "ipc_bandwidth.png", "isolation_matrix.png",
            "sched_lateness.png", "wakeup_latency.png", "page_faults.png", "unmap_siblings.png", "gil_turns.png"}
PALETTE = {mcolors.to_hex(c).lower() for c in plot_report.OKABE_ITO}


def allowed_colour(rgba):
    r, g, b, a = mcolors.to_rgba(rgba)
    if a == 0:
        return True
    if abs(r - g) < 0.02 and abs(g - b) < 0.02:  # a grey, black or white
        return True
    return mcolors.to_hex((r, g, b)).lower() in PALETTE


def drawn(ax, axis, tick):
    """A tick label is drawn only where its tick lies within the axis's view."""
    low, high = sorted(axis.get_view_interval())
    x, y = tick.get_position()
    at = x if axis is ax.xaxis else y
    return low - 1e-9 * abs(high - low) <= at <= high + 1e-9 * abs(high - low)


def visible_texts(fig):
    """(what, Text) for every text a reader sees."""
    out = []
    if fig._suptitle is not None and fig._suptitle.get_text():
        out.append(("suptitle", fig._suptitle))
    out += [("figure text", t) for t in fig.texts if t.get_text() and t is not fig._suptitle]
    for i, ax in enumerate(fig.axes):
        for loc in ("center", "left", "right"):
            t = ax.get_title(loc)
            if t:
                out.append((f"axes {i} title", getattr(ax, {"center": "title", "left": "_left_title", "right": "_right_title"}[loc])))
        for axis, name in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            if axis.label.get_text():
                out.append((f"axes {i} {name} label", axis.label))
            out += [(f"axes {i} {name} tick", t) for t in axis.get_ticklabels() if t.get_text() and t.get_visible() and drawn(ax, axis, t)]
        legend = ax.get_legend()
        if legend is not None:
            out += [(f"axes {i} legend", t) for t in legend.get_texts()]
        out += [(f"axes {i} text", t) for t in ax.texts if t.get_text()]
    return out


def check_figure(fig, text_allowed):
    problems = []
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    texts = visible_texts(fig)
    for what, t in texts:
        box = t.get_window_extent(renderer)
        if box.x0 < frame.x0 - 1 or box.y0 < frame.y0 - 1 or box.x1 > frame.x1 + 1 or box.y1 > frame.y1 + 1:
            problems.append(f"{what} '{t.get_text()[:40]}' runs outside the figure")
    # Titles, labels, legends and notes must not cover one another (tick labels may touch their axis).
    blocks = [(w, t.get_window_extent(renderer), t.get_text()) for w, t in texts if "tick" not in w and "legend" not in w and "text" != w.split()[-1]]
    blocks += [(f"axes {i} legend box", ax.get_legend().get_window_extent(renderer), "") for i, ax in enumerate(fig.axes) if ax.get_legend()]
    for a in range(len(blocks)):
        for b in range(a + 1, len(blocks)):
            (wa, ba, ta), (wb, bb, tb) = blocks[a], blocks[b]
            if ba.overlaps(bb) and not (wa.startswith(wb.split(" legend")[0]) and "legend" in wa + wb and "title" not in wa + wb
                                        and "label" not in wa + wb):
                problems.append(f"{wa} '{ta[:30]}' overlaps {wb} '{tb[:30]}'")
    title = fig._suptitle is not None and fig._suptitle.get_text()
    for i, ax in enumerate(fig.axes):
        if ax.get_label() == "<colorbar>":
            continue
        if not (ax.get_title() or title):
            problems.append(f"axes {i} has no title")
        shared_x = ax.get_xlabel() or any(o.get_xlabel() for o in ax.get_shared_x_axes().get_siblings(ax))
        shared_y = ax.get_ylabel() or any(o.get_ylabel() for o in ax.get_shared_y_axes().get_siblings(ax))
        if not shared_x or not shared_y:
            problems.append(f"axes {i} lacks an axis label ({'x' if not shared_x else 'y'})")
        labelled = [a for a in ax.get_lines() + ax.collections + ax.containers
                    if not str(a.get_label()).startswith("_") and a.get_label()]
        if len(labelled) > 1 and ax.get_legend() is None:
            problems.append(f"axes {i} has {len(labelled)} labelled series and no legend")
        for line in ax.get_lines():
            # axhline/axvline hold axes coordinates (0..1) on their other axis: only data coordinates count.
            data_x = line.get_transform().contains_branch_seperately(ax.transData)[0]
            data_y = line.get_transform().contains_branch_seperately(ax.transData)[1]
            if ax.get_yscale() == "log" and data_y and any(v <= 0 for v in line.get_ydata()):
                problems.append(f"axes {i}: '{line.get_label()}' has a value <= 0 on a log y axis")
            if ax.get_xscale() == "log" and data_x and any(v <= 0 for v in line.get_xdata()):
                problems.append(f"axes {i}: '{line.get_label()}' has a value <= 0 on a log x axis")
            if not allowed_colour(line.get_color()):
                problems.append(f"axes {i}: '{line.get_label()}' is drawn in {line.get_color()}, outside the palette")
        for patch in ax.patches:
            if isinstance(patch, Rectangle) and not allowed_colour(patch.get_facecolor()):
                problems.append(f"axes {i}: a bar in {mcolors.to_hex(patch.get_facecolor())}, outside the palette")
        for coll in ax.collections:
            for c in coll.get_facecolors():
                if not allowed_colour(c):
                    problems.append(f"axes {i}: a marker in {mcolors.to_hex(c)}, outside the palette")
                    break
        for image in ax.get_images():
            cmap = image.get_cmap()
            if cmap.name == "viridis":
                continue
            colours = [cmap(x) for x in (0.0, 0.5, 1.0)]
            if not all(allowed_colour(c) for c in colours):
                problems.append(f"axes {i}: an image in {cmap.name}, neither greys, the palette nor viridis")
        if ax.texts and not text_allowed:
            problems.append(f"axes {i}: stray text on a curve plot: {[t.get_text() for t in ax.texts]}")
    return problems


def main():
    runs = sys.argv[1:]
    if not runs:
        print(__doc__, file=sys.stderr)
        return 2
    failures = 0
    for run in runs:
        with tempfile.TemporaryDirectory() as out:
            drawn_figures = []
            original_close = plt.close

            def checking_close(fig=None):
                if fig is not None and hasattr(fig, "savefig"):
                    drawn_figures.append(fig)
                    fig.canvas.draw()
                return original_close(fig)

            plot_report.plt.close = checking_close
            suite = json.load(open(run))
            names = set()
            for demo in suite.get("demos", []):
                for plot in (demo.get("result") or {}).get("plots", []):
                    name = plot["file"]
                    if not plot.get("caption"):
                        print(f"{run}: {name}: no caption")
                        failures += 1
                    before = len(drawn_figures)
                    if not plot_report.draw(plot, os.path.join(out, name), "caption"):
                        print(f"{run}: {name}: nothing drawn")
                        failures += 1
                        continue
                    names.add(name)
                    for fig in drawn_figures[before:]:
                        # Text inside the axes by design: a grid's cells, the values written on bars.
                        panels = plot.get("panels", [])
                        text_allowed = any(p.get("cells") or any(x.get("value_labels") for x in p.get("series", [])) for p in panels)
                        for p in check_figure(fig, text_allowed):
                            print(f"{run}: {name}: {p}")
                            failures += 1
            plot_report.plt.close = original_close
            if names != EXPECTED:
                print(f"{run}: plots drawn {sorted(names)}; expected {sorted(EXPECTED)}")
                failures += 1
            print(f"{run}: {len(names)} plots checked")
    # The drawer is generic: it names no demo (a new plot touches only the demo that owns it).
    script = (ROOT / "runner" / "plot_report.py").read_text()
    demos = sorted(p.stem for p in (ROOT / "demos").iterdir() if p.is_dir() or p.suffix == ".cpp")
    named = [d for d in demos if d in script]
    if named:
        print(f"runner/plot_report.py names demos: {named}")
        failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
