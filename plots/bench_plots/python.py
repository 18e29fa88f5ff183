"""Charts of `bench run python`: real CPython beside bench's C++ doing the same, from one run.

Each chart pairs a Python case with the C++ row it stands beside (the row's `counterpart` field names it), so the
gap between two bars of a pair is what the interpreter adds."""
import numpy as np

from . import common, style

PY_COLOR, CPP_COLOR = "#1f77b4", "#2ca02c"


def _runtime(cases):
    rt = next((str(c.ident["runtime"]) for c in cases if str(c.ident.get("runtime", "")).startswith("cpython")), "")
    name, _, version = rt.partition("-")
    return f"CPython {version}" if name == "cpython" else (rt or "CPython")


def _counterpart(case, by_name):
    name = next((r.get("counterpart") for r in case.iterations if r.get("counterpart")), None)
    return by_name.get(name) if name else None


def pairs(cases, experiment, field):
    """[(label, python value, C++ value or None, C++ label)] of one experiment's Python cases, in run order."""
    by_name = {c.run_name: c for c in cases}
    out = []
    for c in cases:
        i = c.ident
        if i.get("experiment") != experiment or i.get("runtime") == "cpp":
            continue
        k = _counterpart(c, by_name)
        what = i.get("transport") or i.get("serializer")
        extra = i.get("model") or ""
        if experiment == "pingpong" and i.get("serializer") not in (None, "none"):
            extra += f" {i['serializer']}"
        label = f"{what} {extra}".strip()
        kl = ""
        if k is not None:
            ki = k.ident
            kl = " ".join(str(x) for x in (ki.get("transport") or ki.get("serializer"), ki.get("model") or "") if x)
        if c.unstable or (k is not None and k.unstable):
            label += " ~"  # the repetitions of one of the pair disagree (spread over the unstable threshold)
        out.append((label, None if c.failed else c.value(field), None if k is None or k.failed else k.value(field), kl))
    return out


def paired_bars(ax, rows, fmt, runtime, higher_better=False):
    """Two horizontal bars per row (Python on top, C++ below), log axis, each value written at its bar's end."""
    y = np.arange(len(rows))
    for off, idx, color in ((-0.2, 1, PY_COLOR), (0.2, 2, CPP_COLOR)):
        vals = [r[idx] for r in rows]
        for yy, v in zip(y, vals):
            if v:
                ax.barh(yy + off, v, height=0.38, color=color, zorder=3)
                ax.annotate(fmt(v), (v, yy + off), xytext=(4, 0), textcoords="offset points", va="center",
                            fontsize=style.current()["small"])
    labels = []
    for label, py, cpp, kl in rows:
        ratio = (py / cpp if not higher_better else cpp / py) if py and cpp else None
        labels.append(f"{label}  ({ratio:.1f}x)" if ratio else label)
    ax.set_yticks(y, labels)
    ax.set_ylim(len(rows) - 0.5, -0.6)
    ax.set_xscale("log")
    values = [v for r in rows for v in r[1:3] if v]
    if values:
        ax.set_xlim(min(values) / 1.5, max(values) * 4)
    ax.grid(axis="y", visible=False)
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color=PY_COLOR, label=runtime), Patch(color=CPP_COLOR, label="C++ (bench)")],
              loc="lower right", fontsize=style.current()["small"])


def _chart(cases, context, experiment, field, rate, xlabel, title, caption, tall=False):
    """One chart of an experiment's pairs: Python above, C++ below, on a log axis of times (or of rates)."""
    rows = [r for r in pairs(cases, experiment, field) if r[1] or r[2]]
    if not rows:
        return None
    fig, (ax,) = common.figure()
    if tall:  # a bar pair per case: room for every label
        fig.set_size_inches(fig.get_size_inches()[0], max(fig.get_size_inches()[1], 0.42 * len(rows) + 3))
    paired_bars(ax, rows, style.fmt_rate if rate else style.fmt_time, _runtime(cases), higher_better=rate)
    common.log_axis(ax.xaxis, style.RATE if rate else style.TIME)
    ax.set_xlabel(xlabel)
    common.finish(fig, title, context, caption)
    return fig


def pingpong(cases, context):
    return _chart(cases, context, "pingpong", "rtt_p50_ns", False,
                  "round trip, p50 (log scale); (Nx): Python/C++; ~: unstable",
                  f"The Python tax: a round trip from {_runtime(cases)} against C++",
                  "One message to the server and back, each the median of the repetitions; the C++ row runs bench's "
                  "own transport of the same kind under the matching model (asyncio beside bench's async).", tall=True)


def serialize(cases, context):
    return _chart(cases, context, "serialize", "op_p50_ns", False,
                  "one encode + one decode, p50 (log scale); (Nx): Python/C++; ~: unstable",
                  "Serialization of one small record: Python's modules against C++",
                  "pickle and marshal have no C++ twin here; struct stands beside bench's raw memcpy layout.")


def stream(cases, context):
    return _chart(cases, context, "stream", "msgs_per_s", True,
                  "messages/s at the receiver (log scale); (Nx): C++/Python; ~: unstable",
                  "A one-way stream from Python against C++",
                  "Each the median of the repetitions; a lossy transport (UDP) counts only what arrived.")


CHARTS = {"python_pingpong": pingpong, "python_serialize": serialize, "python_stream": stream}


def plot(doc, run_dir, formats):
    """Draws the python suite's charts; returns the written paths."""
    return common.draw_suite(doc, run_dir, formats, "python", CHARTS)
