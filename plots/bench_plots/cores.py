"""Charts of `bench run cores`: the cache-line round trip between every pair of CPUs, as a map."""
import numpy as np

from . import common, style

RELATION_ORDER = ("smt siblings", "same L3", "other L3", "other NUMA node", "other package")


def matrix(cases):
    """(cpus, n x n array of the median p50 round trip in ns, NaN where no pair was measured)."""
    cpus = sorted({int(c.ident["cpu_a"]) for c in cases} | {int(c.ident["cpu_b"]) for c in cases})
    index = {cpu: i for i, cpu in enumerate(cpus)}
    m = np.full((len(cpus), len(cpus)), np.nan)
    for c in cases:
        v = c.value("rtt_p50_ns")
        if v is not None:
            a, b = index[int(c.ident["cpu_a"])], index[int(c.ident["cpu_b"])]
            m[a, b] = m[b, a] = v
    return cpus, m


def by_relation(cases):
    """{relation: sorted medians} in the order of RELATION_ORDER."""
    out = {}
    for c in cases:
        v = c.value("rtt_p50_ns")
        if v is not None:
            out.setdefault(str(c.ident.get("relation")), []).append(v)
    return {r: sorted(out[r]) for r in sorted(out, key=lambda r: RELATION_ORDER.index(r) if r in RELATION_ORDER else 99)}


def draw_map(ax, cases, fig=None, *, cell_pt=None, tick_pt=None):
    """The heatmap on ax, numbers in the cells where they fit (cell_pt: their size; a slide, whose text must be
    legible from the back of a room, gives one and gets numbers only up to 8 CPUs); returns the image."""
    cpus, m = matrix(cases)
    image = ax.imshow(m, cmap="viridis", interpolation="nearest")
    ax.set_xticks(range(len(cpus)), [str(c) for c in cpus])
    ax.set_yticks(range(len(cpus)), [str(c) for c in cpus])
    ax.set_xlabel("CPU")
    ax.set_ylabel("CPU")
    ax.grid(False)
    if len(cpus) <= (8 if cell_pt else 16):
        top = np.nanmax(m) if np.isfinite(m).any() else 0
        for i in range(len(cpus)):
            for j in range(len(cpus)):
                if np.isfinite(m[i, j]):
                    ax.text(j, i, f"{m[i, j]:.0f}", ha="center", va="center", fontsize=cell_pt or (9 if len(cpus) > 8 else 12),
                            color="black" if m[i, j] > 0.6 * top else "white")
    if fig is not None:
        # An inset of its own: a colorbar stealing from the grid upsets the constrained layout of common.finish.
        bar = fig.colorbar(image, cax=ax.inset_axes([1.04, 0.0, 0.04, 1.0]))
        bar.set_label("round trip, ns (p50)", fontsize=tick_pt)
        if tick_pt:
            bar.ax.tick_params(labelsize=tick_pt)
    return image


def core_map(cases, context):
    if not cases:
        return None
    fig, axes = common.figure()
    draw_map(axes[0], cases, fig)
    groups = by_relation(cases)
    caption = ("Median of 20,000 individual round trips of one cache line between two pinned, spinning threads, per "
               "pair of CPUs (median of the repetitions). " +
               "; ".join(f"{r}: {style.fmt_time(v[len(v) // 2])} ({len(v)} pair{'s' if len(v) > 1 else ''})"
                         for r, v in groups.items()))
    common.finish(fig, "Where your threads run: the cache-line round trip between CPUs", context, caption)
    return fig


CHARTS = {"core_map": core_map}


def plot(doc, run_dir, formats):
    """Draws the core-to-core map; returns the written paths."""
    return common.draw_suite(doc, run_dir, formats, "cores", CHARTS)
