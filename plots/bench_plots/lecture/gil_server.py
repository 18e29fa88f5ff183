"""Lesson 7, locks and a GIL in a server: every pair asks for the same CPU work per message, served by threads
without a lock, under a mutex, under the emulated new GIL, by processes (a GIL each) and by the event loop."""
from .. import common, style
from ..ipc_scaling import servers_on_one_cpu
from . import facts, slide, sweep

NAME = "locks-and-gil"
TITLE = "Locks and a GIL in a server"
NEEDS = "a pairs sweep with --work and --lock none,mutex,gil-new over thread, process and async"
FLAGS = ("bench run ipc --transports unix --models thread,process,async --sizes 64 --work 10us "
         "--lock none,mutex,gil-new --placement same --cores 8")
# (model, locks in order of preference, label, colour): the series of the slide.
SERIES = (
    ("thread", ("none",), "threads, no lock", "#d62728"),
    ("thread", ("mutex",), "threads, one mutex", "#ff7f0e"),
    ("thread", ("gil-new",), "threads, new GIL", "#8c564b"),
    ("process", ("gil-new", "none"), "processes", "#1f77b4"),
    ("async", ("none", "gil-new", "mutex"), "one event loop", "#2ca02c"),
)
LOCKS = ("none", "mutex", "gil-new")


def _lock(case):
    return str(case.ident.get("lock") or "none")


def _worked(case):
    return (common.number(case.ident.get("work_ns")) or 0) > 0 and _lock(case) in LOCKS \
        and not case.ident.get("shape") and not (common.number(case.ident.get("rate")) or 0)


def _series(chosen):
    """[(label, colour, model, cases, lock)] of the series the rows have."""
    out = []
    for model, locks, label, color in SERIES:
        lock = next((lk for lk in locks if any(c.ident.get("model") == model and _lock(c) == lk for c in chosen)),
                    None)
        if lock:
            cases = [c for c in chosen if c.ident.get("model") == model and _lock(c) == lock]
            out.append((label + (", a GIL each" if model == "process" and lock == "gil-new" else ""), color, model,
                        cases, lock))
    return out


def select(cases, context):
    pool = sweep.choose(cases, "throughput", ("thread", "process", "async"), _worked)
    work = {c.ident.get("work_ns") for c in pool}
    if len(work) != 1 or not any(_lock(c) == "none" for c in pool) or not any(_lock(c) != "none" for c in pool):
        return []
    chosen = [c for s in _series(pool) for c in s[3]]
    return chosen


def cannot_show(chosen, context):
    cpu = servers_on_one_cpu(chosen)
    if cpu is not None:
        return (f"Every server of more than one pair ran on CPU {cpu} (placement {context.get('placement')} on "
                f"{context.get('cores_available')} CPUs: the clients took the others), so no model could scale and "
                f"a lock's cost cannot be told from the CPU's. With two CPUs, --placement same gives each pair a "
                f"CPU of its own.")
    if (context.get("cores_available") or 1) < 2:
        return "With one CPU only one server can work at a time, lock or no lock."
    return None


def _compare(chosen):
    """(pairs, {label: case}) at the most pairs every series ran."""
    series = _series(chosen)
    counts = [p for p in {c.ident.get("pairs") for c in chosen}
              if all(any(c.ident.get("pairs") == p and facts.measured(c, "msgs_per_s") for c in s[3]) for s in series)]
    n = max(counts)
    return n, {s[0]: next(c for c in s[3] if c.ident.get("pairs") == n) for s in series}


def headline(chosen, context):
    n, at = _compare(chosen)
    free, gil = at.get("threads, no lock"), at.get("threads, new GIL") or at.get("threads, one mutex")
    work = style.fmt_time(chosen[0].ident["work_ns"])
    if not free or not gil:
        best = max(at.items(), key=lambda kv: kv[1].value("msgs_per_s"))
        return f"{work} of work per message, {n} pairs: {best[0]} served the most, {style.fmt_rate(best[1].value('msgs_per_s'))}/s"
    lock = "the new GIL" if _lock(gil) == "gil-new" else "one mutex"
    r, noise = facts.ratio(free, gil, "msgs_per_s")
    if noise:
        return (f"{work} of work per message, {n} pairs: threads under {lock} are within noise of threads without a "
                f"lock ({style.fmt_rate(gil.value('msgs_per_s'))} against {style.fmt_rate(free.value('msgs_per_s'))}/s)")
    how = facts.more_or_fewer(1 / r, "messages")
    said = (f"{work} of work per message, {n} pairs: threads under {lock} served {how} than without a lock "
            f"({style.fmt_rate(gil.value('msgs_per_s'))} against {style.fmt_rate(free.value('msgs_per_s'))}/s)")
    proc = next((c for label, c in at.items() if label.startswith("processes")), None)
    if proc:
        said += f"; processes, a lock each, {style.fmt_rate(proc.value('msgs_per_s'))}/s"
    return said


def notes(chosen, context):
    return ("Every message makes its server do the same busy loop of CPU work, like a Python handler. Threads "
            "of one process share one lock: without it they work side by side up to the number of CPUs; under a "
            "mutex or the emulated new GIL only one works at a time, and each hand-off wakes a sleeping thread. "
            "Processes have a GIL each, so they scale as if there were none: that is why Python servers fork. "
            "The event loop is one thread, so it never scales but never hands off either. The dotted line is "
            "the ideal speed-up of one pair; the dashed one what the CPUs could do with the work alone. Point at "
            "the gap between the threads without a lock and under the GIL.")


def draw(sl, chosen, context):
    (ax,) = sl.axes()
    series = _series(chosen)
    entries = sweep.lines(ax, [s[:4] for s in series], "msgs_per_s")
    entries.append(sweep.ideal(ax, chosen, "thread", "msgs_per_s", "ideal speed-up"))
    work, cpus = chosen[0].ident["work_ns"], context.get("cores_available")
    if cpus:
        slide.reference(ax, cpus * 1e9 / work, f"{cpus} CPUs doing only the work: {style.fmt_rate(cpus * 1e9 / work)}/s")
    sweep.axis(ax, chosen)
    slide.log_y(ax, style.RATE)
    slide.log_pad(ax)
    common.log_axis(ax.yaxis, style.RATE)
    ax.set_ylabel("messages/s, all pairs (band: repetitions)")
    sweep.oversubscribed(ax, chosen)
    slide.end_labels(ax, entries)
