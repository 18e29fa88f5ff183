#!/usr/bin/python3
"""Tests of plots/bench_plots/ipc_scaling.py: the pairs sweep of a run with --work and --lock (fixture ipc-lock,
written by make_fixture.py), drawn in-process so that what is on the axes can be checked, and through plot.py.

    /usr/bin/python3 tests/plots/test_ipc_scaling.py
"""
import json
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "plots"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixture  # noqa: E402
from bench_plots import common, ipc, style  # noqa: E402

FIXTURES = make_fixture.temporary_copy()


def load(name):
    return json.loads((FIXTURES / name / "results.json").read_text())


def median(doc, **ident):
    """The msgs_per_s median of the one throughput case with these fields."""
    rows = [r for r in doc["benchmarks"] if r.get("aggregate_name") == "median" and r["workload"] == "throughput"
            and all(r.get(k) == v for k, v in ident.items())]
    assert len(rows) == 1, (ident, len(rows))
    return rows[0]["msgs_per_s"]


class ScalingChartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        style.apply("lecture")
        cls.doc = load("ipc-lock")
        cls.cases = common.cases(cls.doc)
        cls.fig = ipc.pairs_throughput_by_transport(cls.cases, cls.doc["context"])

    @classmethod
    def tearDownClass(cls):
        matplotlib.pyplot.close("all")

    def panels(self):
        return {ax.get_title(loc="left"): ax for ax in self.fig.axes if ax.get_visible() and ax.get_title(loc="left")}

    def test_one_panel_per_lock_with_the_work_in_the_title(self):
        self.assertEqual(sorted(self.panels()), ["unix: new GIL (Python 3.2+)", "unix: no lock"])
        texts = [t.get_text() for t in self.fig.texts]
        self.assertIn("Where servers stop scaling: 10 us of work per message", texts)
        self.assertIn("one lock per server process: the threads of one process share it, processes do not",
                      " ".join(texts))

    def test_lines_carry_the_medians(self):
        for title, lock in (("unix: no lock", "none"), ("unix: new GIL (Python 3.2+)", "gil-new")):
            ax = self.panels()[title]
            for model in ("thread", "process"):
                expected = [median(self.doc, model=model, lock=lock, pairs=p) for p in (1, 2, 4, 8)]
                self.assertTrue(any(list(line.get_xdata()) == [1, 2, 4, 8] and
                                    list(line.get_ydata()) == expected for line in ax.get_lines()),
                                f"{title}: no line through the {model} medians {expected}")

    def test_perfect_scaling_from_each_models_one_pair_rate(self):
        ax = self.panels()["unix: new GIL (Python 3.2+)"]
        one = median(self.doc, model="thread", lock="gil-new", pairs=1)
        self.assertTrue(any(list(line.get_ydata()) == [one * p for p in (1, 2, 4, 8)] for line in ax.get_lines()))

    def test_capacity_and_cpu_references(self):
        work, cpus = self.doc["context"]["work_ns"], self.doc["context"]["cores_available"]

        def horizontal(ax):
            return {line.get_ydata()[0] for line in ax.get_lines() if len(set(line.get_ydata())) == 1
                    and list(line.get_xdata()) == [0, 1]}

        def vertical(ax):
            return {line.get_xdata()[0] for line in ax.get_lines() if len(set(line.get_xdata())) == 1
                    and list(line.get_ydata()) == [0, 1]}

        free, gil = self.panels()["unix: no lock"], self.panels()["unix: new GIL (Python 3.2+)"]
        self.assertEqual(horizontal(free), {cpus * 1e9 / work})
        self.assertEqual(horizontal(gil), {cpus * 1e9 / work, 1e9 / work})  # and one lock holder at a time
        self.assertEqual(vertical(free), {cpus})
        self.assertIn(cpus, free.get_xticks())
        labels = [t.get_text() for t in gil.texts]
        self.assertIn("4 CPUs, work alone: 400 k/s", labels)
        self.assertIn("one holder at a time: 100 k/s", labels)

    def test_failed_case_is_named_under_the_chart(self):
        texts = [t.get_text() for t in self.fig.texts]
        self.assertTrue(any(t.startswith("failed: unix/async/gil-new 64 B, 8 pairs: timed out") for t in texts), texts)

    def test_sentences_carry_the_figures(self):
        said = ipc.describe("pairs_throughput_by_transport", self.doc)
        one, eight = (median(self.doc, model="thread", lock="gil-new", pairs=p) for p in (1, 8))
        self.assertIn(f"On unix with new GIL (Python 3.2+), going from 1 to 8 pairs took messages/s to "
                      f"{style.fmt_factor(eight / one)} for the thread servers ({style.fmt_rate(one)} to "
                      f"{style.fmt_rate(eight)}/s)", said[1])
        self.assertIn("the thread servers stopped after 4 pairs with no lock and never scaled with new GIL", said[2])
        free = median(self.doc, model="thread", lock="none", pairs=8)
        self.assertIn(f"With 8 pairs the thread servers under new GIL (Python 3.2+) delivered "
                      f"{style.fmt_factor(eight / free)} their messages/s without a lock", said[3])
        self.assertIn("0.24x", said[3])  # the same, once by hand
        self.assertTrue(any(s.startswith("Marked x: 1 case failed") for s in said), said)

    def test_other_charts_split_lines_by_lock(self):
        fig = ipc.pairs_throughput(self.cases, self.doc["context"])
        ax = fig.axes[0]
        drawn = [line for line in ax.get_lines() if len(line.get_xdata()) > 1 and line.get_linestyle() != "None"]
        self.assertEqual(len(drawn), 6)  # 3 models x 2 locks, not 3 zigzags
        colors = {(line.get_linestyle(), matplotlib.colors.to_hex(line.get_color())) for line in drawn}
        self.assertEqual(len(colors), 6)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        self.assertIn("unix / thread (lock gil-new)", labels)
        self.assertLess(labels.index("unix / thread (lock none)"), labels.index("unix / thread (lock gil-new)"))

    def test_three_locks_share_a_row_with_short_labels(self):
        rows = []
        for r in self.doc["benchmarks"]:
            rows.append(r)
            if r["lock"] == "gil-new":  # the same figures once more, as if measured under a mutex
                rows.append(dict(r, lock="mutex", name=r["name"].replace("gil-new", "mutex"),
                                 run_name=r["run_name"].replace("gil-new", "mutex")))
        fig = ipc.pairs_throughput_by_transport(common.cases({"context": self.doc["context"], "benchmarks": rows}),
                                                self.doc["context"])
        titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
        self.assertEqual(titles, ["unix: no lock", "unix: mutex", "unix: new GIL"])
        self.assertIn("4 CPUs: 400 k/s", [t.get_text() for t in fig.axes[1].texts])

    def test_servers_that_all_shared_one_cpu_are_said(self):
        # Placement cross on 2 CPUs: every server on CPU 1, whatever the model: no line can scale, and the chart
        # and the sentences say so instead of reading the lines as a verdict on the lock.
        doc = json.loads(json.dumps(self.doc))
        doc["context"]["cores_available"] = 2
        for r in doc["benchmarks"]:
            if r["run_type"] == "iteration":
                r["server_cpus"] = ";".join("1" for _ in range(r["pairs"]))
        fig = ipc.pairs_throughput_by_transport(common.cases(doc), doc["context"])
        self.assertIn("every server ran on CPU 1: no model could scale (placement cross; try --placement same)",
                      [t.get_text() for t in fig.texts])
        said = ipc.describe("pairs_throughput_by_transport", doc)
        self.assertTrue(said[0].startswith("Every server of more than one pair ran on CPU 1, so no model could "
                                           "scale here (placement cross"), said)
        self.assertFalse(any("going from 1 to" in s for s in said), said)

    def test_without_work_the_plain_chart_stays(self):
        doc = load("ipc-small")
        fig = ipc.pairs_throughput_by_transport(common.cases(doc), doc["context"])
        # The title names the models the run has (thread and process), not an event loop it did not run.
        self.assertIn("Throughput vs pairs per transport: thread vs process", [t.get_text() for t in fig.texts])


class PlotScriptTest(unittest.TestCase):
    def test_every_ipc_chart_of_the_lock_run(self):
        tmp = Path(tempfile.mkdtemp(prefix="bench-scaling-"))
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        shutil.copytree(FIXTURES / "ipc-lock", tmp / "run")
        proc = subprocess.run([sys.executable, str(ROOT / "plots" / "plot.py"), str(tmp / "run"), "--formats", "png"],
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        names = sorted(Path(p).stem for p in proc.stdout.split())
        self.assertEqual(names, sorted(["latency_vs_size", "throughput_vs_size", "pairs_throughput",
                                        "pairs_throughput_by_transport", "pairs_latency"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
