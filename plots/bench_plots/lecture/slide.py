"""The canvas of one lecture slide: 1920x1080 pixels, a headline that states the result, the chart between, and a
footer that says on what machine it was measured. Also the drawing every lesson shares: lines through the
medians with the repetitions as a band, labels written at the ends of the lines (no side legend), reference
lines with their label on them, the oversubscribed region shaded.

Sizes are in points at 100 dpi, so px = pt * 100 / 72: the smallest text on a slide (MIN_PX, the footer) is
20 px, legible from the back of a room when projected.
"""
import textwrap

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.transforms import blended_transform_factory

from .. import common, style

WIDTH_PX, HEIGHT_PX, DPI = 1920, 1080, 100
MIN_PX = 20
PT = {"headline": 30, "kicker": 20, "label": 20, "tick": 18, "series": 19, "reference": 16, "footer": 15,
      "big": 34}
MAX_SERIES = 6
BAND_ALPHA = 0.2
REFERENCE = "#555555"
CAVEAT = "#b00000"
_RC = {"font.size": PT["label"], "axes.labelsize": PT["label"], "axes.titlesize": PT["label"],
       "xtick.labelsize": PT["tick"], "ytick.labelsize": PT["tick"], "lines.linewidth": 3.2, "lines.markersize": 10,
       "axes.grid": True, "grid.alpha": 0.35, "axes.spines.top": False, "axes.spines.right": False,
       "axes.axisbelow": True, "svg.hashsalt": "bench", "svg.fonttype": "path", "pdf.fonttype": 42,
       "savefig.dpi": DPI, "figure.dpi": DPI}


def px(pt):
    return pt * DPI / 72


class Slide:
    """One slide: kicker ("3 · Spinning against sleeping"), headline, axes, footer."""

    def __init__(self, number, title, headline, context, caveats):
        with matplotlib.rc_context(_RC):
            self.fig = plt.figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
        self.number, self.title, self.headline = number, title, headline
        self.context, self.caveats = context, caveats
        self._top, self._bottom = self._head(), self._foot()

    def _lines(self, text, pt, bold=False):
        # Characters per line from DejaVu Sans' average advance: about 0.55 of the size, 0.62 in bold.
        return textwrap.wrap(text, width=max(20, int(WIDTH_PX * 0.96 / (px(pt) * (0.62 if bold else 0.55)))))

    def _head(self):
        y = 1 - 0.03
        rows = [(f"{self.number} · {self.title}", PT["kicker"], "normal", "#555555")]
        rows += [(line, PT["headline"], "bold", "black") for line in self._lines(self.headline, PT["headline"], bold=True)]
        for text, pt, weight, color in rows:
            self.fig.text(0.015, y, text, ha="left", va="top", fontsize=pt, fontweight=weight, color=color)
            y -= px(pt) * 1.3 / HEIGHT_PX
        return y - 0.01

    def _foot(self):
        rows = [(line, "#444444") for line in self._lines(footer_text(self.context), PT["footer"])]
        rows += [(line, CAVEAT) for line in self._lines(" · ".join(self.caveats), PT["footer"], bold=True)]
        y = 0.015
        for text, color in reversed(rows):
            self.fig.text(0.015, y, text, ha="left", va="bottom", fontsize=PT["footer"], color=color,
                          fontweight="bold" if color == CAVEAT else "normal")
            y += px(PT["footer"]) * 1.35 / HEIGHT_PX
        return y + 0.01

    def axes(self, ncols=1, **kwargs):
        """The chart's axes (a list), laid out between headline and footer."""
        with matplotlib.rc_context(_RC):
            axes = self.fig.subplots(1, ncols, squeeze=False, **kwargs)[0]
        self.fig.set_layout_engine("constrained", rect=(0.01, self._bottom, 0.98, self._top - self._bottom),
                                   w_pad=0.15, h_pad=0.1, wspace=0.08)
        for ax in axes:
            ax.tick_params(labelsize=PT["tick"])
        return list(axes)

    def message(self, text):
        """A slide without a chart: the reason, in large type where the chart would be."""
        lines = textwrap.wrap(text, width=int(WIDTH_PX * 0.8 / (px(PT["big"]) * 0.54)))
        self.fig.text(0.5, (self._top + self._bottom) / 2, "\n".join(lines), ha="center", va="center",
                      fontsize=PT["big"], color="#333333", linespacing=1.4)


def footer_text(context):
    """"Intel Xeon · 2 CPUs · Linux 6.1 · 2026-11-25 · bench run ipc --cores 8"."""
    parts = [context.get("cpu_model"), style.cpus_text(context), context.get("kernel"),
             str(context.get("date") or "")[:10] or None, context.get("command_line")]
    return " · ".join(str(p) for p in parts if p)


def virtual_machine(context):
    """Why this looks like a virtual machine, or None: Linux's haltpoll cpuidle driver exists only in KVM guests,
    and bench writes "a VM?" where cpufreq is missing."""
    if context.get("virtual") or (context.get("topology") or {}).get("virtual"):
        return "virtual machine"
    if "haltpoll" in str(context.get("idle_policy") or ""):
        return "virtual machine (cpuidle haltpoll: a KVM guest)"
    if "VM?" in str(context.get("governor") or ""):
        return "probably a virtual machine (no cpufreq)"
    return None


def caveats(chosen, context):
    """What a viewer must know about the rows on the slide: a virtual machine, oversubscription, disturbed
    rounds, unstable cases."""
    said = []
    vm = virtual_machine(context)
    if vm:
        said.append(vm)
    over = [c for c in chosen if c.oversubscribed]
    if context.get("oversubscribed") or over:
        said.append(f"oversubscribed: {len(over)} of {len(chosen)} cases had more busy threads than the "
                    f"{context.get('cores_available', '?')} CPUs")
    rows = [r for c in chosen for r in c.iterations]
    disturbed = sum(1 for r in rows if r.get("disturbed") or (common.number(r.get("steal_pct")) or 0) > 1)
    if disturbed:
        said.append(f"disturbed: {disturbed} of {len(rows)} repetitions (canary or steal time)")
    unstable = sum(1 for c in chosen if c.unstable)
    if unstable:
        limit = common.number((context.get("statistics") or {}).get("unstable_above_pct"))
        said.append(f"{unstable} of {len(chosen)} cases unstable (repetitions disagree: spread "
                    f"> {limit:g}%)" if limit is not None else f"{unstable} of {len(chosen)} cases unstable")
    return said


# ---- drawing ---------------------------------------------------------------------------------------------------

def reps_range(case, field):
    """(min, max) of a field over the successful repetitions, or None."""
    values = common.iteration_values(case, field)
    return (min(values), max(values)) if values else None


def series(ax, points, color, label, linestyle="-", marker="o", band=True):
    """A line through (x, case) points at `field` medians, the repetitions' min..max as a band around it, and its
    label kept for end_labels(). points: [(x, median, (lo, hi) or None)]. Returns the label entry."""
    points = sorted(p for p in points if p[1] is not None and p[1] > 0)
    if not points:
        return None
    xs = [p[0] for p in points]
    ax.plot(xs, [p[1] for p in points], color=color, linestyle=linestyle, marker=marker, zorder=3)
    bands = [p for p in points if p[2]] if band else []
    if len(bands) > 1:
        ax.fill_between([p[0] for p in bands], [p[2][0] for p in bands], [p[2][1] for p in bands], color=color,
                        alpha=BAND_ALPHA, linewidth=0, zorder=2)
    elif bands:
        ax.errorbar([bands[0][0]], [bands[0][1]], yerr=[[bands[0][1] - bands[0][2][0]], [bands[0][2][1] - bands[0][1]]],
                    color=color, capsize=6, linewidth=2, zorder=2)
    return (xs[-1], points[-1][1], label, color)


def end_labels(ax, entries):
    """Each line's label right of the axes at the height of its last point, moved apart where they would overlap
    (in pixels, after a layout pass)."""
    entries = [e for e in entries if e]
    if not entries:
        return
    ax.figure.canvas.draw()  # the layout: the axes' size in pixels, which the spacing depends on
    gap = px(PT["series"]) * 1.15
    lo, hi = ax.transAxes.transform((0, 0))[1], ax.transAxes.transform((0, 1))[1]
    placed = []
    for x, y, text, color in sorted(entries, key=lambda e: ax.transData.transform((e[0], e[1]))[1]):
        want = min(max(ax.transData.transform((x, y))[1], lo), hi)
        height = gap * (text.count("\n") + 1)
        at = max(want, placed[-1][0] + placed[-1][1] / 2 + height / 2) if placed else want
        placed.append((at, height, text, color, want))
    # Pushed above the axes' top: shift the whole stack down (it stays in order).
    excess = placed[-1][0] - hi - gap
    if excess > 0:
        for i, p in enumerate(placed):
            placed[i] = (p[0] - excess,) + p[1:]
        for i in range(len(placed) - 2, -1, -1):
            limit = placed[i + 1][0] - placed[i + 1][1] / 2 - placed[i][1] / 2
            if placed[i][0] > limit:
                placed[i] = (limit,) + placed[i][1:]
    to_axes = ax.transAxes.inverted()
    for at, _, text, color, _ in placed:
        ay = to_axes.transform((0, at))[1]
        ax.annotate(text, (1.01, ay), xycoords="axes fraction", ha="left", va="center", fontsize=PT["series"],
                    color=color, fontweight="bold", annotation_clip=False)


def reference(ax, y, label, *, vertical=False, where=0.01, below=False):
    """A dashed grey line (a physical reference: the hardware floor, the ideal, the switch interval) with its
    label written on it (under it with below=True, for the lower of two references close together)."""
    kw = {"color": REFERENCE, "linestyle": (0, (4, 3)), "linewidth": 2.2, "zorder": 1}
    box = {"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 1.5}
    if vertical:
        ax.axvline(y, **kw)
        ax.annotate(label, (y, 1 - where), xycoords=("data", "axes fraction"), xytext=(6, 0),
                    textcoords="offset points", ha="left", va="top", fontsize=PT["reference"], color="#333333",
                    zorder=7, bbox=box)
    else:
        ax.axhline(y, **kw)
        ax.annotate(label, (where, y), xycoords=("axes fraction", "data"), xytext=(0, -5 if below else 4),
                    textcoords="offset points", ha="left", va="top" if below else "bottom", fontsize=PT["reference"],
                    color="#333333", zorder=7, bbox=box)


def shade_beyond(ax, x, label):
    """Grey background right of x (e.g. more threads than CPUs), labelled at the top."""
    ax.autoscale_view()
    left, right = ax.get_xlim()
    ax.axvspan(x, right, color="#bbbbbb", alpha=0.3, linewidth=0, zorder=0)
    ax.set_xlim(left, right)
    ax.annotate(label, (x, 0.98), xycoords=("data", "axes fraction"), xytext=(8, 0), textcoords="offset points",
                ha="left", va="top", fontsize=PT["reference"], color="#333333", fontstyle="italic", zorder=7)


def log2_x(ax, values, fmt=lambda v: f"{v:g}"):
    common.log2_axis(ax.xaxis, values, fmt, max_ticks=8)
    ax.tick_params(axis="x", labelsize=PT["tick"])


def log_y(ax, fmt):
    ax.set_yscale("log")
    common.log_axis(ax.yaxis, fmt)


def small_texts(fig):
    """(text, px) of every visible text on the figure smaller than MIN_PX (the tests use it)."""
    out = []
    for t in fig.findobj(matplotlib.text.Text):
        if t.get_visible() and t.get_text().strip():
            size = t.get_fontsize() * fig.dpi / 72
            if size < MIN_PX - 0.01:
                out.append((t.get_text(), size))
    return out


def bottom_marks(ax, xs, color):
    """An x at the bottom of the axes for each x whose case failed or starved (no value to draw)."""
    bottom = blended_transform_factory(ax.transData, ax.transAxes)
    for x in xs:
        ax.plot([x], [0.03], transform=bottom, marker="x", color=color, linestyle="none", markersize=16,
                markeredgewidth=3, clip_on=False, zorder=5)


def log_pad(ax, factor=1.6):
    """Room above the highest point on a log y axis, for the labels written on reference lines."""
    ax.autoscale_view()
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * factor)


def hbars(ax, bars, fmt, text_after=None):
    """Horizontal bars on a log axis, top to bottom: bars = [(label, median, (lo, hi) or None, colour)], the
    repetitions' range as an error bar, the median written at the bar's end (or right of text_after[row], where
    a mark is drawn beyond it); a bar without a value is written as `failed`."""
    for row, (label, value, span, color) in enumerate(bars):
        if value is None:
            ax.annotate("failed", (0.01, row), xycoords=("axes fraction", "data"), va="center", ha="left",
                        fontsize=PT["series"], color=CAVEAT, fontweight="bold")
            continue
        ax.barh(row, value, height=0.62, color=color, zorder=3)
        if span:
            ax.errorbar([value], [row], xerr=[[value - span[0]], [span[1] - value]], color="black", capsize=7,
                        linewidth=2, zorder=4)
        end = max((span or (0, value))[1], (text_after or {}).get(row) or 0)
        ax.annotate(fmt(value), (end, row), xytext=(12, 0), textcoords="offset points",
                    va="center", ha="left", fontsize=PT["series"], fontweight="bold", color="#222222", zorder=5)
    ax.set_yticks(range(len(bars)), [b[0] for b in bars])
    ax.set_ylim(len(bars) - 0.5, -1.4)  # a free row on top, for the label of a reference line
    ax.tick_params(axis="y", length=0, labelsize=PT["tick"])
    ax.grid(axis="y", visible=False)
    ax.set_xscale("log")


def close(fig):
    plt.close(fig)
