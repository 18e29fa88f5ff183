#!/usr/bin/python3
"""Tests of plots/compare.py (as a subprocess, on copies of the fixtures) and of its Mann-Whitney U test.

    /usr/bin/python3 tests/plots/test_compare.py
"""
import json
import random
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPARE = ROOT / "plots" / "compare.py"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "plots"))
import make_fixture  # noqa: E402
from bench_plots import utest  # noqa: E402
import compare as compare_module  # noqa: E402

FIXTURES = make_fixture.temporary_copy()
LATENCY_FIELDS = ("real_time", "rtt_p50_ns", "rtt_p90_ns", "rtt_p99_ns", "rtt_p999_ns", "rtt_max_ns", "rtt_mean_ns")


class UTestTest(unittest.TestCase):
    """Against values worked out by hand (and agreeing with scipy.stats.mannwhitneyu's defaults)."""

    def test_exact_without_ties(self):
        # No overlap, 3 and 3: U = 0, and 1 of the C(6,3) = 20 orderings is that extreme on each side: p = 2/20.
        t = utest.mann_whitney_u([1, 2, 3], [4, 5, 6])
        self.assertEqual((t.u, t.method), (0, "exact"))
        self.assertAlmostEqual(t.p, 0.1)
        # 4 and 4: 2 / C(8,4) = 2/70.
        self.assertAlmostEqual(utest.mann_whitney_u([5, 6, 7, 8], [1, 2, 3, 4]).p, 2 / 70)
        # Interleaved 1,3,5 against 2,4,6: U = 3; orderings with U <= 3 number 1+1+2+3 = 7 of 20: p = 14/20.
        t = utest.mann_whitney_u([1, 3, 5], [2, 4, 6])
        self.assertEqual(t.u, 3)
        self.assertAlmostEqual(t.p, 0.7)
        self.assertEqual(utest._u_counts(3, 3), [1, 1, 2, 3, 3, 3, 3, 2, 1, 1])

    def test_normal_approximation_with_ties(self):
        # [1,2,2] against [2,3,4]: ranks 1, 3, 3 | 3, 5, 6 (three 2s share rank 3), U_a = 7 - 6 = 1, U_b = 8.
        # sigma^2 = 3*3/12 * (7 - (3^3-3)/(6*5)) = 0.75 * 6.2 = 4.65; z = (8 - 4.5 - 0.5) / sqrt(4.65) = 1.39122;
        # p = 2 * (1 - Phi(1.39122)) = 0.164160.
        t = utest.mann_whitney_u([1, 2, 2], [2, 3, 4])
        self.assertEqual((t.u, t.method), (1, "normal"))
        self.assertAlmostEqual(t.p, 0.164160, places=5)

    def test_normal_approximation_for_large_samples(self):
        # 10 against 10, no overlap: U = 0, sigma^2 = 100/12 * 21 = 175, z = (100 - 50 - 0.5) / sqrt(175) = 3.74185,
        # p = 2 * (1 - Phi(3.74185)) = 0.000182672.
        t = utest.mann_whitney_u(range(10), range(10, 20))
        self.assertEqual(t.method, "normal")
        self.assertAlmostEqual(t.p, 0.000182672, places=8)

    def test_identical_samples(self):
        self.assertEqual(utest.mann_whitney_u([5, 5, 5], [5, 5, 5]).p, 1.0)
        self.assertEqual(utest.mann_whitney_u([1, 2, 3], [1, 2, 3]).p, 1.0)

    def test_smallest_p(self):
        self.assertAlmostEqual(utest.smallest_p(3, 3), 0.1)
        self.assertAlmostEqual(utest.smallest_p(2, 2), 1 / 3)
        self.assertAlmostEqual(utest.smallest_p(4, 4), 2 / 70)
        # 9 against 9 is past the exact method: the normal approximation's p of full separation (see above).
        self.assertAlmostEqual(utest.smallest_p(9, 9), utest.mann_whitney_u(range(9), range(9, 18)).p)
        self.assertGreater(utest.smallest_p(9, 9), 2 / 48620)


class CorrectionTest(unittest.TestCase):
    """Adjusted p-values worked out by hand."""

    def test_holm(self):
        # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> running maximum 0.06.
        adj = compare_module.adjusted_p_values([0.01, 0.04, 0.03, 0.005], "holm")
        for got, want in zip(adj, [0.03, 0.06, 0.06, 0.02]):
            self.assertAlmostEqual(got, want)

    def test_benjamini_hochberg(self):
        # Sorted times 4/1, 4/2, 4/3, 4/4: 0.02, 0.02, 0.04, 0.04, running minimum from the largest down.
        adj = compare_module.adjusted_p_values([0.01, 0.04, 0.03, 0.005], "bh")
        for got, want in zip(adj, [0.02, 0.04, 0.04, 0.02]):
            self.assertAlmostEqual(got, want)
        self.assertEqual(compare_module.adjusted_p_values([0.9, 1.0], "bh"), [1.0, 1.0])

    def test_reachable(self):
        # 3 against 3 cannot reach 0.05 even alone; 4 against 4 can alone (0.029), not among 2 cases under Holm.
        self.assertFalse(compare_module.reachable(3, 3, 1, 0.05, "bh"))
        self.assertTrue(compare_module.reachable(4, 4, 1, 0.05, "holm"))
        self.assertFalse(compare_module.reachable(4, 4, 2, 0.05, "holm"))
        self.assertTrue(compare_module.reachable(4, 4, 636, 0.05, "bh"))
        # Holm over a default run's 636 cases: 12 repetitions per side before any case can be called.
        self.assertEqual(compare_module.reps_needed(636, 0.05, "holm"), 12)
        self.assertEqual(compare_module.reps_needed(636, 0.05, "bh"), 4)


def synthetic_run(values, workload="latency"):
    """A results document: per case name, the repetitions' primary metric (rtt_p50_ns for latency, msgs_per_s for
    throughput), and a median row naming it as the harness does."""
    field, higher = ("rtt_p50_ns", False) if workload == "latency" else ("msgs_per_s", True)
    rows, medians = [], []
    for i, (name, reps) in enumerate(values.items()):
        run_name = f"ipc/transport:t{i}/model:thread/workload:{workload}/size:64/pairs:1"
        for k, v in enumerate(reps):
            rows.append({"name": run_name, "run_name": run_name, "run_type": "iteration", "repetition_index": k,
                         "workload": workload, "transport": name, "model": "thread", "msg_bytes": 64, "pairs": 1,
                         "real_time": 1.0, "cpu_time": 1.0, "time_unit": "ns", field: v, "error_occurred": False})
        medians.append({"name": run_name + "_median", "run_name": run_name, "run_type": "aggregate",
                        "aggregate_name": "median", "workload": workload, field: sorted(reps)[len(reps) // 2],
                        "primary_metric": field, "higher_is_better": higher, "real_time": 1.0, "cpu_time": 1.0,
                        "time_unit": "ns"})
    return {"context": {"suite": "ipc", "schema_version": 2, "host_name": "vm"}, "benchmarks": rows + medians}


class LabelTest(unittest.TestCase):
    """The chart's labels: the fields in which the compared cases differ, short enough to read."""

    def test_cases_that_differ_in_work_and_lock_get_short_distinct_labels(self):
        from bench_plots import common
        cases = {}
        for lock in ("none", "mutex", "gil-new"):
            for pairs in (1, 8):
                case = common.Case(f"ipc/transport:unix/model:thread/workload:throughput/pairs:{pairs}/lock:{lock}")
                case.ident = {"suite": "ipc", "transport": "unix", "model": "thread", "workload": "throughput",
                              "msg_bytes": 64, "pairs": pairs, "work_ns": 10000, "lock": lock}
                cases[case.run_name] = case
        labels = compare_module.varying_labels(cases)
        self.assertEqual(len(set(labels.values())), len(cases))
        self.assertEqual(labels["ipc/transport:unix/model:thread/workload:throughput/pairs:8/lock:gil-new"],
                         "8 pairs gil-new")
        self.assertEqual(labels["ipc/transport:unix/model:thread/workload:throughput/pairs:1/lock:none"], "1 pair")


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-compare-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def copy(self, fixture, name, edit=None):
        """A copy of a fixture; edit(doc) may change it first."""
        doc = json.loads((FIXTURES / fixture / "results.json").read_text())
        if edit:
            edit(doc)
        run = self.tmp / name
        run.mkdir()
        (run / "results.json").write_text(json.dumps(doc))
        return run

    def compare(self, a, b, *args):
        proc = subprocess.run([sys.executable, str(COMPARE), str(a), str(b), *args], capture_output=True, text=True,
                              timeout=300)
        return proc

    def result(self, proc, out):
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return json.loads((out / "compare.json").read_text())

    def write(self, name, doc):
        run = self.tmp / name
        run.mkdir()
        (run / "results.json").write_text(json.dumps(doc))
        return run

    def test_identical_runs_of_three_repetitions_get_no_verdict(self):
        a, b = self.copy("ipc-small", "a"), self.copy("ipc-small", "b")
        out = self.tmp / "out"
        proc = self.compare(a, b, "--out", out)
        result = self.result(proc, out)
        measured = [r for r in result["cases"] if not r["verdict"].startswith("failed")]
        # 3 against 3: no test can reach 0.05, so no case is called anything, not even the same.
        self.assertEqual({r["verdict"] for r in measured}, {"no verdict"})
        self.assertTrue(all(r["ratio"] == 1.0 and r["p_value"] == 1.0 for r in measured))
        failed = [r for r in result["cases"] if r["verdict"].startswith("failed")]
        self.assertEqual([r["verdict"] for r in failed], ["failed in both"] * 2)  # failed in every repetition
        self.assertEqual(result["machines_differ"], [])
        self.assertEqual((result["only_in_a"], result["only_in_b"]), ([], []))
        self.assertEqual(sorted(p.name for p in out.iterdir()), ["compare.json", "ratios.png", "ratios.svg"])
        self.assertIn("no test can reach alpha 0.05", proc.stdout)
        self.assertNotIn("warning", proc.stderr)

    def test_doubled_latencies_with_three_repetitions_get_no_verdict(self):
        def double(doc):
            for row in doc["benchmarks"]:
                if row.get("workload") == "latency" and row.get("aggregate_name") not in ("cv",):
                    for f in LATENCY_FIELDS:
                        if isinstance(row.get(f), (int, float)):
                            row[f] *= 2
        a, b = self.copy("ipc-small", "a"), self.copy("ipc-small", "b", double)
        out = self.tmp / "out"
        proc = self.compare(a, b, "--out", out, "--formats", "pdf")
        result = self.result(proc, out)
        latency = [r for r in result["cases"] if "workload:latency" in r["run_name"] and r["ratio"] is not None]
        throughput = [r for r in result["cases"] if "workload:throughput" in r["run_name"] and r["ratio"] is not None]
        self.assertTrue(latency and throughput)
        for r in latency:
            # 3 against 3 repetitions that do not overlap: the smallest p there is, 0.1: no verdict, not "slower".
            self.assertEqual(r["verdict"], "no verdict", r)
            self.assertAlmostEqual(r["ratio"], 2.0)
            self.assertEqual(r["metric"], "rtt_p50_ns")
            self.assertAlmostEqual(r["p_value"], 0.1)
            self.assertFalse(r["significant"])
            self.assertTrue(r["basis"].startswith("too few repetitions: with 3 and 3"), r["basis"])
        self.assertEqual({r["verdict"] for r in throughput}, {"no verdict"})
        line = next(line for line in proc.stdout.splitlines() if line.startswith("pipe/thread 64 B latency "))
        self.assertRegex(line, r"\d+\.\d us +\d+\.\d us +2\.00 +no verdict +too few repetitions \(n=3 per side\)")
        self.assertNotIn(" slower ", proc.stdout)
        self.assertIn("run both sides with --reps 4 or more", proc.stdout)
        self.assertTrue((out / "ratios.pdf").read_bytes().startswith(b"%PDF-"))

    def test_faster_throughput_with_enough_repetitions_is_significant(self):
        def more_reps(doc, factor):
            # 9 repetitions of one throughput case, B's 10% faster with a little noise: the test can now decide.
            name = next(r["run_name"] for r in doc["benchmarks"] if r.get("workload") == "throughput")
            rows = [r for r in doc["benchmarks"] if r["run_name"] == name and r["run_type"] == "iteration"]
            base = rows[0]
            doc["benchmarks"] = [dict(base, repetition_index=i, bytes_per_s=base["bytes_per_s"] * factor *
                                      (1 + 0.01 * ((i * 7) % 5))) for i in range(9)]
        a = self.copy("ipc-small", "a", lambda d: more_reps(d, 1.0))
        b = self.copy("ipc-small", "b", lambda d: more_reps(d, 1.1))
        out = self.tmp / "out"
        (r,) = self.result(self.compare(a, b, "--out", out), out)["cases"]
        self.assertEqual(r["verdict"], "faster")
        self.assertTrue(r["significant"])
        self.assertLess(r["p_value"], 0.05)
        self.assertTrue(r["basis"].startswith("U test p = "), r["basis"])

    def test_a_clear_change_is_found_among_many_cases_and_noise_is_not(self):
        rng = random.Random(7)
        a_vals, b_vals = {}, {}
        for i in range(40):
            a_vals[f"t{i}"] = [1000 * (1 + 0.03 * rng.gauss(0, 1)) for _ in range(9)]
            # The first 4 cases are 20% slower in B (7 spreads of noise); the others are the same distribution.
            scale = 1.2 if i < 4 else 1.0
            b_vals[f"t{i}"] = [scale * 1000 * (1 + 0.03 * rng.gauss(0, 1)) for _ in range(9)]
        a, b = self.write("a", synthetic_run(a_vals)), self.write("b", synthetic_run(b_vals))
        out = self.tmp / "out"
        result = self.result(self.compare(a, b, "--out", out), out)
        verdicts = [r["verdict"] for r in result["cases"]]
        self.assertEqual(verdicts[:4], ["slower"] * 4)
        self.assertEqual(set(verdicts[4:]), {"same within noise"})
        self.assertEqual(result["correction"]["method"], "bh")
        self.assertEqual(result["correction"]["cases_tested"], 40)

    def test_an_a_a_comparison_calls_at_most_one_case_in_ten_and_the_correction_matters(self):
        # 100 cases, the same distribution on both sides (5% noise, 9 repetitions): about 5 raw p-values fall
        # below 0.05 by chance (this seed gives 3); corrected for the 100 cases, none is called changed.
        rng = random.Random(3)
        draw = lambda: [1000 * (1 + 0.05 * rng.gauss(0, 1)) for _ in range(9)]  # noqa: E731
        a_vals = {f"t{i}": draw() for i in range(100)}
        b_vals = {f"t{i}": draw() for i in range(100)}
        a, b = self.write("a", synthetic_run(a_vals, "throughput")), self.write("b", synthetic_run(b_vals, "throughput"))
        for method in ("bh", "holm"):
            with self.subTest(method=method):
                out = self.tmp / f"out-{method}"
                result = self.result(self.compare(a, b, "--out", out, "--correction", method), out)
                rows = result["cases"]
                raw = sum(1 for r in rows if r["p_value"] < 0.05)
                called = sum(1 for r in rows if r["verdict"] in ("faster", "slower"))
                self.assertGreaterEqual(raw, 3)  # uncorrected, these would have been called changed
                self.assertLessEqual(called, len(rows) // 10)
                self.assertEqual(called, 0)
                self.assertEqual({r["metric"] for r in rows}, {"msgs_per_s"})
                self.assertTrue(all(r["higher_is_better"] for r in rows))

    def test_primary_metric_comes_from_the_median_row(self):
        # A contention-like case: ops/s, higher is better, named by the harness on the median row.
        def run(values):
            doc = synthetic_run({"x": values})
            for r in doc["benchmarks"]:
                r["ops_per_s"] = r.pop("rtt_p50_ns", None) if r["run_type"] == "iteration" else r.get("rtt_p50_ns")
                r.pop("workload")
                if r["run_type"] == "aggregate":
                    r.update(primary_metric="ops_per_s", higher_is_better=True)
                    r.pop("rtt_p50_ns")
            return doc
        a = self.write("a", run([100.0 + i for i in range(9)]))
        b = self.write("b", run([200.0 + i for i in range(9)]))
        out = self.tmp / "out"
        (r,) = self.result(self.compare(a, b, "--out", out), out)["cases"]
        self.assertEqual((r["metric"], r["higher_is_better"], r["verdict"]), ("ops_per_s", True, "faster"))

    def test_cases_in_one_run_only_are_listed(self):
        def drop(doc, transport):
            doc["benchmarks"] = [r for r in doc["benchmarks"] if r.get("transport") != transport]
        a = self.copy("ipc-small", "a", lambda d: drop(d, "tcp"))
        b = self.copy("ipc-small", "b", lambda d: drop(d, "fifo"))
        out = self.tmp / "out"
        proc = self.compare(a, b, "--out", out)
        result = self.result(proc, out)
        self.assertTrue(result["only_in_a"] and result["only_in_b"])
        self.assertTrue(all("transport:fifo/" in n for n in result["only_in_a"]))
        self.assertTrue(all("transport:tcp/" in n for n in result["only_in_b"]))
        self.assertIn(f"only in A ({len(result['only_in_a'])}), not compared:", proc.stdout)
        self.assertIn(f"only in B ({len(result['only_in_b'])}), not compared:", proc.stdout)
        for name in result["only_in_a"] + result["only_in_b"]:
            self.assertIn(name, proc.stdout)
        compared = {r["run_name"] for r in result["cases"]}
        self.assertFalse(compared & set(result["only_in_a"] + result["only_in_b"]))

    def test_different_machines_are_named_and_warned(self):
        def elsewhere(doc):
            doc["context"].update(host_name="big-server", cpu_model="AMD EPYC 9654", cores_available=96)
        a, b = self.copy("ipc-small", "a"), self.copy("ipc-small", "b", elsewhere)
        out = self.tmp / "out"
        proc = self.compare(a, b, "--out", out)
        result = self.result(proc, out)
        self.assertEqual(result["machines_differ"], ["host_name", "cpu_model", "cores_available"])
        self.assertEqual(proc.stderr.count("\n"), 1)
        self.assertIn("warning: A and B come from different machines", proc.stderr)
        self.assertIn("A: ", proc.stdout)
        self.assertIn("lecture-vm · Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz · 4 CPUs", proc.stdout)
        self.assertIn("big-server · AMD EPYC 9654 · 96 CPUs", proc.stdout)
        self.assertEqual(result["b"]["host_name"], "big-server")

    def test_default_out_is_inside_b(self):
        a, b = self.copy("ipc-real", "before"), self.copy("ipc-real", "after")
        proc = self.compare(a, b)
        self.result(proc, b / "compare-vs-before")
        self.assertIn(str(b / "compare-vs-before" / "compare.json"), proc.stdout)

    def test_a_reader_that_stops_early_gets_no_traceback(self):
        """`bench compare A B | head -1`: the pipe closes under the table; that ends the script quietly."""
        a, b = self.copy("ipc-real", "a"), self.copy("ipc-real", "b")
        proc = subprocess.Popen([sys.executable, str(COMPARE), str(a), str(b), "--out", str(self.tmp / "out")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.readline()
        proc.stdout.close()  # the reader is gone before the table has been written
        stderr = proc.stderr.read().decode()
        proc.stderr.close()
        self.assertEqual(proc.wait(timeout=300), 141, stderr)
        self.assertNotIn("Traceback", stderr)

    def test_bad_input_is_exit_2_with_one_line(self):
        good = self.copy("ipc-real", "good")
        empty = self.tmp / "empty"
        empty.mkdir()
        for args in ([good, empty], [empty, good], [good, good, "--alpha", "2"], [good, good, "--formats", "gif"]):
            with self.subTest(args=args):
                proc = self.compare(*args)
                self.assertEqual(proc.returncode, 2)
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
                self.assertEqual(proc.stdout, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
