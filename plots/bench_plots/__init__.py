"""Charts for bench runs: plots/plot.py RUN_DIR reads RUN_DIR/results.json and writes the charts next to it.

One module per suite (ipc.py, later serialize.py, contention.py), each with plot(doc, run_dir, formats) -> paths;
style.py holds colours, fonts and tick labels, common.py the reading and drawing shared by all suites.
"""
