"""Lesson 9, spinlocks oversubscribed: test-and-set, ticket and mutex throughput from one thread to several
times the CPUs (bench run contention, experiment locks)."""
from .. import common, style
from . import facts, slide

NAME = "spinlocks"
TITLE = "Spinlocks oversubscribed"
NEEDS = "locks rows of the contention suite (tas, ticket, mutex) with more threads than CPUs"
FLAGS = "bench run contention --filter experiment:locks --locks tas,ticket,mutex --cores 4xCPUs"
LOCKS = (("tas", "test-and-set"), ("ticket", "ticket lock"), ("ttas", "test-and-test-and-set"), ("mutex", "mutex"))
MAX_LOCKS = 4
FIELD = "ops_per_s"


def threads(case):
    return facts.field(case, "threads")


def _cpus(context):
    return context.get("cores_available") or 1


def select(cases, context):
    names = dict(LOCKS)
    pool = [c for c in cases if c.ident.get("experiment") == "locks" and c.ident.get("lock") in names
            and threads(c) and facts.field(c, "mix") is None]
    if not any(threads(c) > _cpus(context) for c in pool):
        return []  # nothing oversubscribed: the lesson's point is missing, not shown
    locks = [lk for lk, _ in LOCKS if any(c.ident.get("lock") == lk for c in pool)][:MAX_LOCKS]
    chosen = [c for c in pool if c.ident.get("lock") in locks]
    return chosen if len({threads(c) for c in chosen}) >= 2 else []


def cannot_show(chosen, context):
    return None


def _fall(chosen, lock, context):
    """(case at the best thread count up to the CPUs, case at the most threads) of one lock, or None."""
    own = [c for c in chosen if c.ident.get("lock") == lock and facts.measured(c, FIELD)]
    fits = [c for c in own if threads(c) <= _cpus(context)]
    if not fits or not own:
        return None
    return max(fits, key=lambda c: c.value(FIELD)), max(own, key=lambda c: threads(c))


def headline(chosen, context):
    names = dict(LOCKS)
    falls = [(lk, f) for lk, _ in LOCKS for f in [_fall(chosen, lk, context)] if f]
    lock, (best, most) = falls[0]
    r, noise = facts.ratio(best, most, FIELD)
    lead = (f"At {threads(most)} threads, {names[lock]} is within noise of its best" if noise else
            f"At {threads(most)} threads, {names[lock]} ran {facts.times(r)} below its best "
            f"({style.fmt_rate(most.value(FIELD))} against {style.fmt_rate(best.value(FIELD))} ops/s at "
            f"{threads(best)} thread{'s' if threads(best) != 1 else ''})")
    others = [f"{names[lk]} {facts.times(facts.ratio(b, m, FIELD)[0])}" for lk, (b, m) in falls[1:]]
    return lead + ("; " + ", ".join(others) if others else "")


def notes(chosen, context):
    return ("Each thread takes the lock, does a short critical section and lets go, in a loop. A spinning "
            "lock works while every waiter has its own CPU; once there are more threads than CPUs (shaded), "
            "the holder can be descheduled and everyone else spins a whole time slice on a lock nobody can "
            "release. The ticket lock is worse: it hands the lock to the next in line even if that thread is "
            "not running. The mutex sleeps in the kernel instead of spinning, so it degrades gracefully. Point "
            "at the first shaded point of each line.")


def draw(sl, chosen, context):
    (ax,) = sl.axes()
    names = dict(LOCKS)
    entries = []
    for lock, _ in LOCKS:
        own = [c for c in chosen if c.ident.get("lock") == lock]
        if own:
            pts = [(threads(c), facts.measured(c, FIELD), slide.reps_range(c, FIELD)) for c in own]
            entries.append(slide.series(ax, pts, style.lock_color(lock), names[lock]))
            slide.bottom_marks(ax, [threads(c) for c in own if c.failed], style.lock_color(lock))
    cpus = _cpus(context)
    slide.log2_x(ax, sorted({threads(c) for c in chosen} | {cpus}))
    slide.log_y(ax, style.RATE)
    slide.reference(ax, cpus, f"{cpus} threads: one per CPU", vertical=True, where=0.1)
    slide.shade_beyond(ax, cpus * 2 ** 0.5, "more threads than CPUs")
    common.log_axis(ax.yaxis, style.RATE)
    ax.set_xlabel("threads taking the lock")
    ax.set_ylabel("lock operations per second, all threads")
    slide.end_labels(ax, entries)
