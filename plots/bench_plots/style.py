"""The one place for the look of every chart: colours, line styles, fonts, tick labels, the machine subtitle.

Colours are fixed per name (not per chart), so "tcp" is the same red on every slide of every suite.
"""
import math
import zlib

import matplotlib
from matplotlib.ticker import FuncFormatter

# Transports, grouped by family: related mechanisms get related hues, the four basic ones the most distinct.
TRANSPORT_COLORS = {
    "pipe": "#1f77b4", "pipe-splice": "#6fa8dc", "fifo": "#17becf",
    "unix": "#2ca02c", "unix-dgram": "#7cc46a", "unix-seqpacket": "#0b6e4f",
    "tcp": "#d62728", "udp": "#f08080",
    "shm-spin": "#5b2c83", "shm": "#9467bd", "shm-eventfd": "#b48ad6", "mmap": "#e377c2",
    "eventfd": "#8c564b", "mq": "#ff7f0e",
    "zmq-inproc": "#bcbd22", "zmq-ipc": "#7f7f7f", "zmq-tcp": "#b8860b", "zmq-reqrep": "#3d3d3d",
    "amqp": "#e6550d", "amqp-durable": "#a63603", "amqp-confirmed": "#7f2704",
}
SERIALIZER_COLORS = {
    "raw": "#4d4d4d", "protobuf": "#1f77b4", "capnp": "#d62728", "flatbuffers": "#2ca02c",
    "msgpack": "#ff7f0e", "json": "#9467bd", "json-fast": "#e377c2",
}
LOCK_COLORS = {  # locks and scheduling policies (contention suite)
    "mutex": "#1f77b4", "tas": "#d62728", "ttas": "#ff7f0e", "ticket": "#8c564b", "adaptive": "#2ca02c",
    "shared-mutex": "#17becf", "atomic": "#9467bd", "sharded": "#bcbd22", "none": "#4d4d4d",
    "old": "#8c8c8c", "new": "#1f77b4", "priority": "#ff7f0e",
}
# Execution model -> (line style, marker).
MODEL_STYLES = {
    "thread": ("-", "o"),
    "process": ("--", "s"),
    "async": ("-.", "^"),
    "async-uring": (":", "D"),
}
_FALLBACK_COLORS = ["#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354",
                    "#756bb1", "#636363", "#bd9e39", "#ad494a"]
_FALLBACK_STYLES = [((0, (5, 1, 1, 1)), "v"), ((0, (1, 1)), "P"), ((0, (8, 2)), "X"), ((0, (3, 1, 1, 1, 1, 1)), "h")]


def _stable_pick(name, choices):
    # crc32, not hash(): Python salts str hashes per process, colours must not change between runs.
    return choices[zlib.crc32(str(name).encode()) % len(choices)]


def _color(table, name):
    return table.get(name) or _stable_pick(name, _FALLBACK_COLORS)


def transport_color(name):
    return _color(TRANSPORT_COLORS, name)


def serializer_color(name):
    return _color(SERIALIZER_COLORS, name)


def lock_color(name):
    return _color(LOCK_COLORS, name)


def model_style(name):
    """(linestyle, marker) for an execution model."""
    return MODEL_STYLES.get(name) or _stable_pick(name, _FALLBACK_STYLES)


def order_key(table, name):
    """Sort key that lists known names in table order, unknown ones after them alphabetically."""
    names = list(table)
    return (names.index(name), "") if name in names else (len(names), str(name))


# ---- presentation styles ------------------------------------------------------------------------------------

STYLES = {
    # Projected in a lecture hall: 12x7 in at 150 dpi (1800x1050 px), ~16 pt base font.
    "lecture": {"figsize": (12, 7), "dpi": 150, "font": 16, "title": 22, "small": 13, "line": 2.6, "marker": 8},
    # A column of a paper: small, dense, print resolution.
    "paper": {"figsize": (7, 4.3), "dpi": 300, "font": 9, "title": 11, "small": 7.5, "line": 1.4, "marker": 4},
}
_current = dict(STYLES["lecture"])


def apply(style="lecture"):
    """Sets matplotlib's rcParams for a presentation style; charts read sizes back via current()."""
    s = STYLES[style]
    _current.clear()
    _current.update(s)
    matplotlib.rcParams.update({
        "figure.figsize": s["figsize"], "figure.dpi": 100, "savefig.dpi": s["dpi"],
        "font.size": s["font"], "axes.titlesize": s["font"] + 1, "axes.labelsize": s["font"] + 1,
        "xtick.labelsize": s["font"] - 1, "ytick.labelsize": s["font"] - 1, "legend.fontsize": s["font"] - 2,
        "lines.linewidth": s["line"], "lines.markersize": s["marker"],
        "axes.grid": True, "axes.grid.which": "major", "grid.alpha": 0.35, "grid.linestyle": "-",
        "axes.spines.top": False, "axes.spines.right": False, "axes.axisbelow": True,
        "svg.hashsalt": "bench", "svg.fonttype": "path", "pdf.fonttype": 42,
    })


def current():
    return _current


# ---- number formatting (tick labels and footnotes) ----------------------------------------------------------

def _num(v):
    """At most 3 significant digits, no trailing zeros: 1, 2.5, 10, 250, 1.25."""
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    digits = max(0, 2 - math.floor(math.log10(abs(v))))
    s = f"{v:.{digits}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def _scaled(v, units):
    for factor, unit in units:
        if abs(v) >= factor * 0.9995:
            return f"{_num(v / factor)} {unit}".rstrip()
    factor, unit = units[-1]
    return f"{_num(v / factor)} {unit}".rstrip()


def fmt_time(ns):
    """Nanoseconds: 250 ns, 10 us, 1.5 ms, 2 s."""
    return "0" if ns == 0 else _scaled(ns, [(1e9, "s"), (1e6, "ms"), (1e3, "us"), (1, "ns")])


def fmt_size(n):
    """Bytes in binary units: 64 B, 4 KiB, 1 MiB."""
    return "0 B" if n == 0 else _scaled(n, [(2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"), (1, "B")])


def fmt_rate(v):
    """A count per second: 950, 250 k, 1.2 M."""
    return "0" if v == 0 else _scaled(v, [(1e9, "G"), (1e6, "M"), (1e3, "k"), (1, "")])


def fmt_bytes_rate(v):
    """Bytes per second in decimal units: 800 kB/s, 350 MB/s, 2.5 GB/s."""
    return "0" if v == 0 else _scaled(v, [(1e12, "TB/s"), (1e9, "GB/s"), (1e6, "MB/s"), (1e3, "kB/s"), (1, "B/s")])


def fmt_factor(v):
    """How many times: 0.97x, 2.5x, 12x, 360x (for sentences such as "360x less")."""
    return f"{v:.2f}x" if v < 0.995 else f"{v:.1f}x" if v < 9.95 else f"{v:.0f}x"


def formatter(fmt):
    """A tick formatter from one of the fmt_* functions."""
    return FuncFormatter(lambda v, pos: fmt(v))


TIME = formatter(fmt_time)
SIZE = formatter(fmt_size)
RATE = formatter(fmt_rate)
BYTES_RATE = formatter(fmt_bytes_rate)


# ---- the machine behind the numbers -------------------------------------------------------------------------

def cpus_text(context):
    """The machine's CPUs in a footer: "8 cores / 16 threads, 2 L3 domains, 1 NUMA node" from its topology
    (hwloc), or "2 CPUs" for results written before topologies were recorded; None when neither is known."""
    topo = context.get("topology") or {}
    if topo.get("describe"):
        return str(topo["describe"]).replace(", virtual", "")
    n = context.get("cores_available")
    return f"{n} CPU{'' if n == 1 else 's'}" if n is not None else None


def subtitle(context):
    """(machine line, warning or None), e.g. ("Intel Xeon · 4 CPUs · Linux 6.1 · placement: cross · wait: block",
    "OVERSUBSCRIBED: 8 cores requested on 2")."""
    parts = []
    if context.get("cpu_model"):
        parts.append(str(context["cpu_model"]))
    if cpus_text(context):
        parts.append(cpus_text(context))
    if context.get("kernel"):
        parts.append(str(context["kernel"]))
    if context.get("placement"):
        parts.append(f"placement: {context['placement']}")
    if context.get("wait"):
        parts.append(f"wait: {context['wait']}")
    peer = context.get("peer") or {}
    if peer.get("host_name"):
        pc = peer.get("context") or {}
        server = ", ".join(str(v) for v in (pc.get("cpu_model"), f"{peer['cores_available']} CPUs"
                                            if peer.get("cores_available") else None, pc.get("kernel")) if v)
        parts.append(f"server {peer['host_name']}" + (f": {server}" if server else ""))
    warning = None
    if context.get("oversubscribed"):
        warning = (f"OVERSUBSCRIBED: {context.get('cores_requested', '?')} cores requested on "
                   f"{context.get('cores_available', '?')} - threads time-share CPUs, numbers include scheduling")
    return " · ".join(parts), warning
