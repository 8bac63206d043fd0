"""The tests behind the notebooks' verdicts give the answers their textbook cases give."""

import numpy as np
import pytest

from helpers import compare


def _right(pattern: str) -> np.ndarray:
    return np.array([c == "1" for c in pattern])


def test_standard_error_of_one_accuracy():
    assert compare.standard_error(0.99, 10_000) == pytest.approx(0.000995, rel=1e-3)
    with pytest.raises(ValueError, match="at least one image"):
        compare.standard_error(0.5, 0)


def test_paired_counts_only_the_images_one_network_gets_right():
    # 9 images only the first gets right, 8 only the second: as even as a split can be.
    a = _right("1" * 9 + "0" * 8 + "1" * 50 + "0" * 3)
    b = _right("0" * 9 + "1" * 8 + "1" * 50 + "0" * 3)
    result = compare.paired(a, b, ("ensemble", "Sequential"))
    assert result.summary == "only ensemble right: 9, only Sequential right: 8"
    assert result.p_value == pytest.approx(1.0)
    assert result.verdict == compare.NO_DIFFERENCE and not result.shown


def test_paired_names_the_better_network_when_the_split_is_lopsided():
    a = _right("1" * 12 + "1" * 40)
    b = _right("0" * 12 + "1" * 40)
    result = compare.paired(a, b, ("first", "second"))
    assert result.p_value == pytest.approx(2 * 0.5**12)  # exact binomial, two-sided
    assert result.verdict == "first better"
    assert compare.paired(b, a, ("first", "second")).verdict == "second better"
    assert "p = 0.00049" in str(result)


def test_paired_rejects_scores_that_are_not_booleans():
    with pytest.raises(TypeError, match="boolean"):
        compare.paired(np.array([1, 0]), np.array([True, False]))


def _confusion(wrong: list[int], images: int = 1000) -> np.ndarray:
    counts = np.zeros((10, 10), dtype=int)
    for digit, w in enumerate(wrong):
        counts[digit, digit] = images - w
        counts[digit, (digit + 1) % 10] = w
    return counts


def test_across_digits_sees_no_difference_in_equal_error_rates():
    result = compare.across_digits(_confusion([8, 9, 8, 7, 8, 9, 8, 8, 7, 8]))
    assert result.p_value > 0.9 and result.verdict == compare.NO_DIFFERENCE


def test_across_digits_finds_one_digit_far_worse():
    result = compare.across_digits(_confusion([8, 9, 8, 7, 8, 9, 8, 8, 7, 40]))
    assert result.p_value < 1e-6 and result.verdict == "error rates differ across digits"
    assert "9 df" in result.summary


def test_calibration_of_a_calibrated_and_an_over_confident_network():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1.0, 20_000)
    calibrated = rng.uniform(size=confidence.size) < confidence
    bands = compare.calibration(confidence, calibrated, [0.9], ["low", "high"])
    assert [b.verdict for b in bands] == ["calibrated within noise"] * 2
    assert sum(b.images for b in bands) == confidence.size
    over = rng.uniform(size=confidence.size) < confidence - 0.05
    assert {b.verdict for b in compare.calibration(confidence, over, [0.9], ["low", "high"])} == {
        "over-confident"
    }
    under = rng.uniform(size=confidence.size) < np.minimum(confidence + 0.05, 1.0)
    assert compare.calibration(confidence, under, [0.9], ["low", "high"])[0].verdict == "under-confident"


def test_calibration_skips_empty_bands_and_checks_its_names():
    bands = compare.calibration(np.array([0.95, 0.97]), np.array([True, True]), [0.9], ["low", "high"])
    assert [b.name for b in bands] == ["high"]
    with pytest.raises(ValueError, match="2 bands"):
        compare.calibration(np.array([0.95]), np.array([True]), [0.9], ["one"])


def test_across_seeds_tells_a_shift_of_many_spreads_from_noise():
    base = [0.9950, 0.9953, 0.9948, 0.9951]
    assert (
        compare.across_seeds([0.9960, 0.9962, 0.9959, 0.9961], base, ("new", "old")).verdict == "new better"
    )
    result = compare.across_seeds([0.9952, 0.9949, 0.9951], base)
    assert result.verdict == compare.NO_DIFFERENCE and result.p_value > 0.5
    with pytest.raises(ValueError, match="two seeds"):
        compare.across_seeds([0.99], base)


def test_one_run_is_judged_by_the_seed_spread():
    seeds = [0.9956, 0.9962, 0.9959]  # spread 0.0003
    assert compare.one_run_against_seeds(0.9961, seeds).verdict == compare.NO_DIFFERENCE
    assert compare.one_run_against_seeds(0.9900, seeds, ("change", "final")).verdict == "final better"
    with pytest.raises(ValueError, match="no spread"):
        compare.one_run_against_seeds(0.99, [0.99, 0.99])


def test_count_chances_is_the_binomial_when_every_chance_is_the_same():
    from scipy import stats

    chances = compare.count_chances(np.full(30, 0.1))
    assert np.allclose(chances, stats.binom.pmf(np.arange(31), 30, 0.1))


def test_the_exact_band_test_keeps_tiny_p_values_and_their_direction():
    p_value, direction = compare.exact_count_test(np.full(1000, 1e-4), 7)  # 0.1 expected
    assert direction == 1 and 0 < p_value < 1e-9
    p_value, direction = compare.exact_count_test(np.full(2000, 0.003), 0)  # 6 expected
    assert direction == -1 and p_value == pytest.approx(2 * 0.997**2000)


def test_calibration_verdicts_follow_the_exact_test_and_the_number_of_bands():
    # 0 mistakes where 4.5 are expected: p = 0.022, a verdict alone, not among 8 bands.
    confidence = np.full(1500, 0.997)
    right = np.ones(1500, dtype=bool)
    (alone,) = compare.calibration(confidence, right, [0.9], ["low", "high"])
    assert alone.verdict == "under-confident" and alone.p_value == pytest.approx(2 * 0.997**1500)
    (among_eight,) = compare.calibration(confidence, right, [0.9], ["low", "high"], tests=8)
    assert among_eight.verdict == "calibrated within noise"
    assert among_eight.z < -2  # where z alone would have called it


def test_a_p_value_too_small_for_a_float_never_prints_as_zero():
    a = np.ones(2000, dtype=bool)
    b = np.zeros(2000, dtype=bool)
    assert "p < 1e-300" in str(compare.paired(a, b))
    assert compare.p_text(0.0351) == "p = 0.035"
