#!/usr/bin/python3
"""Draws the charts of one bench run.

    /usr/bin/python3 plots/plot.py RUN_DIR [--formats png,svg,pdf] [--style lecture|paper]

Reads only RUN_DIR/results.json, writes the charts into RUN_DIR and prints each written path on stdout, one per
line. Exit status 0 (also for a suite without charts yet), 2 if results.json is missing or malformed.
"""
import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: Debian's matplotlibrc selects TkAgg, which needs a display

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_plots import common, contention, cores, ipc, python, serialize, style  # noqa: E402

# context.suite -> function(doc, run_dir, formats) returning the written paths.
SUITES = {
    "ipc": ipc.plot,
    "contention": contention.plot,
    "serialize": serialize.plot,
    "cores": cores.plot,
    "python": python.plot,
}
FORMATS = ("png", "svg", "pdf")


def formats_arg(text):
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(bad) or '(none)'}; choose from {','.join(FORMATS)}")
    return list(dict.fromkeys(formats))


def main(argv=None):
    parser = common.ArgumentParser(description="Draw the charts of one bench run into its directory.")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="directory holding results.json")
    parser.add_argument("--formats", type=formats_arg, default=["png", "svg"],
                        help="comma-separated list of png, svg, pdf (default: png,svg)")
    parser.add_argument("--style", choices=sorted(style.STYLES), default="lecture",
                        help="lecture: large fonts for a projector (default); paper: small, for print")
    args = parser.parse_args(argv)

    def draw_charts():
        doc = common.load_results(args.run_dir)
        suite = common.suite_of(doc, args.run_dir)
        draw = SUITES.get(suite)
        if draw is None:
            print(f"plot.py: no charts for suite {suite} yet", file=sys.stderr)
            return
        style.apply(args.style)
        for path in draw(doc, args.run_dir, args.formats):
            print(path, flush=True)

    return common.guarded("plot.py", f"charts into {args.run_dir}", draw_charts)


if __name__ == "__main__":
    sys.exit(common.run_main(main))
