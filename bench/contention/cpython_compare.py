#!/usr/bin/env python3
"""Runs the contention suite's two GIL experiments on the real CPython, to check the emulation against it.

1. gil-cpu:    a countdown loop (`while n > 0: n -= 1`) of fixed total length, in 1 thread, split over
               2 threads, and split over 2 processes (os.fork: each its own interpreter and GIL).
2. gil-convoy: an I/O thread doing 64-byte echo round trips over a socketpair with an echo peer in another
               process, alone and beside one CPU-bound thread (`while not stop: n += 1`), for each switch
               interval (sys.setswitchinterval); p50/p99 of the round trip and round trips/s.

Pinning mirrors the emulation (bench/contention/gil_cases.cpp): the I/O thread on the first CPU, the echo peer
(SCHED_FIFO where allowed, so that it answers at once) and the CPU-bound thread on the second (--echo same puts
the echo peer on the I/O thread's CPU instead); thread/process i of gil-cpu on CPU i. Python's GIL is the
`new` policy.

With --results, the emulation's medians from a `bench run contention` results.json are printed beside.

    /usr/bin/python3 bench/contention/cpython_compare.py [--quick] [--results results/<run>/results.json]
"""

import argparse
import json
import os
import resource
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from countdown import countdown, warm_countdown  # noqa: E402  the loop py_worker.py runs too

MSG = 64


def cpus():
    return sorted(os.sched_getaffinity(0))


def pin(cpu):
    # On Linux, pid 0 means the calling thread: each Python thread can pin itself.
    os.sched_setaffinity(0, {cpu})


# --------------------------------------------------------------------------------------------------------------
# gil-cpu


def share_of(total, k, i):
    """Worker i's part of `total` split over k workers, as the emulation splits its ticks."""
    return total // k + (1 if i < total % k else 0)


def cpu_threads(total, k, cpu_list):
    def work(i, share):
        pin(cpu_list[i % len(cpu_list)])
        countdown(share)

    c0 = time.process_time_ns()
    t0 = time.perf_counter_ns()
    ts = [threading.Thread(target=work, args=(i, share_of(total, k, i))) for i in range(k)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter_ns() - t0, time.process_time_ns() - c0


def cpu_processes(total, k, cpu_list):
    t0 = time.perf_counter_ns()
    pids = []
    for i in range(k):
        pid = os.fork()
        if pid == 0:
            try:
                pin(cpu_list[i % len(cpu_list)])
                countdown(share_of(total, k, i))
            finally:
                os._exit(0)
        pids.append(pid)
    cpu = 0
    for pid in pids:
        _, status, ru = os.wait4(pid, 0)
        if status != 0:
            raise RuntimeError(f"worker process {pid} failed: status {status}")
        cpu += int((ru.ru_utime + ru.ru_stime) * 1e9)
    return time.perf_counter_ns() - t0, cpu


# --------------------------------------------------------------------------------------------------------------
# gil-convoy


def echo_peer(sock, cpu):
    pin(cpu)
    try:
        # As the emulation's echo peer: answer at once, even on a core a CPU-bound thread is using.
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (OSError, AttributeError):
        pass
    while True:
        data = b""
        while len(data) < MSG:
            chunk = sock.recv(MSG - len(data))
            if not chunk:
                return
            data += chunk
        sock.sendall(data)


def convoy(switch_s, with_cpu_thread, duration_s, cpu_list, echo_cpu):
    sys.setswitchinterval(switch_s)
    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        a.close()
        try:
            echo_peer(b, echo_cpu)
        finally:
            os._exit(0)
    b.close()
    cpu_before = time.process_time_ns()  # every thread of this interpreter; the echo peer's below
    stop = False
    started = threading.Event()

    def spin():
        pin(cpu_list[1 % len(cpu_list)])
        started.set()
        n = 0
        while not stop:
            n += 1

    spinner = None
    if with_cpu_thread:
        spinner = threading.Thread(target=spin)
        spinner.start()
        started.wait()
    samples = []

    def io():
        pin(cpu_list[0])
        msg = bytes(MSG)
        end = time.perf_counter_ns() + int(duration_s * 1e9)
        seq = 0
        while True:
            t0 = time.perf_counter_ns()
            a.sendall(msg)
            got = b""
            while len(got) < MSG:
                got += a.recv(MSG - len(got))
            t1 = time.perf_counter_ns()
            seq += 1
            if seq > 3:  # the emulation skips its first three round trips too
                samples.append(t1 - t0)
            if t1 >= end:
                break

    io_thread = threading.Thread(target=io)
    io_thread.start()
    io_thread.join()
    stop = True
    if spinner:
        spinner.join()
    a.close()
    own_cpu = time.process_time_ns() - cpu_before
    os.waitpid(pid, 0)
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    raw = list(samples)
    samples.sort()
    span_ns = sum(samples)  # back-to-back round trips: their sum is the time they took
    return {
        "samples_ns": raw,
        "cpu_ns": own_cpu + int((child.ru_utime + child.ru_stime) * 1e9),
        # None when the I/O thread starved (no round trip completed beside the CPU-bound thread): a result.
        "p50": samples[int(0.50 * (len(samples) - 1))] if samples else None,
        "p99": samples[int(0.99 * (len(samples) - 1))] if samples else None,
        "round_trips_per_s": len(samples) * 1e9 / span_ns if span_ns else 0,
        "n": len(samples),
    }


# --------------------------------------------------------------------------------------------------------------
# The emulation's figures from a results.json (median aggregate rows).


def emulation_medians(path):
    with open(path) as f:
        doc = json.load(f)
    med = {}
    for r in doc["benchmarks"]:
        if r.get("run_type") == "aggregate" and r.get("aggregate_name") == "median":
            med[r["run_name"]] = r
    return doc["context"], med


def find(med, **want):
    for r in med.values():
        if all(r.get(k) == v for k, v in want.items()):
            return r
    return None


def fmt_ns(ns):
    if ns is None:
        return "-"
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} us"
    return f"{ns:.0f} ns"


def convoy_worker(argv):
    """bench run contention's worker: one convoy, its raw round trips as one JSON line on stdout. bench computes
    every statistic from them, as it does for its own emulation."""
    ap = argparse.ArgumentParser(prog="cpython_compare.py --convoy-worker")
    ap.add_argument("--switch-us", type=float, required=True)
    ap.add_argument("--cpu-threads", type=int, choices=(0, 1), required=True)
    ap.add_argument("--duration-ms", type=float, required=True)
    args = ap.parse_args(argv)
    cpu_list = cpus()
    r = convoy(args.switch_us / 1e6, args.cpu_threads == 1, args.duration_ms / 1e3, cpu_list,
               cpu_list[1 % len(cpu_list)])
    print(json.dumps({"python": sys.version.split()[0], "implementation": sys.implementation.name,
                      "samples_ns": r["samples_ns"], "cpu_ns": r["cpu_ns"]}))
    return 0


def cpu_list_arg(text):
    try:
        return [int(c) for c in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of CPU numbers: {text!r}") from None


def cpu_worker(argv):
    """bench run contention's gil-cpu worker: one job, `--iterations` countdown steps in all split over the
    workers, as one JSON line {"wall_ns", "cpu_ns"} on stdout. With --calibrate-ms, the countdown's cost per step
    instead: one thread, grown until it takes that much CPU time, the cheapest of three (noise only adds time).
    CPU time, not wall: the emulation's work is CPU time too, and a busy machine stretches the wall alone."""
    ap = argparse.ArgumentParser(prog="cpython_compare.py --cpu-worker")
    ap.add_argument("--kind", choices=("threads", "processes"), default="threads")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=0, help="countdown steps in all")
    ap.add_argument("--switch-us", type=float, default=5000)
    ap.add_argument("--cpus", type=cpu_list_arg, default=None, help="CPUs to pin worker i to (i mod their number)")
    ap.add_argument("--calibrate-ms", type=float, default=0)
    args = ap.parse_args(argv)
    if args.workers < 1 or args.iterations < 0 or args.switch_us <= 0:
        ap.error("--workers must be at least 1, --iterations not negative, --switch-us positive")
    sys.setswitchinterval(args.switch_us / 1e6)
    cpu_list = args.cpus or cpus()
    warm_countdown()
    if args.calibrate_ms > 0:
        n = 100_000
        while True:
            wall, cpu = cpu_threads(n, 1, cpu_list)
            if cpu >= args.calibrate_ms * 1e6 or n >= 1 << 40:
                break
            n = max(n * 2, int(n * args.calibrate_ms * 1e6 / max(cpu, 1) * 1.1))
        wall, cpu = min([(wall, cpu)] + [cpu_threads(n, 1, cpu_list) for _ in range(2)], key=lambda r: r[1])
        print(json.dumps({"iterations": n, "wall_ns": wall, "cpu_ns": cpu, "ns_per_iteration": cpu / n}))
        return 0
    fn = cpu_threads if args.kind == "threads" else cpu_processes
    wall, cpu = fn(args.iterations, args.workers, cpu_list)
    print(json.dumps({"wall_ns": wall, "cpu_ns": cpu}))
    return 0


def main():
    if sys.argv[1:2] == ["--convoy-worker"]:
        return convoy_worker(sys.argv[2:])
    if sys.argv[1:2] == ["--cpu-worker"]:
        return cpu_worker(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, shorter runs")
    ap.add_argument("--reps", type=int, default=0, help="repetitions (default 5, quick 3)")
    ap.add_argument("--results", help="a contention results.json to print the emulation's figures beside")
    ap.add_argument("--json", help="also write CPython's figures to this file")
    ap.add_argument("--echo", choices=("cross", "same"), default="cross",
                    help="echo peer on the other CPU (default, as gil-convoy) or on the I/O thread's")
    args = ap.parse_args()
    reps = args.reps or (3 if args.quick else 5)
    cpu_list = cpus()
    emu_ctx, emu = emulation_medians(args.results) if args.results else ({}, {})
    out = {"python": sys.version.split()[0], "cpus": cpu_list, "gil_cpu": {}, "convoy": {}}

    # Countdown iterations: 28 ns each on the class machine, so 8 M is about 0.22 s of work for one thread,
    # the same order as the suite's default 200 ms (quick: 40 ms, about 1.5 M).
    total = 1_500_000 if args.quick else 8_000_000
    print(f"CPython {out['python']} on CPUs {cpu_list}; {reps} repetitions, medians; load average "
          f"{os.getloadavg()[0]:.1f}\n")
    print(f"gil-cpu: countdown of {total:,} iterations in total")
    print(f"  {'':14} {'CPython wall':>11} {'(min..max)':>21} {'cpu':>10} {'speed-up':>9}   {'emulated new':>13} "
          f"{'old':>10} {'none':>10}")
    configs = (("1 thread", cpu_threads, 1), ("2 threads", cpu_threads, 2), ("2 processes", cpu_processes, 2))
    measured = {label: ([], []) for label, _, _ in configs}
    for _ in range(reps):
        # Round robin over the configurations, as the suite interleaves its cases: a slow minute of a shared
        # machine then hits all of them, not one.
        for label, fn, k in configs:
            w, c = fn(total, k, cpu_list)
            measured[label][0].append(w)
            measured[label][1].append(c)
    base = None
    for label, fn, k in configs:
        walls, cpus_used = measured[label]
        w = statistics.median(walls)
        base = base or w
        out["gil_cpu"][label] = {"wall_ns": w, "cpu_ns": statistics.median(cpus_used), "walls": walls,
                                 "cpus": cpus_used}
        model = "process" if "process" in label else "thread"
        emu_cells = []
        for pol in ("new", "old", "none"):
            r = find(emu, experiment="gil-cpu", policy=pol, model=model, threads=k) if emu else None
            emu_cells.append(fmt_ns(r["wall_ns"]) if r else "-")
        spread = f"{fmt_ns(min(walls))}..{fmt_ns(max(walls))}"
        print(f"  {label:14} {fmt_ns(w):>11} {spread:>21} {fmt_ns(statistics.median(cpus_used)):>10} "
              f"{base / w:>8.2f}x   {emu_cells[0]:>13} {emu_cells[1]:>10} {emu_cells[2]:>10}")

    print("\ngil-convoy: echo round trip of an I/O thread, alone or beside one CPU-bound thread")
    print(f"  {'':22} {'CPython p50':>12} {'p99':>10} {'rt/s':>8}   {'emulated p50':>12} {'p99':>10} {'rt/s':>8}")
    cases = [("alone", 0.005, False)] + [(f"1 cpu thread, {s * 1e3:g} ms", s, True) for s in (0.0001, 0.001, 0.005, 0.02)]
    for label, si, with_cpu in cases:
        dur = max(0.03 if args.quick else 0.2, (15 if args.quick else 40) * si) if with_cpu else (0.03 if args.quick else 0.2)
        echo_cpu = cpu_list[0] if args.echo == "same" else cpu_list[1 % len(cpu_list)]
        runs = [convoy(si, with_cpu, dur, cpu_list, echo_cpu) for _ in range(reps)]
        p50 = statistics.median(r["p50"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        p50s = [r["p50"] for r in runs]
        rts = statistics.median(r["round_trips_per_s"] for r in runs)
        out["convoy"][label] = {"switch_s": si, "p50_ns": p50, "p99_ns": p99, "round_trips_per_s": rts,
                                "samples": [r["n"] for r in runs], "p50s": p50s, "p99s": [r["p99"] for r in runs]}
        e = None
        if emu:
            if with_cpu:
                e = find(emu, experiment="gil-convoy", policy="new", cpu_threads=1, switch_interval_us=round(si * 1e6, 3))
            else:
                e = find(emu, experiment="gil-convoy", policy="new", cpu_threads=0)
        print(f"  {label:22} {fmt_ns(p50):>12} {fmt_ns(p99):>10} {rts:>8.0f}   "
              f"{fmt_ns(e and e.get('rtt_p50_ns')):>12} {fmt_ns(e and e.get('rtt_p99_ns')):>10} "
              f"{(e.get('round_trips_per_s') or 0) if e else 0:>8.0f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
