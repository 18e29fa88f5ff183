"""Lesson 3, spinning against sleeping: the round trip and the CPU it costs for a receiver that polls, one that
polls and then sleeps (adaptive), and one that sleeps in the kernel."""
from .. import common, style
from . import facts, slide

NAME = "spin-vs-sleep"
TITLE = "Spinning against sleeping"
NEEDS = "one-pair latency rows at one size with a polling and a sleeping receiver, with cpu_ns_per_msg"
FLAGS = "bench run ipc --sizes 64 --transports shm-spin,shm,shm-eventfd,pipe --wait block,spin --models thread"
# (transport, wait) in the order of the slide: the rings' three disciplines, then a kernel transport both ways.
CANDIDATES = (("shm-spin", "spin"), ("shm", "adaptive"), ("shm-eventfd", "block"), ("pipe", "spin"),
              ("pipe", "block"), ("unix", "spin"), ("unix", "block"), ("mmap", "adaptive"))
WORDS = {"spin": "polls", "adaptive": "polls 20 us, then sleeps", "block": "sleeps in the kernel"}
RTT, CPU = "rtt_p50_ns", "cpu_ns_per_msg"


def _spins(case):
    return case.ident.get("wait") in ("spin", "adaptive")


def select(cases, context):
    pool = [c for c in cases if facts.plain_ipc(c) and c.ident.get("workload") == "latency"
            and c.ident.get("pairs", 1) == 1 and facts.measured(c, CPU)]
    pool = [c for c in pool if (c.ident.get("transport"), c.ident.get("wait")) in CANDIDATES]
    if not pool:
        return []
    size = min(c.ident["msg_bytes"] for c in pool)
    pool = facts.one_model([c for c in pool if c.ident["msg_bytes"] == size], order=("thread", "process"))
    chosen = [c for key in CANDIDATES for c in pool if (c.ident.get("transport"), c.ident.get("wait")) == key]
    chosen = chosen[:slide.MAX_SERIES]
    if not any(_spins(c) for c in chosen) or all(_spins(c) for c in chosen):
        return []
    return chosen


def cannot_show(chosen, context):
    return None


def _pair(chosen):
    """(polling, sleeping) to compare: one transport both ways where the run has that, else the fastest polling
    receiver against the fastest sleeping one."""
    for c in chosen:
        if c.ident.get("wait") == "spin":
            twin = [d for d in chosen if d.ident.get("transport") == c.ident.get("transport")
                    and d.ident.get("wait") == "block"]
            if twin:
                return c, twin[0]
    spin = min((c for c in chosen if _spins(c)), key=lambda c: c.value(RTT))
    block = min((c for c in chosen if not _spins(c)), key=lambda c: c.value(RTT))
    return spin, block


def _who(case):
    return f"{case.ident.get('transport')} ({WORDS.get(case.ident.get('wait'), case.ident.get('wait'))})"


def headline(chosen, context):
    spin, block = _pair(chosen)
    faster, noise = facts.ratio(block, spin, RTT)
    dearer, cpu_noise = facts.ratio(spin, block, CPU)
    lead = (f"Polling is within noise of sleeping here: {_who(spin)} {style.fmt_time(spin.value(RTT))}, "
            f"{_who(block)} {style.fmt_time(block.value(RTT))}" if noise else
            f"{_who(spin)} answers {facts.times(faster)} sooner than {_who(block)}: "
            f"{style.fmt_time(spin.value(RTT))} against {style.fmt_time(block.value(RTT))}")
    if cpu_noise:
        cost = "for CPU per round trip within noise"
    elif dearer >= 1:
        cost = f"for {facts.times(dearer)} the CPU per round trip"
    else:
        cost = f"and with {facts.times(1 / dearer)} less CPU per round trip"
    return f"{lead}, {cost}"


def notes(chosen, context):
    spin, block = _pair(chosen)
    return ("Left, the median round trip; right, the CPU both ends used per round trip. A receiver that polls "
            "sees the message the moment its cache line changes; one that sleeps must be woken by the kernel, "
            "which costs a system call, a scheduler pass and, on a VM, often an interrupt to a halted CPU. The "
            "tick on each CPU bar is twice the round trip: two ends busy all the time would sit there. While "
            "messages keep coming, polling is even cheap in CPU; what it really costs is the core it holds when "
            f"nothing comes. Point at {spin.ident.get('transport')} against {block.ident.get('transport')}.")


def draw(sl, chosen, context):
    lat, cpu = sl.axes(ncols=2, sharey=True)
    bars = [(f"{c.ident.get('transport')}\n{WORDS.get(c.ident.get('wait'), c.ident.get('wait'))}",
             facts.measured(c, RTT), slide.reps_range(c, RTT), style.transport_color(c.ident.get("transport")))
            for c in chosen]
    slide.hbars(lat, bars, style.fmt_time)
    busy = {row: 2 * c.value("rtt_mean_ns") for row, c in enumerate(chosen) if facts.measured(c, "rtt_mean_ns")}
    slide.hbars(cpu, [(b[0], facts.measured(c, CPU), slide.reps_range(c, CPU), b[3]) for b, c in zip(bars, chosen)],
                style.fmt_time, text_after=busy)
    for row, x in busy.items():  # both ends busy for the whole round trip: the most a closed loop can burn
        cpu.plot([x] * 2, [row - 0.42, row + 0.42], color="black", linewidth=4, zorder=6)
    floor = context.get("floor") or {}
    c2c = common.number(floor.get("c2c_round_trip_ns"))
    for ax, field in ((lat, RTT), (cpu, CPU)):
        values = [v for c in chosen for v in (slide.reps_range(c, field) or ())] + ([c2c] if c2c else [])
        values += [2 * c.value("rtt_mean_ns") for c in chosen if ax is cpu and facts.measured(c, "rtt_mean_ns")]
        ax.set_xlim(min(values) / 3, max(values) * 8)
        common.log_axis(ax.xaxis, style.TIME)
    if c2c:
        slide.reference(lat, c2c, f"cache-line round trip: {style.fmt_time(c2c)}", vertical=True, where=0.0)
    cpu.annotate("black tick: 2 x mean round trip\n(both ends always busy)", (0.99, 1.0), xycoords="axes fraction",
                 ha="right", va="top", fontsize=slide.PT["reference"], color="#333333")
    lat.set_xlabel("round trip, p50")
    cpu.set_xlabel("CPU time per round trip, both ends")
    cpu.tick_params(labelleft=False)
