"""Lesson 0, where your threads run: the cache-line round trip between every pair of CPUs (bench run cores), on a
machine whose pairs are not all alike (SMT siblings, two L3 domains, two NUMA nodes or packages)."""
from .. import cores, style
from . import slide

NAME = "where-threads-run"
TITLE = "Where your threads run"
NEEDS = "the core-to-core map of bench run cores, on a machine with more than one kind of CPU pair"
FLAGS = "bench run cores --quick"


def applies(context):
    """Why the lesson does not apply to this machine (every pair of CPUs alike), or None where it does."""
    topo = context.get("topology") or {}
    if not topo:
        return None
    if topo.get("smt") or any((topo.get(k) or 1) > 1 for k in ("l3_domains", "numa_nodes", "packages")):
        return None
    return (f"every pair of CPUs of this machine is of one kind ({topo.get('describe')}): the map would be one "
            "colour")


def select(cases, context):
    chosen = [c for c in cases if c.ident.get("suite") == "cores" and c.value("rtt_p50_ns") is not None]
    return chosen if len(cores.by_relation(chosen)) >= 2 else []


def cannot_show(chosen, context):
    return None


def _medians(chosen):
    return [(r, v[len(v) // 2]) for r, v in cores.by_relation(chosen).items()]


def headline(chosen, context):
    groups = _medians(chosen)
    (near, fast), (far, slow) = groups[0], groups[-1]
    near, far = near.replace("smt", "SMT"), far.replace("smt", "SMT")
    return (f"A cache line goes there and back in {style.fmt_time(fast)} between {near} and in "
            f"{style.fmt_time(slow)} between {far}: {slow / fast:.1f}x, for the same two threads")


def notes(chosen, context):
    parts = ", ".join(f"{r} {style.fmt_time(v)}" for r, v in _medians(chosen))
    return ("Two threads hand one cache line back and forth; each cell is the median round trip between two CPUs. "
            f"Medians by kind of pair: {parts}. Hardware threads of one core share its L1 and L2; cores of one L3 "
            "meet in it; across L3 domains, NUMA nodes or sockets the line travels over the interconnect. This is "
            "why every figure in this deck names where its two ends ran, and why bench's default placement keeps "
            "a pair on two cores of one L3.")


def draw(sl, chosen, context):
    (ax,) = sl.axes()
    cores.draw_map(ax, chosen, sl.fig, cell_pt=slide.PT["tick"], tick_pt=slide.PT["tick"])
