"""Judging a difference: the standard errors and tests behind every verdict in the series.

Each function runs one test from `scipy.stats` and returns a `Verdict`: the
numbers, the p-value and the words the notebooks may use. A difference whose
p-value is not below `LEVEL` is reported as "no difference shown", never as a
gain. Notebook 04 writes the paired test out by hand before using `paired`;
06 does the same for the test across digits and for calibration, 08 for seeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

# The series' one threshold: a p-value below 5 % is called a difference.
LEVEL = 0.05
NO_DIFFERENCE = "no difference shown"


@dataclass(frozen=True)
class Verdict:
    """One test's result: what was compared, its p-value, and the verdict in words."""

    test: str
    summary: str
    p_value: float
    verdict: str

    @property
    def shown(self) -> bool:
        """True when the test shows a difference (p below LEVEL)."""
        return self.verdict != NO_DIFFERENCE

    def __str__(self) -> str:
        return f"{self.summary}; {self.test}: {p_text(self.p_value)} -> {self.verdict}"


def p_text(p_value: float) -> str:
    """A p-value as text, "p = 0.035"; one too small for a float to hold reads "p < 1e-300", never 0."""
    if p_value < 1e-300:
        return "p < 1e-300"
    return f"p = {p_value:.2g}"


def standard_error(accuracy: float, images: int) -> float:
    """The binomial standard error of an accuracy measured on `images` images: sqrt(p(1 - p)/n)."""
    if images <= 0:
        raise ValueError(f"an accuracy needs at least one image, got {images}.")
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"an accuracy lies between 0 and 1, got {accuracy}.")
    return math.sqrt(accuracy * (1.0 - accuracy) / images)


def _better(p_value: float, first_ahead: bool, names: tuple[str, str]) -> str:
    """The verdict in words: the one ahead is better where p_value is below LEVEL, else no difference."""
    return f"{names[0] if first_ahead else names[1]} better" if p_value < LEVEL else NO_DIFFERENCE


def _as_right(right: np.ndarray, name: str) -> np.ndarray:
    right = np.asarray(right)
    if right.dtype != bool:
        raise TypeError(f"{name} must be a boolean array (True where the image was read right).")
    return right


def paired(right_a: np.ndarray, right_b: np.ndarray, names: tuple[str, str] = ("A", "B")) -> Verdict:
    """McNemar's exact test for two networks scored on the same images.

    Only the images exactly one network reads right carry information. If the
    two were equally good, each of those would fall on either side with
    probability 1/2, so the count on one side is Binomial(discordant, 1/2).
    """
    right_a, right_b = _as_right(right_a, "right_a"), _as_right(right_b, "right_b")
    if right_a.shape != right_b.shape:
        raise ValueError(f"the two networks were scored on {right_a.shape} and {right_b.shape} images.")
    only_a = int((right_a & ~right_b).sum())
    only_b = int((right_b & ~right_a).sum())
    discordant = only_a + only_b
    p_value = stats.binomtest(only_a, discordant, 0.5).pvalue if discordant else 1.0
    summary = f"only {names[0]} right: {only_a}, only {names[1]} right: {only_b}"
    return Verdict("McNemar exact test", summary, float(p_value), _better(p_value, only_a > only_b, names))


def across_digits(counts: np.ndarray) -> Verdict:
    """A chi-square test that all ten digits share one error rate, from a confusion matrix.

    One test over the whole table, not the best digit against the worst: the two
    extremes of ten equal digits are often far apart by chance alone.
    """
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"a confusion matrix is square, got shape {counts.shape}.")
    right = np.diag(counts)
    wrong = counts.sum(axis=1) - right
    if wrong.sum() == 0:
        return Verdict("chi-square test", "no mistakes", 1.0, NO_DIFFERENCE)
    result = stats.chi2_contingency(np.stack([wrong, right], axis=1))
    verdict = "error rates differ across digits" if result.pvalue < LEVEL else NO_DIFFERENCE
    dof = int(result.dof)
    summary = (
        f"{int(wrong.sum())} mistakes over {len(wrong)} digits, chi2 = {result.statistic:.1f} ({dof} df)"
    )
    return Verdict("chi-square test", summary, float(result.pvalue), verdict)


@dataclass(frozen=True)
class Band:
    """Confidence against mistakes in one band: observed, expected, and their exact test."""

    name: str
    images: int
    mean_confidence: float
    observed: int  # mistakes made
    expected: float  # mistakes a calibrated network makes: the sum of (1 - confidence)
    error: float  # standard error of that count: sqrt of the sum of c(1 - c)
    z: float  # (observed - expected) / error: a picture of size, unreliable below ~5 expected
    p_value: float  # exact, two-sided
    verdict: str


def count_chances(p: np.ndarray) -> np.ndarray:
    """The chance of 0, 1, 2, ... events when event i happens on its own with chance p[i].

    Built one event at a time: each either adds one to the count or not.
    """
    chance = np.zeros(len(p) + 1)
    chance[0] = 1.0
    for n, p_i in enumerate(np.asarray(p, dtype=np.float64), start=1):
        chance[1 : n + 1] = chance[1 : n + 1] * (1.0 - p_i) + chance[:n] * p_i
        chance[0] *= 1.0 - p_i
    return chance


def exact_count_test(p: np.ndarray, observed: int) -> tuple[float, int]:
    """Two-sided exact p-value of `observed` events among independent ones with chances `p`.

    Returns (p-value, direction): +1 when the count is high, -1 when low. The
    p-value is twice the smaller tail, each tail summed directly so that tiny
    values keep their precision.
    """
    chance = count_chances(p)
    too_many, too_few = float(chance[observed:].sum()), float(chance[: observed + 1].sum())
    return min(1.0, 2.0 * min(too_many, too_few)), (1 if too_many < too_few else -1)


def calibration(
    confidence: np.ndarray,
    right: np.ndarray,
    edges: Sequence[float],
    names: Sequence[str],
    tests: int = 1,
) -> list[Band]:
    """Per confidence band, the mistakes observed against those the confidences predict.

    A calibrated network answering with confidence c is wrong with probability
    1 - c, so a band's mistakes have mean sum(1 - c) and variance sum(c(1 - c)).
    The verdict comes from the exact distribution of that count (`count_chances`),
    not from z, which misleads where a band expects a handful of mistakes. With
    `tests` bands judged at once, each counts only below LEVEL / tests (Bonferroni).
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    right = _as_right(right, "right")
    if len(names) != len(edges) + 1:
        raise ValueError(f"{len(edges)} edges make {len(edges) + 1} bands, got {len(names)} names.")
    if tests < 1:
        raise ValueError(f"tests counts the bands judged together: at least 1, got {tests}.")
    band = np.digitize(confidence, edges)
    rows = []
    for k, name in enumerate(names):
        inside = band == k
        if not inside.any():
            continue
        c = confidence[inside]
        observed = int((~right[inside]).sum())
        expected = float((1.0 - c).sum())
        error = float(np.sqrt((c * (1.0 - c)).sum()))
        z = (observed - expected) / error if error > 0 else 0.0
        p_value, direction = exact_count_test(1.0 - c, observed)
        verdict = "calibrated within noise"
        if p_value < LEVEL / tests:
            verdict = "over-confident" if direction > 0 else "under-confident"
        rows.append(
            Band(name, int(inside.sum()), float(c.mean()), observed, expected, error, z, p_value, verdict)
        )
    return rows


def across_seeds(a: Sequence[float], b: Sequence[float], names: tuple[str, str] = ("A", "B")) -> Verdict:
    """Welch's two-sample t-test on accuracies from several seeds of two settings."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("a test across seeds needs at least two seeds of each setting.")
    result = stats.ttest_ind(a, b, equal_var=False)
    summary = (
        f"{names[0]} {a.mean():.4f} ± {stats.sem(a):.4f}, {names[1]} {b.mean():.4f} ± {stats.sem(b):.4f}"
        f" (mean ± standard error, {len(a)} and {len(b)} seeds)"
    )
    verdict = _better(result.pvalue, a.mean() > b.mean(), names)
    return Verdict("Welch t-test", summary, float(result.pvalue), verdict)


def one_run_against_seeds(
    run: float, seeds: Sequence[float], names: tuple[str, str] = ("run", "seeds")
) -> Verdict:
    """Whether one run differs from a setting measured over several seeds, judged by the seed spread.

    A new run of the same setting would land at t = (x - mean) / (s * sqrt(1 + 1/n))
    with n - 1 degrees of freedom; a single run is only called different when
    it lies outside that spread.
    """
    seeds = np.asarray(seeds, dtype=np.float64)
    if len(seeds) < 2:
        raise ValueError("judging one run by the seed spread needs at least two seeds.")
    spread = float(seeds.std(ddof=1))
    if spread == 0:
        raise ValueError("the seeds all gave the same accuracy: there is no spread to judge by.")
    t = (run - seeds.mean()) / (spread * math.sqrt(1 + 1 / len(seeds)))
    p_value = float(2 * stats.t.sf(abs(t), df=len(seeds) - 1))
    summary = f"{names[0]} {run:.4f} against {names[1]} {seeds.mean():.4f} (seed spread {spread:.4f})"
    return Verdict("t-test against the seed spread", summary, p_value, _better(p_value, t > 0, names))
