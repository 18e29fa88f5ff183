#!/usr/bin/python3
"""Synthetic results for the lecture deck's tests (deterministic: the same files every run), written into a
folder the tests choose:

lecture-ipc:        a 4-CPU run with what lessons 1-5 select: 64 B round trips of six families and through a
                    broker (amqp beside zmq-tcp), throughput at five sizes, three waits with CPU per round trip, a
                    1..64 pairs sweep of thread, process, async and async-uring over unix. io_uring's repetitions overlap epoll's at 64 pairs (within noise).
lecture-contention: gil-convoy rows (no GIL, new GIL and I/O priority at 5 ms, beside one CPU-bound thread or
                    alone) and locks rows (tas, ticket, mutex, 1..16 threads on 4 CPUs).
lecture-one-cpu:    make_fixture's --work/--lock sweep on 2 CPUs, placement cross: every server on CPU 1, so the
                    locks-and-GIL lesson cannot be shown.
lecture-cores:      bench run cores on 8 cores x 2 threads in two L3 domains (lesson 0, where your threads run).
ipc-lock, ipc-serialize: make_fixture's (lessons 7 and 6).

The figures are shaped like a 4-CPU machine's, rounded; they test the drawing and the sentences, not a machine.
"""
import statistics
from pathlib import Path

import make_fixture

REPS = 3
SPREAD = (0.98, 1.0, 1.02)   # the repetitions of a steady case: +-2%
NOISY = (0.7, 1.0, 1.35)     # of a noisy one


def _aggregate(rows):
    """The median row of each run_name, over its successful repetitions (as harness/results.cpp writes it)."""
    by_name = {}
    for r in rows:
        by_name.setdefault(r["run_name"], []).append(r)
    out = []
    for name, reps in by_name.items():
        ok = [r for r in reps if not r["error_occurred"]]
        if not ok:
            continue
        med = {k: v for k, v in ok[0].items() if not isinstance(v, (int, float)) or isinstance(v, bool)
               or k in IDENTITY_NUMBERS}
        for k, v in ok[0].items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in IDENTITY_NUMBERS:
                med[k] = statistics.median(r[k] for r in ok)
        rt = [r["real_time"] for r in ok]
        spread = (max(rt) - min(rt)) / statistics.median(rt) * 100
        med.update(name=f"{name}_median", run_type="aggregate", aggregate_name="median", spread_pct=spread,
                   unstable=spread > 20.0, failed_repetitions=len(reps) - len(ok))
        for k in ("repetition_index", "round"):
            med.pop(k, None)
        out.append(med)
    return out


IDENTITY_NUMBERS = ("msg_bytes", "workers", "pairs", "rate", "work_ns", "threads", "cpu_threads", "switch_interval_us",
                    "repetitions", "family_index", "cs_ns", "cpu_a", "cpu_b")


def _rows(name, ident, metrics, spread=SPREAD, oversubscribed=False, time_field=None):
    """The repetitions of one case: `metrics` scaled by each repetition's factor (time-like fields up, rates down
    alike, so a case's figures stay consistent)."""
    rows = []
    for rep, f in enumerate(spread):
        row = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": REPS, "repetition_index": rep,
               "round": rep + 1, "time_unit": "ns", "error_occurred": False, "error_message": "",
               "oversubscribed": oversubscribed, "disturbed": False, "excluded": False, "steal_pct": 0.0}
        row.update(ident)
        for k, v in metrics.items():
            row[k] = v / f if k in ("msgs_per_s", "bytes_per_s", "ops_per_s") else v * f
        row["real_time"] = row[time_field] if time_field else 1e9 / row.get("msgs_per_s", row.get("ops_per_s", 1e9))
        rows.append(row)
    return rows


def _ipc(transport, model, workload, size, pairs, wait="block"):
    name = (f"ipc/transport:{transport}/model:{model}/serializer:none/workload:{workload}/wait:{wait}/"
            f"placement:cross/size:{size}/pairs:{pairs}")
    return name, {"suite": "ipc", "transport": transport, "model": model, "serializer": "none",
                  "workload": workload, "wait": wait, "placement": "cross", "msg_bytes": size, "pairs": pairs,
                  "rate": 0.0, "work_ns": 0, "client_cpus": "0", "server_cpus": "1"}


def _latency(rtt, cpu):
    return {"rtt_p50_ns": rtt, "rtt_p90_ns": rtt * 1.2, "rtt_p99_ns": rtt * 2, "rtt_max_ns": rtt * 9,
            "rtt_mean_ns": rtt * 1.05, "cpu_ns_per_msg": cpu}


# transport -> (wait, 64 B round trip ns, CPU per round trip ns)
LADDER = {"shm-spin": ("spin", 420.0, 840.0), "shm-eventfd": ("block", 9800.0, 14000.0),
          "pipe": ("block", 14500.0, 21000.0), "unix": ("block", 16800.0, 24000.0),
          "tcp": ("block", 24500.0, 33000.0), "zmq-ipc": ("block", 61000.0, 80000.0)}
# transport -> (ns per message, bytes per ns once copying)
SIZE = {"shm": (180.0, 9.0), "pipe": (2600.0, 2.5), "tcp": (4800.0, 1.5)}
# model -> messages/s of one pair, and how far more pairs add (the event loops: one thread for all)
PAIRS = {"thread": (200e3, 4), "process": (190e3, 4), "async": (260e3, 1), "async-uring": (270e3, 1)}


def ipc_document():
    ctx = make_fixture.context(cores_requested=8, cores_available=4, c2c=60.0, xcore=12.0)
    ctx["command_line"] = "bench run ipc --cores 8"
    rows = []
    for t, (wait, rtt, cpu) in LADDER.items():
        rows += _rows(*_ipc(t, "process", "latency", 64, 1, wait), _latency(rtt, cpu), time_field="rtt_p50_ns")
    rows += _rows(*_ipc("shm", "process", "latency", 64, 1, "adaptive"), _latency(560.0, 1200.0),
                  time_field="rtt_p50_ns")
    # Through a broker (the lesson's own rows beside the ladder's unix, tcp and zmq-ipc).
    for t, rtt in (("zmq-tcp", 70000.0), ("amqp", 230000.0), ("amqp-durable", 240000.0),
                   ("amqp-confirmed", 900000.0)):
        rows += _rows(*_ipc(t, "process", "latency", 64, 1), _latency(rtt, 2 * rtt), time_field="rtt_p50_ns")
    ctx["amqp_broker"] = {"kind": "private", "url": "amqp://127.0.0.1:40000", "node": "bench-0@localhost",
                          "start_s": 3.1}
    # Eight waits in all, more than a slide shows: the lesson keeps six.
    for t, wait, rtt in (("pipe", "spin", 2300.0), ("unix", "spin", 2900.0), ("mmap", "adaptive", 640.0)):
        rows += _rows(*_ipc(t, "process", "latency", 64, 1, wait), _latency(rtt, 2 * rtt), time_field="rtt_p50_ns")
    for t, (per_msg, bw) in SIZE.items():
        for size in (64, 1024, 4096, 65536, 1048576):
            msgs = 1e9 / (per_msg + size / bw)
            rows += _rows(*_ipc(t, "process", "throughput", size, 1), {"msgs_per_s": msgs, "bytes_per_s": msgs * size,
                                                                        "cpu_ns_per_msg": 1e9 / msgs})
    for model, (one, grows) in PAIRS.items():
        for pairs in (1, 2, 4, 8, 16, 32, 64):
            rate = one * min(pairs, grows) * (0.8 if 2 * pairs > 4 and grows > 1 else 1.0)
            noisy = NOISY if model.startswith("async") and pairs == 64 else SPREAD
            over = 2 * pairs > 4
            rows += _rows(*_ipc("unix", model, "throughput", 64, pairs), {"msgs_per_s": rate, "bytes_per_s": rate * 64},
                          noisy, over)
            if (model, pairs) != ("process", 1):  # the ladder's unix round trip is that case
                rows += _rows(*_ipc("unix", model, "latency", 64, pairs),
                              _latency(30000.0 * max(1.0, pairs / min(pairs, grows)), 30000.0), noisy, over,
                              time_field="rtt_p50_ns")
    return {"context": ctx, "benchmarks": rows + _aggregate(rows)}


def contention_document():
    ctx = make_fixture.context(cores_requested=4, cores_available=4, c2c=60.0, xcore=12.0)
    ctx.update(suite="contention", command_line="bench run contention --cores 16", default_switch_interval_us=5000.0)
    rows = []
    for policy, k, p50 in (("none", 1, 31000.0), ("new", 1, 2.6e6), ("priority", 1, 90000.0), ("new", 0, 30000.0)):
        interval = None if policy == "none" else 5000.0
        name = f"contention/experiment:gil-convoy/policy:{policy}/cpu_threads:{k}" + (
            "/switch:5ms" if interval else "")
        ident = {"suite": "contention", "experiment": "gil-convoy", "policy": policy, "model": "thread",
                 "cpu_threads": k, "switch_interval_us": interval}
        rows += _rows(name, ident, {"rtt_p50_ns": p50, "rtt_p90_ns": p50 * 1.6, "rtt_p99_ns": max(p50 * 2, 5.1e6 if k
                                    and policy == "new" else p50 * 2), "rtt_max_ns": p50 * 4},
                      time_field="rtt_p50_ns")
    for lock, one, collapse in (("tas", 20e6, 40.0), ("ticket", 18e6, 300.0), ("mutex", 15e6, 1.5)):
        for threads in (1, 2, 4, 8, 16):
            ops = one / (1 + 0.3 * (min(threads, 4) - 1)) / (collapse if threads > 4 else 1.0)
            ident = {"suite": "contention", "experiment": "locks", "lock": lock, "threads": threads, "model": "thread"}
            rows += _rows(f"contention/experiment:locks/lock:{lock}/threads:{threads}/cs:50ns", ident,
                          {"ops_per_s": ops}, oversubscribed=threads > 4)
    return {"context": ctx, "benchmarks": rows + _aggregate(rows)}


def cores_document():
    """bench run cores on a 16-thread machine: 8 cores of 2 threads (siblings numbered side by side), two L3 domains
    of 4 cores; a round trip of 25 ns between siblings, 60 ns within an L3 and 180 ns across."""
    ctx = make_fixture.context(cores_requested=16, cores_available=16, c2c=60.0, xcore=12.0)
    ctx.update(suite="cores", command_line="bench run cores --quick",
               topology={"source": "this machine", "describe": "8 cores / 16 threads, 2 L3 domains, 1 NUMA node",
                         "cores": 8, "pus": 16, "l3_domains": 2, "numa_nodes": 1, "packages": 1, "smt": True,
                         "virtual": False})
    rows = []
    for a in range(16):
        for b in range(a + 1, 16):
            if a // 2 == b // 2:
                relation, rtt = "smt siblings", 25.0
            elif a // 8 == b // 8:
                relation, rtt = "same L3", 60.0 + (a + b) % 3
            else:
                relation, rtt = "other L3", 180.0 + (a + b) % 5
            ident = {"suite": "cores", "cpu_a": a, "cpu_b": b, "relation": relation}
            rows += _rows(f"cores/cpu_a:{a}/cpu_b:{b}", ident, {"rtt_p50_ns": rtt, "rtt_p10_ns": rtt * 0.9,
                                                                 "rtt_p90_ns": rtt * 1.2}, time_field="rtt_p50_ns")
    return {"context": ctx, "benchmarks": rows + _aggregate(rows)}


def python_document():
    """bench run python: the Python tax's four round trips (C++ pipe, os.pipe, multiprocessing.Pipe and .Queue to
    a server process, 64 B) and the CPU-bound countdown in 1 thread, 4 threads and 4 processes."""
    ctx = make_fixture.context(cores_requested=4, cores_available=4, c2c=60.0, xcore=12.0)
    ctx.update(suite="python", command_line="bench run python --cores 4",
               python={"interpreter": "/usr/bin/python3", "runtime": "cpython-3.11", "failure": ""},
               schema={"version": 2, "identity": ["suite", "experiment", "transport", "model", "serializer",
                                                  "msg_bytes", "kind", "workers", "runtime"], "metrics": {}})
    rows = []
    for transport, runtime, rtt in (("pipe", "cpp", 14500.0), ("py-pipe", "cpython-3.11", 18000.0),
                                    ("py-mp-pipe", "cpython-3.11", 31000.0), ("py-mp-queue", "cpython-3.11", 68000.0)):
        name = ("python/experiment:pingpong/transport:" + transport +
                f"/model:process/serializer:none/size:64/runtime:{runtime}")
        ident = {"suite": "python", "experiment": "pingpong", "transport": transport, "model": "process",
                 "serializer": "none", "msg_bytes": 64, "runtime": runtime}
        rows += _rows(name, ident, _latency(rtt, rtt * 1.5), time_field="rtt_p50_ns")
    for kind, workers, wall in (("thread", 1, 1.0e9), ("thread", 4, 1.1e9), ("process", 4, 0.27e9)):
        name = f"python/experiment:cpu/kind:{kind}/workers:{workers}/runtime:cpython-3.11"
        ident = {"suite": "python", "experiment": "cpu", "kind": kind, "workers": workers, "runtime": "cpython-3.11"}
        rows += _rows(name, ident, {"wall_ns": wall, "cpu_ns": 1.0e9, "cpus_busy": 1.0e9 / wall}, time_field="wall_ns")
    return {"context": ctx, "benchmarks": rows + _aggregate(rows)}


def write_all(root):
    """Writes every fixture the deck's tests use under root; returns root."""
    root = Path(root)
    make_fixture.write("lecture-ipc", ipc_document(), root)
    make_fixture.write("lecture-contention", contention_document(), root)
    make_fixture.write("lecture-cores", cores_document(), root)
    make_fixture.write("lecture-python", python_document(), root)
    make_fixture.write("ipc-lock", make_fixture.lock_document(4, {}), root)
    make_fixture.write("ipc-serialize", make_fixture.serialized_document(), root)
    make_fixture.write("lecture-one-cpu", make_fixture.lock_document(2, {}), root)
    return root
