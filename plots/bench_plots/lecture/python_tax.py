"""The Python tax: one 64 B round trip between two processes through a C++ pipe and through what a Python program
uses for it (os.pipe, multiprocessing.Pipe, multiprocessing.Queue), measured by bench run python on real CPython."""
from .. import common, style
from . import facts, slide

NAME = "the-python-tax"
TITLE = "The Python tax"
NEEDS = ("bench run python rows: 64 B pingpong to a server process over py-pipe, py-mp-pipe, py-mp-queue, and the "
         "C++ pipe beside them")
FLAGS = "bench run python --transports py-pipe,py-mp-pipe,py-mp-queue --models process --sizes 64"
# Top to bottom: bench's C++ pipe, then the Python ways, plainest first.
ORDER = (("pipe", "cpp", "C++: two pipes (bench)"), ("py-pipe", None, "Python: os.pipe()"),
         ("py-mp-pipe", None, "Python: multiprocessing.Pipe()"),
         ("py-mp-queue", None, "Python: multiprocessing.Queue()"))
FIELD = "rtt_p50_ns"
COLORS = {"cpp": "#2ca02c", "cpython": "#1f77b4", "queue": "#d62728"}


def _is_python_suite_pingpong(c):
    i = c.ident
    return (i.get("suite") == "python" and i.get("experiment") == "pingpong" and i.get("model") == "process"
            and i.get("serializer") == "none" and i.get("msg_bytes") == 64)


def select(cases, context):
    pool = [c for c in cases if _is_python_suite_pingpong(c)]
    chosen = []
    for transport, runtime, _ in ORDER:
        chosen += [c for c in pool if c.ident.get("transport") == transport
                   and (runtime is None or c.ident.get("runtime") == runtime)]
    has_python = any(str(c.ident.get("runtime", "")).startswith("cpython") for c in chosen)
    return chosen if has_python and len(chosen) >= 2 else []


def cannot_show(chosen, context):
    if not any(facts.measured(c, FIELD) for c in chosen if c.ident.get("runtime") != "cpp"):
        failed = next((c for c in chosen if c.failed), None)
        return f"no Python round trip was measured ({failed.error if failed else 'no rows'})."
    return None


def _runtime(chosen):
    rt = next((str(c.ident["runtime"]) for c in chosen if str(c.ident.get("runtime", "")).startswith("cpython")), "")
    name, _, version = rt.partition("-")
    return f"CPython {version}" if name == "cpython" else rt


def _pick(chosen, transport):
    return next((c for c in chosen if c.ident.get("transport") == transport and facts.measured(c, FIELD)), None)


def headline(chosen, context):
    cpp = _pick(chosen, "pipe")
    slowest = next((c for t in ("py-mp-queue", "py-mp-pipe", "py-pipe") for c in [_pick(chosen, t)] if c), None)
    label = dict((t, l.split(": ")[1]) for t, _, l in ORDER)[slowest.ident["transport"]]
    if cpp is None:
        return f"A 64 B round trip through {label}: {style.fmt_time(slowest.value(FIELD))} (p50, {_runtime(chosen)})"
    r, noise = facts.ratio(slowest, cpp, FIELD)
    figures = f"{style.fmt_time(slowest.value(FIELD))} against {style.fmt_time(cpp.value(FIELD))} (64 B, p50)"
    if noise:
        return f"{label} and a C++ pipe are within noise: {figures}"
    return f"A round trip through {label} takes {facts.times(r)} as long as through a C++ pipe: {figures}"


def _step(chosen, a, b, said):
    ca, cb = _pick(chosen, a), _pick(chosen, b)
    if ca is None or cb is None:
        return ""
    r, noise = facts.ratio(cb, ca, FIELD)
    return f" {said} ({style.fmt_time(cb.value(FIELD))}, {'within noise' if noise else facts.times(r)})."


def notes(chosen, context):
    return ("Each bar is one 64-byte message to a server process and back, the median of the repetitions with their "
            "range as the whisker, all measured in the same run on the same two CPUs. The C++ bar is the kernel's "
            "cost: two pipe writes, two reads and two wake-ups." +
            _step(chosen, "pipe", "py-pipe", "os.pipe adds the interpreter: bytecode, a bytes object per read, the "
                  "length prefix, the GIL taken and released around each system call") +
            _step(chosen, "py-pipe", "py-mp-pipe", "multiprocessing.Pipe adds its own framing and checks around "
                  "send_bytes and recv_bytes over a socketpair") +
            _step(chosen, "py-mp-pipe", "py-mp-queue", "multiprocessing.Queue pickles every item and hands it to a "
                  "feeder thread that writes it to a pipe under a lock: one more thread wake-up and a GIL hand-over "
                  "per message on each side") +
            " The tax is per message, not per byte: batch small messages, or move arrays through shared memory.")


def draw(sl, chosen, context):
    (ax,) = sl.axes()
    bars = []
    for c in chosen:
        t, rt = c.ident.get("transport"), str(c.ident.get("runtime"))
        label = next(l for tt, _, l in ORDER if tt == t)
        color = COLORS["cpp"] if rt == "cpp" else COLORS["queue"] if t == "py-mp-queue" else COLORS["cpython"]
        bars.append((label.replace(": ", ":\n"), facts.measured(c, FIELD), slide.reps_range(c, FIELD), color))
    slide.hbars(ax, bars, style.fmt_time)
    values = [v for b in bars for v in ([b[1]] + list(b[2] or ())) if v]
    ax.set_xlim(min(values) / 2, max(values) * 5)
    common.log_axis(ax.xaxis, style.TIME)
    ax.set_xlabel(f"round trip to a server process, p50 (log scale; {_runtime(chosen)} beside C++)")
