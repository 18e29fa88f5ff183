"""The Mann-Whitney U test, two-sided, written out here because scipy is not available (Debian's python3 has
numpy and matplotlib only). Google Benchmark's tools/compare.py calls scipy.stats.mannwhitneyu for the same job;
this follows scipy's default method choice so the p-values agree:

- exact (the full distribution of U, counted) when neither sample has ties and at least one has 8 or fewer
  values;
- otherwise the normal approximation with the tie correction and a continuity correction of 0.5.

With few repetitions the test is weak by construction: with 3 values per side the smallest two-sided p-value
there is, for samples that do not overlap at all, is 2/20 = 0.10, so nothing reaches p < 0.05.
"""
import math
from collections import Counter


class UTest:
    def __init__(self, u, p, method, n_a, n_b):
        self.u = u            # U of the first sample (the number of pairs in which its value is the larger)
        self.p = p            # two-sided p-value
        self.method = method  # "exact" or "normal"
        self.n_a, self.n_b = n_a, n_b

    def __repr__(self):
        return f"UTest(u={self.u}, p={self.p:.6g}, method={self.method!r}, n={self.n_a}/{self.n_b})"


def _ranks(values):
    """Average ranks (1-based) of values; tied values share the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _u_counts(m, n):
    """counts[u] = how many of the C(m+n, m) orderings of two tie-free samples of sizes m and n give U = u.

    Counted with the recurrence on the largest value: it belongs to the first sample (adding n to U) or to the
    second, f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u)."""
    table = {(0, j): [1] for j in range(n + 1)}
    table.update({(i, 0): [1] for i in range(m + 1)})
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            counts = [0] * (i * j + 1)
            for u, c in enumerate(table[(i - 1, j)]):
                counts[u + j] += c
            for u, c in enumerate(table[(i, j - 1)]):
                counts[u] += c
            table[(i, j)] = counts
    return table[(m, n)]


def smallest_p(n_a, n_b):
    """The smallest two-sided p-value mann_whitney_u gives two tie-free samples of these sizes (no overlap at
    all): 2 / C(n_a + n_b, n_a) where it is exact, the normal approximation's value where it is not (9 against 9:
    0.00041, not the exact 0.000041)."""
    if not n_a or not n_b:
        return 1.0
    return mann_whitney_u(range(n_a), range(n_a, n_a + n_b)).p


def mann_whitney_u(a, b):
    """Two-sided Mann-Whitney U test of samples a and b (sequences of numbers, each at least one value)."""
    a, b = list(a), list(b)
    n_a, n_b = len(a), len(b)
    if not n_a or not n_b:
        raise ValueError("the U test needs at least one value on each side")
    ranks = _ranks(a + b)
    u_a = sum(ranks[:n_a]) - n_a * (n_a + 1) / 2
    u_b = n_a * n_b - u_a
    ties = [t for t in Counter(a + b).values() if t > 1]
    if not ties and min(n_a, n_b) <= 8:
        counts = _u_counts(n_a, n_b)
        low = int(round(min(u_a, u_b)))
        p = min(1.0, 2 * sum(counts[:low + 1]) / math.comb(n_a + n_b, n_a))
        return UTest(u_a, p, "exact", n_a, n_b)
    n = n_a + n_b
    tie_term = sum(t ** 3 - t for t in ties)
    variance = n_a * n_b / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    if variance <= 0:  # every value the same: no evidence of any difference
        return UTest(u_a, 1.0, "normal", n_a, n_b)
    z = (max(u_a, u_b) - n_a * n_b / 2 - 0.5) / math.sqrt(variance)
    p = min(1.0, max(0.0, math.erfc(z / math.sqrt(2))))  # 2 * P(Z > z)
    return UTest(u_a, p, "normal", n_a, n_b)
