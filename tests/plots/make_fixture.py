#!/usr/bin/python3
"""Writes the synthetic ipc fixtures under tests/plots/fixtures/ (deterministic: same output every run).

    /usr/bin/python3 tests/plots/make_fixture.py

ipc-small:   4 transports x 2 models, latency and throughput at 6 sizes, a pairs sweep (1, 2, 4) at 64 B where
             4 pairs oversubscribe the 4 CPUs, one latency and one throughput case that failed every repetition,
             one unstable case and one case with a failed repetition.
ipc-nofloor: a 2-CPU machine asked for 8 cores (context.oversubscribed), null c2c and xcore floors, latency
             rows only (so the throughput charts are skipped).
ipc-lock:    `--work 10us --lock none,gil-new` on 4 CPUs: unix, thread/process/async, a pairs sweep (1, 2, 4, 8)
             at 64 B where the GIL'd threads and the one event loop stay flat while processes scale up to the
             CPUs; one gil-new case failed every repetition (the scaling chart draws it as x).
ipc-serialize: `--serializers raw,protobuf,capnp,json` over unix and shm (thread model), small and large
             messages: serialize_ns, transport_ns and deserialize_ns per round trip; json large over shm failed
             every repetition (a reply that did not decode).

The rows follow harness/results.cpp: iteration rows in round order, then the aggregate rows (median, mean,
stddev, cv, min, max) of every run_name with at least one successful repetition.
"""
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPS = 3
IDENTITY = ("suite", "transport", "model", "serializer", "workload", "wait", "placement", "msg_bytes", "pairs",
            "rate", "work_ns", "lock", "oversubscribed", "shape", "wire_bytes")
AGGREGATED = ("rtt_p50_ns", "rtt_p90_ns", "rtt_p99_ns", "rtt_p999_ns", "rtt_max_ns", "rtt_mean_ns", "msgs_per_s",
              "bytes_per_s", "cpu_ns_per_msg", "messages", "lost", "corrupt", "serialize_ns", "deserialize_ns",
              "transport_ns", "serialization_pct")

# transport -> (round-trip base ns, latency copy bandwidth bytes/ns, throughput per-message ns, bytes/ns)
TRANSPORTS = {
    "pipe": (30000.0, 2.2, 2600.0, 3.0),
    "fifo": (31000.0, 2.1, 2700.0, 2.9),
    "unix": (34000.0, 1.8, 3300.0, 2.5),
    "tcp": (40000.0, 1.2, 5200.0, 1.6),
}
MODEL_EXTRA_NS = {"thread": 0.0, "process": 3500.0}


def context(*, cores_requested, cores_available, c2c, xcore):
    cpus = list(range(cores_available))
    return {
        "schema_version": 2,
        "statistics": {"spread": "c_n x 1.4826 x MAD / |median| x 100 of the case's primary metric",
                       "unstable_above_pct": UNSTABLE_ABOVE_PCT},
        "date": "2026-11-25T18:00:00+00:00",
        "host_name": "lecture-vm",
        "executable": "bench",
        "num_cpus": cores_available,
        "mhz_per_cpu": 2000,
        "cpu_scaling_enabled": False,
        "caches": [
            {"type": "Data", "level": 1, "size": 49152, "num_sharing": 1},
            {"type": "Instruction", "level": 1, "size": 32768, "num_sharing": 1},
            {"type": "Unified", "level": 2, "size": 2097152, "num_sharing": 1},
            {"type": "Unified", "level": 3, "size": 110100480, "num_sharing": cores_available},
        ],
        "load_avg": [0.5, 0.4, 0.3],
        "library_build_type": "release",
        "command_line": f"bench run ipc --cores {cores_requested}",
        "suite": "ipc",
        "cores_requested": cores_requested,
        "cores_available": cores_available,
        "oversubscribed": cores_requested > cores_available,
        "cpus_used": [cpus[i % cores_available] for i in range(cores_requested)],
        "placement": "cross",
        "wait": "block",
        "kernel": "Linux 6.1.0-28-amd64 x86_64",
        "cpu_model": "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz",
        "compiler": "GNU 12.2.0",
        "build_type": "Release",
        "git_revision": "abc123def456",
        "libraries": {"benchmark": "1.7.1", "fmt": "9.1.0", "nlohmann_json": "3.11.2"},
        "idle_policy": "cpuidle governor menu",
        "floor": {
            "timer_overhead_ns": 25.1,
            "c2c_one_way_ns": c2c,
            "c2c_round_trip_ns": None if c2c is None else 2 * c2c,
            "memcpy_gbps": 45.0,
            "memcpy_mem_gbps": 9.5,
            "xcore_gbps": xcore,
        },
        "harness_overhead_ns": 40.0,
        "rounds": [{"round": r, "canary_ns": 60.0 + 3 * r, "load_avg": 0.6, "steal_pct": 0.0}
                   for r in range(1, REPS + 1)],
    }


def run_name(transport, model, workload, size, pairs):
    return (f"ipc/transport:{transport}/model:{model}/serializer:raw/workload:{workload}/wait:block/"
            f"placement:cross/size:{size}/pairs:{pairs}")


def iteration_row(case, rep, rng, cores, failures):
    transport, model, workload, size, pairs, family = case
    base, lat_bw, tp_ns, tp_bw = TRANSPORTS[transport]
    name = run_name(transport, model, workload, size, pairs)
    oversub = 2 * pairs > cores
    row = {
        "name": name, "family_index": family, "per_family_instance_index": 0, "run_name": name,
        "run_type": "iteration", "repetitions": REPS, "repetition_index": rep, "threads": 1,
        "iterations": 0, "real_time": 0.0, "cpu_time": 0.0, "time_unit": "ns",
        "suite": "ipc", "transport": transport, "model": model, "serializer": "raw", "workload": workload,
        "wait": "block", "placement": "cross", "msg_bytes": size, "pairs": pairs, "rate": 0,
    }
    error = failures.get((name, rep))
    if error:
        row.update({"messages": 0, "lost": 0, "duplicated": 0, "corrupt": 0, "error_occurred": True,
                    "error_message": error, "oversubscribed": oversub, "round": rep + 1, "disturbed": False,
                    "excluded": False, "client_cpus": "0", "server_cpus": "1", "load_avg": 0.6,
                    "steal_pct": 0.0})
        return row
    noise = rng.uniform(0.97, 1.05)
    if name.endswith("size:32768/pairs:1") and (transport, model, workload) == ("fifo", "thread", "latency"):
        noise *= (1.0, 1.45, 0.9)[rep]          # the unstable case
    # Oversubscribed pairs time-share CPUs: scheduler latency dominates.
    contention = 1.0 + 0.08 * (pairs - 1) + (1.8 if oversub else 0.0)
    if workload == "latency":
        p50 = (base + MODEL_EXTRA_NS[model] + 2 * size / lat_bw) * noise * contention
        messages = 5000 if size <= 65536 else 500
        tail = 2.5 if oversub else 0.0  # descheduled threads make the tail explode
        rtt = {"rtt_p50_ns": round(p50), "rtt_p90_ns": round(p50 * 1.12), "rtt_p99_ns": round(p50 * (1.6 + tail)),
               "rtt_p999_ns": round(p50 * (2.9 + 2.4 * tail)), "rtt_max_ns": round(p50 * 7.5),
               "rtt_mean_ns": round(p50 * 1.04, 1)}
        real = float(rtt["rtt_p50_ns"])
        row.update({"iterations": messages, "real_time": real, "cpu_time": round(real * 0.38, 1)})
        metrics = dict(rtt, cpu_ns_per_msg=round(real * 0.3, 1))
    else:
        per_msg = (tp_ns + MODEL_EXTRA_NS[model] * 0.2 + size / tp_bw) * noise
        msgs = 1e9 / per_msg
        scale = 1.0 if pairs == 1 else min(pairs, cores / 2) * 0.9 * (0.85 if oversub else 1.0)
        msgs *= scale
        messages = 200000 if size <= 4096 else 2000
        row.update({"iterations": messages, "real_time": round(1e9 / msgs, 2), "cpu_time": round(1e9 / msgs * 0.9, 2)})
        metrics = {"msgs_per_s": round(msgs, 1), "bytes_per_s": round(msgs * size, 1),
                   "cpu_ns_per_msg": round(per_msg * 0.9, 1)}
    row.update({"messages": messages, "lost": 0, "duplicated": 0, "corrupt": 0, "error_occurred": False,
                "error_message": "", "oversubscribed": oversub, "round": rep + 1, "disturbed": False,
                "excluded": False})
    row.update(metrics)
    row.update({"client_cpus": "0" if pairs == 1 else ",".join(str(2 * i % cores) for i in range(pairs)),
                "server_cpus": "1" if pairs == 1 else ",".join(str((2 * i + 1) % cores) for i in range(pairs)),
                "load_avg": 0.6, "steal_pct": 0.0})
    return row


# harness/stats.hpp: the MAD's small-sample factors and the unstable threshold.
SMALL_SAMPLE = {1: 1.0, 2: 1.196, 3: 1.495, 4: 1.363, 5: 1.206, 6: 1.200, 7: 1.140, 8: 1.129, 9: 1.107}
UNSTABLE_ABOVE_PCT = 10.0


def aggregates(rows):
    """Mirrors bench::add_aggregates()."""
    order, groups, failed = [], {}, {}
    for r in rows:
        rn = r["run_name"]
        if rn not in groups:
            order.append(rn)
            groups[rn] = []
        if r["error_occurred"]:
            failed[rn] = failed.get(rn, 0) + 1
        elif not r["excluded"]:
            groups[rn].append(r)
    out = []
    for rn in order:
        g = groups[rn]
        if not g:
            continue
        first = g[0]
        fields = [f for f in ("real_time", "cpu_time") + AGGREGATED if f in first]
        values = {f: [r[f] for r in g] for f in fields}
        for stat in ("median", "mean", "stddev", "cv", "min", "max"):
            a = {"name": f"{rn}_{stat}", "family_index": first["family_index"], "per_family_instance_index": 0,
                 "run_name": rn, "run_type": "aggregate", "repetitions": first["repetitions"], "threads": 1,
                 "aggregate_name": stat, "aggregate_unit": "percentage" if stat == "cv" else "time",
                 "iterations": first["iterations"], "repetitions_used": len(g)}
            a.update({f: first[f] for f in IDENTITY if f in first})
            for f, v in values.items():
                mean = statistics.fmean(v)
                sd = statistics.stdev(v) if len(v) > 1 else 0.0
                a[f] = {"median": statistics.median(v), "mean": mean, "stddev": sd,
                        "cv": sd / mean if mean else 0.0, "min": min(v), "max": max(v)}[stat]
            a["time_unit"] = "ns"
            if stat == "median":
                field, higher = {"latency": ("rtt_p50_ns", False),
                                 "throughput": ("msgs_per_s", True)}.get(first.get("workload"), ("real_time", False))
                v = values[field]
                med = statistics.median(v)
                mad = statistics.median(abs(x - med) for x in v)
                a.update(primary_metric=field, higher_is_better=higher, mad=mad,
                         spread_pct=SMALL_SAMPLE.get(len(v), len(v) / (len(v) - 0.8)) * 1.4826 * mad / med * 100)
                a["unstable"] = len(g) > 1 and a["spread_pct"] > UNSTABLE_ABOVE_PCT
                a["failed_repetitions"] = failed.get(rn, 0)
            out.append(a)
    return out


def document(ctx, cases, cores, failures):
    rng = random.Random(zlib.crc32(ctx["command_line"].encode()))
    rows = [iteration_row(case, rep, rng, cores, failures) for rep in range(REPS) for case in cases]
    return {"context": ctx, "benchmarks": rows + aggregates(rows)}


def with_round_floors(doc, c2c_round_trip_ns, xcore_gbps):
    """The floor measured before each round (context.rounds[i].floor), one figure per round."""
    for r, c2c, xcore in zip(doc["context"]["rounds"], c2c_round_trip_ns, xcore_gbps):
        r["floor"] = {"c2c_round_trip_ns": c2c, "c2c_two_line_round_trip_ns": None if c2c is None else 1.1 * c2c,
                      "xcore_gbps": xcore, "xcore_method": "16 x 64 KiB slots, shared mapping, read in place"}
        r["canary_ns"] = c2c
    return doc


def flag_below_floor(doc, run_name, rep=0):
    """Marks one repetition of a case, and its median row, as bench does for a figure beyond its round's floor."""
    for row in doc["benchmarks"]:
        if row.get("run_name") != run_name:
            continue
        if row.get("run_type") == "iteration" and row.get("repetition_index") == rep:
            row.update({"below_floor": True, "below_floor_reason": "rtt p50 10 ns is below this round's cache-line "
                                                                   "round trip 120 ns"})
        if row.get("aggregate_name") == "median":
            row.update({"below_floor": True, "below_floor_reason": f"1 of {REPS} repetition(s) below their round's floor"})
    return doc


def cases(transports, models, sizes, pairs_sweep, workloads):
    out = []
    for workload in workloads:
        for t in transports:
            for m in models:
                for s in sizes:
                    out.append((t, m, workload, s, 1))
                for p in pairs_sweep:
                    if p != 1:
                        out.append((t, m, workload, sizes[0], p))
    return [c + (i,) for i, c in enumerate(out)]


def write(name, doc, root=None):
    path = Path(root or (HERE / "fixtures")) / name / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    # One benchmark row per line: small, and still readable and diffable.
    rows = ",\n  ".join(json.dumps(r) for r in doc["benchmarks"])
    context = json.dumps(doc["context"], indent=1).replace("\n", "\n ")
    text = '{\n "context": ' + context + ',\n "benchmarks": [\n  ' + rows + "\n ]\n}\n"
    assert json.loads(text) == doc
    path.write_text(text)
    return path


# --serializers: (serializer, shape) -> (wire bytes, both encodes ns, both decodes ns); transport -> ns per round
# trip of a small message, ns per KiB more. Shaped like a run on the development VM, rounded.
SERIALIZED = {
    ("raw", "small"): (48, 70, 75), ("protobuf", "small"): (37, 120, 210), ("capnp", "small"): (64, 210, 200),
    ("json", "small"): (118, 3400, 3800), ("raw", "large"): (18408, 2500, 2000),
    ("protobuf", "large"): (16209, 15000, 21600), ("capnp", "large"): (18344, 3100, 3500),
    ("json", "large"): (19392, 163000, 377000),
}
SERIALIZED_TRANSPORTS = {"unix": (45000.0, 120.0), "shm": (760.0, 450.0)}
SERIALIZED_FAILURE = ("shm", "json", "large")


def serialized_document():
    ctx = context(cores_requested=2, cores_available=2, c2c=60.0, xcore=9.0)
    ctx["command_line"] = ("bench run ipc --serializers raw,protobuf,capnp,json --shapes small,large "
                           "--transports unix,shm --models thread")
    ctx["serializer_descriptions"] = {s: s for s in ("raw", "protobuf", "capnp", "json")}
    rng = random.Random(5)
    rows, family = [], 0
    for rep in range(REPS):
        family = 0
        for transport, (base, per_kib) in SERIALIZED_TRANSPORTS.items():
            for shape in ("small", "large"):
                for ser in ("raw", "protobuf", "capnp", "json"):
                    wire, enc, dec = SERIALIZED[(ser, shape)]
                    size = wire + 32
                    name = (f"ipc/transport:{transport}/model:thread/serializer:{ser}/shape:{shape}/workload:latency/"
                            f"wait:block/placement:cross/size:{size}/pairs:1")
                    row = {"name": name, "family_index": family, "per_family_instance_index": 0, "run_name": name,
                           "run_type": "iteration", "repetitions": REPS, "repetition_index": rep, "threads": 1,
                           "time_unit": "ns", "suite": "ipc", "transport": transport, "model": "thread",
                           "serializer": ser, "shape": shape, "wire_bytes": wire, "workload": "latency",
                           "wait": "block", "placement": "cross", "msg_bytes": size, "pairs": 1, "rate": 0,
                           "oversubscribed": False, "round": rep + 1, "disturbed": False, "excluded": False,
                           "lost": 0, "duplicated": 0, "client_cpus": "0", "server_cpus": "1", "load_avg": 0.6,
                           "steal_pct": 0.0}
                    family += 1
                    if (transport, ser, shape) == SERIALIZED_FAILURE:
                        row.update({"iterations": 0, "real_time": 0.0, "cpu_time": 0.0, "messages": 0, "corrupt": 3,
                                    "error_occurred": True, "error_message": "client: json could not read the "
                                    "server's reply: syntax error while parsing value"})
                        rows.append(row)
                        continue
                    noise = rng.uniform(0.97, 1.04)
                    ser_ns, deser_ns = round(enc * noise), round(dec * noise)
                    transport_ns = round((base + per_kib * size / 1024) * noise)
                    rtt = ser_ns + deser_ns + transport_ns + 40
                    row.update({"iterations": 4000, "real_time": float(rtt), "cpu_time": round(rtt * 0.4, 1),
                                "messages": 4000, "corrupt": 0, "error_occurred": False, "error_message": "",
                                "rtt_p50_ns": rtt, "rtt_p90_ns": round(rtt * 1.1), "rtt_p99_ns": round(rtt * 1.6),
                                "rtt_p999_ns": round(rtt * 2.5), "rtt_max_ns": round(rtt * 6), "rtt_mean_ns": rtt * 1.03,
                                "cpu_ns_per_msg": round(rtt * 0.3, 1), "serialize_ns": ser_ns,
                                "deserialize_ns": deser_ns, "transport_ns": transport_ns,
                                "serialization_pct": 100 * (ser_ns + deser_ns) / (ser_ns + deser_ns + transport_ns)})
                    rows.append(row)
    return {"context": ctx, "benchmarks": rows + aggregates(rows)}


def main(root=None):
    sizes = [64, 512, 4096, 32768, 262144, 1048576]
    def every_rep(name, msg):
        return {(name, r): msg for r in range(REPS)}

    failures = {}
    failures.update(every_rep(run_name("tcp", "process", "latency", 1048576, 1),
                              "recv: Connection reset by peer (ECONNRESET) after 212 of 500 messages"))
    failures.update(every_rep(run_name("unix", "process", "throughput", 1048576, 1),
                              "timeout: receiver got 0 of 2000 messages within 10 s (server process exited with "
                              "status 137, killed by SIGKILL)"))
    failures[(run_name("pipe", "process", "throughput", 262144, 1), 1)] = "write: Broken pipe (EPIPE)"
    small = document(context(cores_requested=4, cores_available=4, c2c=55.0, xcore=8.0),
                     cases(list(TRANSPORTS), ["thread", "process"], sizes, [1, 2, 4], ["latency", "throughput"]),
                     4, failures)
    write("ipc-small", small, root)

    nofloor = document(context(cores_requested=8, cores_available=2, c2c=None, xcore=None),
                       cases(["pipe", "unix"], ["thread"], [64, 4096, 262144], [1, 2], ["latency"]), 2, {})
    write("ipc-nofloor", nofloor, root)
    write("ipc-serialize", serialized_document(), root)

    failed = (f"{run_name('unix', 'async', 'throughput', 64, 8)}/work:10us/lock:gil-new"
              .replace("serializer:raw", "serializer:none"))
    write("ipc-lock", lock_document(4, {(failed, r): "timed out: no progress within 10 s (watchdog)"
                                         for r in range(REPS)}), root)


# --- ipc-lock: server work under a lock -------------------------------------------------------------------------

WORK_NS = 10000
LOCK_SERVER_NS = 3000.0   # a server's own cost per message besides the work (receive, verify)
LOCK_CLIENT_NS = 2000.0   # a streaming client's cost per message


def lock_msgs_per_s(model, lock, pairs, cores):
    """Messages/s of all pairs: each pair's server needs WORK + LOCK_SERVER_NS of CPU per message, its client
    LOCK_CLIENT_NS, all on `cores` CPUs; a lock shared by threads lets one server work at a time (plus a hand-off
    per message when contended), and the event loop is one thread for every pair."""
    per_server = WORK_NS + LOCK_SERVER_NS
    cpu_bound = cores * 1e9 / (per_server + LOCK_CLIENT_NS)
    if model == "async":
        return min(1e9 / (per_server * 1.05), cpu_bound)
    if model == "thread" and lock != "none":
        handoff = 0.0 if pairs == 1 else 4000.0  # waking the next waiter on another core
        return min(1e9 / (WORK_NS + handoff + LOCK_SERVER_NS * 0.3), pairs * 1e9 / per_server)
    return min(pairs * 1e9 / per_server, cpu_bound) * (0.95 if model == "process" else 1.0)


def lock_document(cores, failures):
    ctx = context(cores_requested=2 * cores, cores_available=cores, c2c=55.0, xcore=8.0)
    ctx.update(command_line=f"bench run ipc --transports unix --models thread,process,async --sizes 64 "
                            f"--work 10us --lock none,gil-new --cores {2 * cores}",
               work_ns=WORK_NS, locks=["none", "gil-new"])
    rng = random.Random(7)
    rows, family = [], 0
    for workload in ("latency", "throughput"):
        for model in ("thread", "process", "async"):
            for pairs in (1, 2, 4, 8):
                for lock in ("none", "gil-new"):
                    name = run_name("unix", model, workload, 64, pairs).replace("serializer:raw", "serializer:none")
                    name += "/work:10us" + ("" if lock == "none" else f"/lock:{lock}")
                    rate = lock_msgs_per_s(model, lock, pairs, cores)
                    for rep in range(REPS):
                        row = {"name": name, "family_index": family, "per_family_instance_index": 0,
                               "run_name": name, "run_type": "iteration", "repetitions": REPS,
                               "repetition_index": rep, "threads": pairs, "suite": "ipc", "transport": "unix",
                               "model": model, "serializer": "none", "workload": workload, "wait": "block",
                               "placement": "cross", "msg_bytes": 64, "pairs": pairs, "rate": 0.0,
                               "work_ns": WORK_NS, "lock": lock, "oversubscribed": 2 * pairs > cores,
                               "round": rep + 1, "disturbed": False, "excluded": False, "time_unit": "ns",
                               "client_cpus": ";".join(str(2 * i % cores) for i in range(pairs)),
                               "server_cpus": ";".join(str((2 * i + 1) % cores) for i in range(pairs)),
                               "load_avg": 0.6, "steal_pct": 0.0}
                        error = failures.get((name, rep))
                        noise = rng.uniform(0.96, 1.04)
                        if error:
                            row.update(messages=0, lost=0, duplicated=0, corrupt=0, error_occurred=True,
                                       error_message=error, iterations=0, real_time=0.0, cpu_time=0.0)
                        elif workload == "throughput":
                            msgs = rate * noise
                            row.update(msgs_per_s=round(msgs, 1), bytes_per_s=round(64 * msgs, 1),
                                       real_time=round(1e9 / msgs, 2), cpu_time=15000.0, cpu_ns_per_msg=15000.0)
                        else:
                            # A pair's round trip is 40 us + the work until the servers' capacity runs out.
                            base = 40000.0 + WORK_NS
                            rtt = base * noise * max(1.0, pairs * 1e9 / base / rate)
                            row.update(rtt_p50_ns=round(rtt), rtt_p90_ns=round(rtt * 1.2), rtt_p99_ns=round(rtt * 2),
                                       rtt_p999_ns=round(rtt * 3), rtt_max_ns=round(rtt * 5),
                                       rtt_mean_ns=round(rtt * 1.05, 1), real_time=float(round(rtt)),
                                       cpu_time=30000.0, cpu_ns_per_msg=30000.0)
                        if not error:
                            row.update(messages=5000, iterations=5000, lost=0, duplicated=0, corrupt=0,
                                       error_occurred=False, error_message="")
                        rows.append(row)
                    family += 1
    rows.sort(key=lambda r: (r["round"], r["family_index"]))
    return {"context": ctx, "benchmarks": rows + aggregates(rows)}


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def headless_chromium(url, workdir, *args, budget_ms=10000):
    """Runs Debian's chromium headless on url (a file:// page) with name resolution switched off, so that a page
    that tried to fetch anything would fail to; a fresh profile and HOME under workdir. Returns the process."""
    profile = tempfile.mkdtemp(dir=workdir, prefix="profile-")
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--hide-scrollbars", f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND",
                           f"--virtual-time-budget={budget_ms}", *args, url], capture_output=True, text=True,
                          timeout=180, cwd=workdir, env=dict(os.environ, HOME=str(workdir)))


def temporary_copy():
    """A temporary folder (removed at exit) with the synthetic fixtures and the kept ones (fixtures/ipc-real), for
    the tests."""
    import atexit
    root = Path(tempfile.mkdtemp(prefix="bench-plot-fixtures-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    main(root)
    shutil.copytree(HERE / "fixtures", root, dirs_exist_ok=True)
    return root


if __name__ == "__main__":
    import sys
    main(sys.argv[1] if len(sys.argv) > 1 else None)
