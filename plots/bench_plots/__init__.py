"""Charts for bench runs: plots/plot.py RUN_DIR reads RUN_DIR/results.json and writes the charts next to it.

One module per suite (ipc.py, later serialize.py, contention.py), each with plot(doc, run_dir, formats) -> paths
(registered in plot.py's SUITES) and, for plots/report.py, describe(chart_name, doc) -> the sentences under a
chart, computed from the rows (chart_name: the file name plot() gave it, without extension); a suite without
describe() gets its charts and tables in the report, and no sentences. style.py holds colours, fonts and tick
labels, common.py the reading and drawing shared by all suites, utest.py the Mann-Whitney U test of compare.py.
"""
