"""The report's picture: median wall time of every system, one panel per architecture.

The harness hands the medians to a child process (``_chart``), which draws
them with matplotlib's Agg canvas; the harness itself stays on the standard
library. Without matplotlib there is no picture, and the report says so.
"""
import json
import os
import re
import subprocess
import sys

from .common import HARNESS, ONE_THREAD, PAIR

NO_MATPLOTLIB = 3  # the child's exit status when matplotlib cannot be imported
INSTALL_HINT = 'matplotlib is not installed (pip install "pyw2v[plot]")'
ARCH_NAMES = {"sg-ns": "skip-gram, negative sampling", "cbow-ns": "CBOW, negative sampling",
              "sg-hs": "skip-gram, hierarchical softmax", "cbow-hs": "CBOW, hierarchical softmax"}
# label and colour of each system: pyw2v in blues, the others apart
SYSTEM_STYLES = {
    "pyw2v": ("pyw2v (C's order)", "#6baed6"),
    "pyw2v-fast": ("pyw2v -fast 1", "#2171b5"),
    ONE_THREAD: ("pyw2v -fast 1, one thread", "#c6dbef"),
    "gensim": ("gensim", "#fd8d3c"),
    "c": ("word2vec.c", "#737373"),
}


def chart_data(rows, title):
    """What the picture shows: per architecture, each system's median and range of wall times.

    The side-by-side pair of one-thread jobs is left out (its time is for
    twice the work); a system with no successful run is kept, marked failed.
    """
    panels = {}
    for row in rows:
        if row["system"] == PAIR:
            continue
        panels.setdefault(row["arch"], []).append({
            "system": row["system"],
            "wall": row.get("wall"), "low": row.get("wall_min"), "high": row.get("wall_max"),
        })
    return {"title": title, "panels": [[arch, bars] for arch, bars in panels.items()]}


def chart_title(name, train_words, iters, threads):
    return "%s: %s training words × %d epoch%s, %d thread%s" % (
        name, f"{train_words:,}", iters, "s"[:iters != 1], threads, "s"[:threads != 1])


def data_from_report(text):
    """The chart data of a Markdown report written by the harness (its *Results* table)."""
    name = re.search(r"^# pyw2v benchmark: (.+)$", text, re.M)
    words = re.search(r"([\d,]+) training words per epoch", text)
    iters = re.search(r"-iter (\d+)", text)
    threads = re.search(r"-threads (\d+)", text)
    if not (name and words and iters and threads):
        raise ValueError("not a report of the benchmark (no title or settings)")
    rows = []
    results = text.split("## Results", 1)[-1].split("\n## ", 1)[0]
    for line in results.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[2].isdigit():
            continue
        wall = re.match(r"([\d.]+)(?: \(([\d.]+)–([\d.]+)\))?$", cells[3])
        numbers = [float(x) if x else None for x in wall.groups()] if wall else [None] * 3
        rows.append({"system": cells[0], "arch": cells[1], "wall": numbers[0],
                     "wall_min": numbers[1] or numbers[0], "wall_max": numbers[2] or numbers[0]})
    if not rows:
        raise ValueError("the report has no results table")
    title = chart_title(name.group(1).strip(), int(words.group(1).replace(",", "")),
                        int(iters.group(1)), int(threads.group(1)))
    return chart_data(rows, title)


def draw_chart(data, png_path):
    """Run the ``_chart`` child; returns None when the picture was written, else why not."""
    try:
        done = subprocess.run([sys.executable, HARNESS, "_chart", png_path],
                              input=json.dumps(data), capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return "the picture could not be drawn: %s" % exc
    if done.returncode == NO_MATPLOTLIB:
        return INSTALL_HINT
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return "the picture could not be drawn: %s" % (lines[-1] if lines else "exit %d" % done.returncode)
    return None


def chart_main(argv):
    """Hidden subcommand: draw the JSON chart data on stdin to the PNG file argv[0]."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        print("bench: " + INSTALL_HINT, file=sys.stderr)
        return NO_MATPLOTLIB
    png_path = argv[0]
    data = json.load(sys.stdin)
    panels = data["panels"]
    heights = [len(bars) for _, bars in panels]
    figure = Figure(figsize=(9, 1.2 + 0.45 * sum(heights) + 0.5 * len(panels)), dpi=100,
                    layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(len(panels), 1, height_ratios=heights)
    for index, (arch, bars) in enumerate(panels):
        axes = figure.add_subplot(grid[index])
        # each panel on its own scale: the comparison that matters is within an architecture
        longest = max((bar["high"] or bar["wall"] or 0) for bar in bars) or 1
        _draw_panel(axes, arch, bars, longest)
        if index == len(panels) - 1:
            axes.set_xlabel("wall time of the whole job, s (median; the line spans min–max)")
    figure.suptitle(data["title"], fontsize=10)
    tmp = png_path + ".part"
    figure.savefig(tmp, format="png")
    os.replace(tmp, png_path)
    return 0


def _draw_panel(axes, arch, bars, longest):
    gensim = next((bar["wall"] for bar in bars if bar["system"] == "gensim"), None)
    positions = range(len(bars))[::-1]  # the first system on top
    for y, bar in zip(positions, bars):
        label, colour = SYSTEM_STYLES.get(bar["system"], (bar["system"], "#9e9ac8"))
        if bar["wall"] is None:
            axes.text(0, y, "  %s: failed" % label, va="center", fontsize=8, color="#a50f15")
            continue
        axes.barh(y, bar["wall"], color=colour, height=0.7)
        if bar["low"] is not None and bar["high"] is not None and bar["high"] > bar["low"]:
            axes.plot([bar["low"], bar["high"]], [y, y], color="black", linewidth=1)
        note = "%.1f s" % bar["wall"]
        if gensim and bar["system"] != "gensim":
            note += "  (%.2f× gensim's speed)" % (gensim / bar["wall"])
        axes.text(max(bar["wall"], bar["high"] or 0) + 0.01 * longest, y, note,
                  va="center", fontsize=8)
    axes.set_yticks(list(positions))
    axes.set_yticklabels([SYSTEM_STYLES.get(b["system"], (b["system"],))[0] for b in bars], fontsize=9)
    axes.set_xlim(0, longest * 1.35)
    axes.set_title(ARCH_NAMES.get(arch, arch), fontsize=9, loc="left")
    axes.grid(True, axis="x", linewidth=0.3, alpha=0.6)
    axes.set_axisbelow(True)
