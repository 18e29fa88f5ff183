#!/usr/bin/python3
"""Draws the lecture deck of bench runs: one slide per lesson, from the results files alone.

    /usr/bin/python3 plots/lecture.py RUN_DIR [RUN_DIR ...] [--out DIR]

The first directory gets lecture/ (or --out DIR); the others add their rows (a contention run beside an ipc
run; RUN_DIR/contention/ and RUN_DIR/cores/, which a lecture run of bench run ipc writes, are added by themselves): each lesson draws
the rows of the first run that has them. Writes NN-name.png and .svg per slide,
lecture.pdf, index.html and slides.json, and prints each written path on stdout, one per line. Exit status 0,
2 if a results.json is missing or malformed.
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: Debian's matplotlibrc selects TkAgg, which needs a display

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_plots import common  # noqa: E402
from bench_plots.lecture import deck  # noqa: E402


def main(argv=None):
    parser = common.ArgumentParser(description="Draw the lecture deck of bench runs into the first one's lecture/.")
    parser.add_argument("run_dirs", metavar="RUN_DIR", nargs="+", help="directories holding results.json")
    parser.add_argument("--out", help="where the deck goes (default: RUN_DIR/lecture of the first)")
    args = parser.parse_args(argv)

    # A lecture run of bench run ipc writes its contention lessons into RUN_DIR/contention/ and, on a machine with
    # more than one kind of CPU pair, its core-to-core map into RUN_DIR/cores/: they come along.
    run_dirs = list(args.run_dirs)
    for d in args.run_dirs:
        for sub in ("contention", "cores", "python"):
            extra = Path(d) / sub
            if (extra / "results.json").is_file() and str(extra) not in run_dirs:
                run_dirs.append(str(extra))

    def draw_deck():
        for path in deck.write(run_dirs, args.out):
            print(path, flush=True)

    return common.guarded("lecture.py", "the deck", draw_deck)

if __name__ == "__main__":
    sys.exit(common.run_main(main))
