"""CPU-bound Python: the same countdown loop in one thread, split over N threads (one interpreter, one GIL) and
split over N processes (one GIL each), on real CPython (bench run python)."""
from .. import style
from . import facts, slide

NAME = "cpu-bound-python"
TITLE = "CPU-bound Python: threads or processes"
NEEDS = "bench run python cpu rows: 1 thread, N threads and N processes of one countdown"
FLAGS = "bench run python --filter experiment:cpu"
FIELD = "wall_ns"


def select(cases, context):
    pool = [c for c in cases if c.ident.get("suite") == "python" and c.ident.get("experiment") == "cpu"]
    one = [c for c in pool if c.ident.get("kind") == "thread" and c.ident.get("workers") == 1]
    many = [c for c in pool if (c.ident.get("workers") or 0) > 1]
    if not one or not many:
        return []
    n = max(c.ident["workers"] for c in many)
    top = [c for c in many if c.ident["workers"] == n]
    picked = [next((c for c in top if c.ident.get("kind") == k), None) for k in ("thread", "process")]
    return one[:1] + [c for c in picked if c]


def cannot_show(chosen, context):
    if not all(facts.measured(c, FIELD) for c in chosen):
        failed = next((c for c in chosen if c.failed), None)
        return f"a CPU-bound job was not measured ({failed.error if failed else 'no value'})."
    if len(chosen) < 3:
        return "the run has no N threads and N processes beside one thread."
    return None


def _get(chosen, kind, many):
    return next((c for c in chosen if c.ident.get("kind") == kind and ((c.ident.get("workers") or 0) > 1) == many),
                None)


def _label(c):
    w, kind = c.ident.get("workers"), c.ident.get("kind")
    return f"{w} {kind}{('es' if kind == 'process' else 's') if w > 1 else ''}"


def headline(chosen, context):
    one, threads, procs = _get(chosen, "thread", False), _get(chosen, "thread", True), _get(chosen, "process", True)
    rt, _ = facts.ratio(threads, one, FIELD)
    rp, noise = facts.ratio(one, procs, FIELD)
    n = threads.ident["workers"]
    t_text = (f"{n} threads take {facts.times(rt)} as long as one" if rt >= 1.1 else
              f"{n} threads finish no sooner than one" if rt > 0.9 else f"{n} threads are {facts.times(1 / rt)} faster")
    p_text = "within noise of one thread" if noise else f"{facts.times(rp)} faster than one thread"
    return (f"CPU-bound Python: {t_text} ({style.fmt_time(threads.value(FIELD))}); {n} processes are {p_text} "
            f"({style.fmt_time(procs.value(FIELD))})")


def notes(chosen, context):
    one, threads, procs = _get(chosen, "thread", False), _get(chosen, "thread", True), _get(chosen, "process", True)
    busy = threads.value("cpus_busy")
    busy_text = f" The {threads.ident['workers']} threads kept {busy:.2f} CPUs busy on average." if busy else ""
    cores = context.get("cores_available")
    over = (f" This machine has {cores} CPUs: more processes than that share them, so the speed-up stops at {cores}x."
            if cores and procs.ident["workers"] > cores else "")
    return ("The same countdown loop (n -= 1 until n reaches 0) of the same total length, in one thread, split "
            "over several threads of one interpreter, and split over as many processes. Threads take turns holding "
            "the GIL: at most one runs Python bytecode at a time, and each hand-over costs a wake-up, so the job "
            "takes as long or longer." + busy_text + " Processes each have their own interpreter and GIL and run in parallel on "
            "separate cores." + over + " For CPU-bound Python: multiprocessing (or C code that releases the GIL); "
            "threads are for waiting on I/O.")


def draw(sl, chosen, context):
    (ax,) = sl.axes()
    colors = {"thread": "#1f77b4", "process": "#2ca02c"}
    bars = [(_label(c), facts.measured(c, FIELD), slide.reps_range(c, FIELD),
             colors.get(c.ident.get("kind"), "#888888")) for c in chosen]
    slide.hbars(ax, bars, style.fmt_time)
    values = [v for b in bars for v in ([b[1]] + list(b[2] or ())) if v]
    # A linear axis from zero: the lesson is a ratio of lengths (no faster, or N times faster).
    ax.set_xscale("linear")
    ax.set_xlim(0, max(values) * 1.3)
    ax.xaxis.set_major_formatter(style.TIME)
    ax.set_xlabel("wall time of the whole job (whisker: range of the repetitions)")
