#!/usr/bin/python3
"""Tests of the serialize charts (plots/bench_plots/serialize.py), run through plots/plot.py as a subprocess on
synthetic results files written here (deterministic; rows shaped as bench/serialize/serialize_suite.cpp writes
them: iteration rows, then median/mean/... aggregates, ratio_to_raw on the medians).

    /usr/bin/python3 tests/plots/test_serialize_plots.py

Needs an interpreter that can import matplotlib (Debian: /usr/bin/python3).
"""
import json
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLOT = ROOT / "plots" / "plot.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SERIALIZERS = ("raw", "protobuf", "capnp", "flatbuffers", "msgpack", "json", "json-fast")
NO_BUILD = ("msgpack", "json-fast")
PHASES = ("build", "encode", "decode", "traverse", "roundtrip")
WIRE = {"raw": 48, "protobuf": 37, "capnp": 64, "flatbuffers": 80, "msgpack": 35, "json": 118, "json-fast": 118}
SCALE = {"small": 1.0, "medium": 30.0, "large": 600.0}


def context(serializers, reps, headline="cpu_time"):
    return {
        "date": "2026-11-25T18:00:00+00:00", "host_name": "lecture-vm", "executable": "bench", "num_cpus": 2,
        "cpu_model": "Intel(R) Xeon(R) Processor", "kernel": "Linux 6.1.0 x86_64", "build_type": "Release",
        "git_revision": "abc123def456", "command_line": "bench run serialize --quick", "suite": "serialize",
        "cores_requested": 1, "cores_available": 2, "oversubscribed": False, "cpus_used": [0],
        "serialize": {"pinned_cpu": 0, "repetitions": reps, "min_time_s": 0.01, "headline_time": headline,
                      "serializers": {s: {"library": "x", "description": "y"} for s in serializers}},
    }


def time_of(serializer, shape, phase):
    base = {"raw": 2.0, "protobuf": 40.0, "capnp": 30.0, "flatbuffers": 10.0, "msgpack": 25.0, "json": 800.0,
            "json-fast": 90.0}[serializer]
    factor = {"build": 1.5, "encode": 1.0, "decode": 1.7, "traverse": 0.4, "roundtrip": 4.6}[phase]
    if serializer == "flatbuffers" and phase == "encode":
        factor = 0.04  # a pointer: below 1 ns
    return base * factor * SCALE[shape]


def document(serializers=SERIALIZERS, shapes=("small", "medium", "large"), reps=3, failed=(), one_failed=(),
             unstable=(), headline="cpu_time"):
    rows, aggregates = [], []
    for shape in shapes:
        for ser in serializers:
            for phase in PHASES:
                if phase == "build" and ser in NO_BUILD:
                    continue
                name = f"serialize/serializer:{ser}/shape:{shape}/phase:{phase}"
                ident = {"suite": "serialize", "serializer": ser, "shape": shape, "phase": phase,
                         "wire_bytes": WIRE[ser] * SCALE[shape]}
                t = time_of(ser, shape, phase)
                ok = []
                for rep in range(reps):
                    bad = (ser, shape, phase) in failed or ((ser, shape, phase) in one_failed and rep == 0)
                    value = 0.0 if bad else t * (1 + 0.01 * rep)
                    rows.append({"name": name, "run_name": name, "run_type": "iteration", "repetitions": reps,
                                 "repetition_index": rep, "real_time": value * 1.3, "cpu_time": value,
                                 "time_unit": "ns",
                                 **ident, "error_occurred": bad,
                                 "error_message": "decode failed before traverse" if bad else ""})
                    if not bad:
                        ok.append(value)
                if not ok:
                    continue
                median = sorted(ok)[len(ok) // 2]
                raw = time_of("raw", shape, phase) if "raw" in serializers else None
                for stat in ("median", "mean", "stddev", "cv", "min", "max"):
                    agg = {"name": f"{name}_{stat}", "run_name": name, "run_type": "aggregate",
                           "aggregate_name": stat, "repetitions": reps, "real_time": median * 1.3,
                           "cpu_time": median, "time_unit": "ns", **ident}
                    if stat == "median":
                        agg["unstable"] = (ser, shape, phase) in unstable
                        agg["cpu_unstable"] = (ser, shape, phase) in unstable
                        agg["failed_repetitions"] = reps - len(ok)
                        if raw:
                            agg["ratio_to_raw"] = median / raw
                    aggregates.append(agg)
    return {"context": context(serializers, reps, headline), "benchmarks": rows + aggregates}


class SerializePlotTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-serialize-plots-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def plot(self, doc, name, *args):
        run = self.tmp / name
        run.mkdir()
        (run / "results.json").write_text(json.dumps(doc))
        proc = subprocess.run([sys.executable, str(PLOT), str(run), *args], capture_output=True, text=True,
                              timeout=300)
        return run, proc

    def assert_charts(self, run, proc, names, formats=("png", "svg")):
        self.assertEqual(proc.returncode, 0, proc.stderr)
        expected = sorted(str(run / f"{n}.{f}") for n in names for f in formats)
        self.assertEqual(sorted(proc.stdout.split()), expected)
        for path in map(Path, expected):
            data = path.read_bytes()
            self.assertGreater(len(data), 10_000, path)
            if path.suffix == ".png":
                self.assertEqual(data[:8], PNG_SIGNATURE, path)

    def test_a_full_run_gives_one_chart_per_shape_and_the_round_trip_summary(self):
        run, proc = self.plot(document(), "full")
        self.assert_charts(run, proc, ["serialize_small", "serialize_medium", "serialize_large",
                                       "serialize_roundtrip"])

    def test_only_the_shapes_that_ran_are_drawn(self):
        run, proc = self.plot(document(shapes=("large",)), "large-only", "--formats", "png")
        self.assert_charts(run, proc, ["serialize_large", "serialize_roundtrip"], formats=("png",))

    def test_failures_unstable_cases_and_a_missing_floor_still_draw(self):
        doc = document(serializers=("protobuf", "capnp", "json"), shapes=("small", "medium"),
                       failed={("capnp", "small", "traverse"), ("json", "medium", "roundtrip")},
                       one_failed={("protobuf", "small", "decode")}, unstable={("json", "small", "encode")})
        run, proc = self.plot(doc, "faults", "--formats", "png")
        self.assert_charts(run, proc, ["serialize_small", "serialize_medium", "serialize_roundtrip"],
                           formats=("png",))

    def test_files_without_a_headline_time_are_drawn_from_real_time(self):
        doc = document(shapes=("medium",))
        del doc["context"]["serialize"]["headline_time"]
        run, proc = self.plot(doc, "real-time", "--formats", "png")
        self.assert_charts(run, proc, ["serialize_medium", "serialize_roundtrip"], formats=("png",))

    def test_every_repetition_failed_everywhere_draws_nothing_and_succeeds(self):
        failed = {(s, "small", p) for s in ("raw", "json") for p in PHASES}
        run, proc = self.plot(document(serializers=("raw", "json"), shapes=("small",), failed=failed), "all-failed")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.split(), [])

    def test_the_same_results_give_byte_identical_charts(self):
        doc = document(shapes=("small",))
        a, pa = self.plot(doc, "a", "--formats", "png")
        b, pb = self.plot(doc, "b", "--formats", "png")
        self.assertEqual(pa.returncode, 0, pa.stderr)
        self.assertEqual((a / "serialize_small.png").read_bytes(), (b / "serialize_small.png").read_bytes())


class SerializeDescribeTest(unittest.TestCase):
    """The sentences report.py prints under each chart, computed from the rows."""

    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, str(ROOT / "plots"))
        from bench_plots import serialize
        cls.describe = staticmethod(serialize.describe)

    def test_every_chart_gets_sentences_that_name_the_extremes(self):
        doc = document()
        large = self.describe("serialize_large", doc)
        self.assertTrue(large)
        self.assertIn("json", large[0])                       # the slowest round trip in the fixture
        self.assertIn("raw", large[0])                        # the fastest
        self.assertTrue(any("118" not in s and "KiB" in s for s in large), large)
        self.assertEqual(len(self.describe("serialize_roundtrip", doc)), 3)

    def test_failed_cases_and_unknown_charts_give_no_false_sentences(self):
        failed = {(s, "small", "roundtrip") for s in SERIALIZERS}
        doc = document(shapes=("small",), failed=failed)
        self.assertFalse(any("round trip" in s for s in self.describe("serialize_small", doc)))
        self.assertEqual(self.describe("serialize_huge", doc), [])
        self.assertEqual(self.describe("serialize_roundtrip", doc), [])


if __name__ == "__main__":
    unittest.main()
