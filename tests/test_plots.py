"""The series' figures stay legible on a 1024 x 768 projector, and legends cover no data.

Sizes are measured as the notebooks show them: the inline backend saves each
figure as a PNG at the figure's dpi with bbox_inches="tight", and JupyterLab at a
1024 px window gives a notebook's output about 590 px (measured in the browser
suite), so a PNG no wider than that is shown at its natural size.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from PIL import Image

from helpers import handwriting, plots

OUTPUT_AREA_PX = 590  # JupyterLab 4.6's output width at a 1024 px window, file browser open
MIN_TEXT_PX = 15  # font size in pixels: 11 pt at 100 dpi
# Captions as notebook 06 writes them, with the widest confidence.
MISTAKE_TITLES = [f"{d} → {(d + 3) % 10} (100%)" for d in range(10)] * 2


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    """Every test starts and ends with no open figure, so figures do not pile up in memory."""
    plt.close("all")
    yield
    plt.close("all")


def digits(count: int) -> np.ndarray:
    """Stand-in 28 x 28 greyscale digits."""
    return np.random.default_rng(0).integers(0, 256, size=(count, 28, 28), dtype=np.uint8)


def history(offset: float) -> dict[str, list[float]]:
    """A made-up 12-epoch Keras history."""
    falling, rising = np.linspace(0.5, 0.05, 12) + offset, np.linspace(0.85, 0.99, 12) - offset
    return {
        "loss": list(falling),
        "val_loss": list(falling * 0.8),
        "accuracy": list(rising),
        "val_accuracy": list(rising),
    }


def photo_steps() -> dict[str, np.ndarray]:
    """The preprocessing steps of a stand-in photo: a dark 1 on light paper."""
    paper = np.full((240, 180), 235, dtype=np.uint8)
    paper[30:210, 84:98] = 30
    return handwriting.preprocess_steps(paper)


def readings() -> dict[str, np.ndarray]:
    """Two networks' made-up probabilities for one digit."""
    sure, unsure = np.full(10, 0.01), np.full(10, 0.08)
    sure[1], unsure[7] = 0.91, 0.28
    return {"Sequential": sure, "functional": unsure}


def study() -> dict:
    """A made-up study of notebook 08: four steps of three seeds and two sweep points."""
    runs = [
        {
            "step": step,
            "sweep": {},
            "minutes": 6.0 + seed / 10,
            "tflop": 18.5,
            "validation_accuracy_shifted": accuracy,
            **({"test_accuracy_shifted": accuracy + 0.0005} if step == "augmentation" else {}),
        }
        for step, base in (
            ("compact", 0.993),
            ("augmentation", 0.9945),
            ("smoothing", 0.995),
            ("final", 0.9952),
        )
        for seed, accuracy in ((1, base), (2, base + 0.0004), (3, base - 0.0003))
    ]
    runs += [
        {
            "step": "epochs 8",
            "sweep": {"epochs": 8},
            "minutes": 4.0,
            "tflop": 12.3,
            "validation_accuracy_shifted": 0.9946,
        },
        {
            "step": "dropout 0.2",
            "sweep": {"dropout": 0.2},
            "minutes": 6.0,
            "tflop": 18.5,
            "validation_accuracy_shifted": 0.995,
        },
    ]
    return {"runs": runs}


def every_figure(real_arrays: dict[str, np.ndarray]) -> dict[str, Callable[[], Figure]]:
    """One call of each public figure function, with the arguments the notebooks give it."""
    labels = real_arrays["y_train"], real_arrays["y_test"]
    confusion = np.diag(np.bincount(labels[1], minlength=10)) + np.ones((10, 10), dtype=int)
    confusions = {"Sequential": confusion, "functional": confusion + np.eye(10, dtype=int)[::-1] * 5}
    return {
        "mistake gallery": lambda: plots.show_digits(
            digits(20), MISTAKE_TITLES, suptitle="most confident mistakes"
        ),
        "feature maps": lambda: plots.show_digits(digits(32), [f"filter {i}" for i in range(32)], columns=8),
        "sevens in a row": lambda: plots.show_digits(
            digits(12), [f"image {i}" for i in range(12)], columns=12
        ),
        "class counts": lambda: plots.plot_class_counts(*labels),
        "pixel histograms": lambda: plots.plot_pixel_histograms(digits(50), digits(50) / 255),
        "history": lambda: plots.plot_history({"Sequential": history(0), "functional": history(0.01)}),
        "history, log loss": lambda: plots.plot_history({"no dropout": history(0)}, log_loss=True),
        "confusion matrix": lambda: plots.plot_confusion_matrix(
            confusion, "Sequential network: true vs predicted"
        ),
        "mistakes per digit": lambda: plots.plot_mistakes_per_digit(confusions),
        "own digits gallery": lambda: plots.gallery(
            list(digits(6)), [f"photo-{i}\nread as {i}" for i in range(6)], columns=5
        ),
        "preprocessing steps": lambda: plots.steps_figure(photo_steps()),
        "steps and readings": lambda: plots.steps_figure(photo_steps(), readings()),
        "study": lambda: plots.plot_study(
            study(), {"runs": [{"minutes": 4.4, "validation_accuracy_shifted": 0.995}]}
        ),
    }


def png_size(fig: Figure) -> tuple[int, int]:
    """Width and height in pixels of the PNG the inline backend would show."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return Image.open(buffer).size


def extent(artist: Text | Rectangle, fig: Figure) -> Bbox:
    """Where an artist lands on the Agg canvas, in pixels."""
    return artist.get_window_extent(fig.canvas.get_renderer())


def overlap_area(a: Bbox, b: Bbox) -> float:
    """Area in square pixels that two boxes share (0 when they only touch or are apart)."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0.0) * max(height, 0.0)


def visible_texts(fig: Figure) -> list[Text]:
    """Every piece of text a reader sees in the figure."""
    fig.canvas.draw()
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_every_figure_fits_the_output_area_unshrunk(real_arrays):
    """No PNG is wider than JupyterLab's output area at 1024 px, so it is shown at full size."""
    for name, make in every_figure(real_arrays).items():
        fig = make()
        width, height = png_size(fig)
        assert fig.dpi == plots.FIGURE_DPI, name
        assert width <= OUTPUT_AREA_PX, f"{name}: {width} px wide"
        assert height <= 720, f"{name}: {height} px tall, taller than a 768 px screen"


def test_every_text_is_at_least_15_px(real_arrays):
    """Every label, tick, legend entry, count and title is at least 11 pt, 15 px at the figure's dpi."""
    for name, make in every_figure(real_arrays).items():
        fig = make()
        for text in visible_texts(fig):
            pixels = text.get_fontsize() * fig.dpi / 72
            assert pixels >= MIN_TEXT_PX, f"{name}: {text.get_text()!r} is {pixels:.1f} px"


@pytest.mark.parametrize("name", ["class counts", "steps and readings"])
def test_user_rcparams_do_not_shrink_the_figures(real_arrays, name):
    """A small font.size or a low dpi in the user's matplotlibrc leaves the series' sizes alone."""
    with plt.rc_context({"font.size": 6, "figure.dpi": 50, "axes.titlesize": 6, "xtick.labelsize": 5}):
        fig = every_figure(real_arrays)[name]()
    assert fig.dpi == plots.FIGURE_DPI
    assert min(t.get_fontsize() for t in visible_texts(fig)) >= plots.MIN_FONT_SIZE


def test_mistake_gallery_titles_are_tall_and_apart():
    """Notebook 06's 20 captions like "6 → 5 (100%)": at least 15 px high, none overlapping another."""
    fig = plots.show_digits(
        digits(20), MISTAKE_TITLES, suptitle="Sequential network: most confident mistakes"
    )
    titles = [ax.title for ax in fig.axes if ax.title.get_text()]
    assert len(titles) == 20
    boxes = [extent(title, fig) for title in titles]
    figure_box = fig.bbox
    for title, box in zip(titles, boxes, strict=True):
        assert title.get_fontsize() * fig.dpi / 72 >= MIN_TEXT_PX, title.get_text()
        assert box.height >= 15, f"{title.get_text()!r} is {box.height:.1f} px high"
        assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1, f"{title.get_text()!r} is cut off"
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert overlap_area(a, b) == 0, "two captions overlap"


def test_mistake_gallery_titles_clear_the_digits_above_them():
    """A caption never runs into the image of the row above it."""
    fig = plots.show_digits(digits(20), MISTAKE_TITLES)
    fig.canvas.draw()
    images = [extent(ax.images[0], fig) for ax in fig.axes if ax.images]
    for ax in fig.axes:
        for image in images:
            assert overlap_area(extent(ax.title, fig), image) == 0


def test_show_digits_uses_fewer_columns_for_long_captions():
    """Twenty long captions go five to a row; short ones keep more columns; rows are evenly filled."""
    assert plots.digit_columns(MISTAKE_TITLES, 10) == 5
    assert plots.digit_columns([f"filter {i}" for i in range(32)], 8) >= 6
    assert plots.digit_columns([f"image {10_000 + i}" for i in range(12)], 12) == 4  # 5 fit: 3 rows of 4
    assert plots.digit_columns(["1", "2", "3"], 10) == 3
    assert plots.digit_columns(["7"] * 5, 2) == 2


def test_show_digits_keeps_its_signature_and_checks():
    """Columns and suptitle may be given by position, and images may carry a channel axis."""
    fig = plots.show_digits(digits(6)[..., None], [str(i) for i in range(6)], 3, "six digits")
    assert fig.get_suptitle() == "six digits"
    assert sum(1 for ax in fig.axes if ax.images) == 6
    with pytest.raises(ValueError, match="titles"):
        plots.show_digits(digits(2), ["one"])
    with pytest.raises(ValueError, match="no images"):
        plots.show_digits(digits(0), [])
    with pytest.raises(ValueError, match="columns"):
        plots.show_digits(digits(2), ["a", "b"], columns=0)


@pytest.mark.parametrize("name", ["class counts", "mistakes per digit"])
def test_bar_chart_legends_cover_no_bar(real_arrays, name):
    """The legend sits where it hides none of the bars."""
    fig = every_figure(real_arrays)[name]()
    fig.canvas.draw()
    (ax,) = fig.axes
    legend = extent(ax.get_legend(), fig)
    bars = [patch for patch in ax.patches if isinstance(patch, Rectangle)]
    assert len(bars) == 20
    for bar in bars:
        assert overlap_area(legend, extent(bar, fig)) == 0, (
            f"the legend covers the bar at x={bar.get_x():.1f}"
        )
    (title,) = [text for text in fig.texts if text.get_text() == fig.get_suptitle()]
    assert overlap_area(legend, extent(title, fig)) == 0, "the legend covers the title"


def test_history_legend_covers_no_curve():
    """The training-curve legend lies outside both axes."""
    fig = plots.plot_history({"Sequential": history(0), "functional": history(0.01)})
    fig.canvas.draw()
    (legend,) = fig.legends
    for ax in fig.axes:
        assert overlap_area(extent(legend, fig), ax.get_window_extent(fig.canvas.get_renderer())) == 0


def test_gallery_draws_ink_dark_on_white_and_photos_as_taken_with_one_title_each():
    """Ink values as show_digits draws them, photos as taken; empty cells are hidden, titles must match."""
    pictures = [np.zeros((28, 28), dtype=np.uint8), np.ones((28, 28), dtype="float32"), np.zeros((9, 6, 3))]
    fig = plots.gallery(pictures, ["paper", "ink", "colour"], columns=2)
    shown = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in shown] == ["paper", "ink", "colour"]
    assert len(fig.axes) == 4 and not fig.axes[3].axison  # a 2 × 2 grid, its last cell empty
    paper, ink, colour = (ax.images[0] for ax in shown)
    assert paper.get_cmap().name == "gray_r" and paper.get_clim() == (0, 255)
    assert ink.get_clim() == (0, 1) and colour.get_array().shape == (9, 6, 3)
    taken = plots.gallery(pictures[:1], ["a photo"], ink=False).axes[0].images[0]
    assert taken.get_cmap().name == "gray" and taken.get_clim() == (0, 255)
    with pytest.raises(ValueError, match="one title per picture"):
        plots.gallery(pictures, ["black"])
    with pytest.raises(ValueError, match="one title per picture"):
        plots.gallery([], [])


def test_mistakes_per_digit_start_at_zero_with_binomial_standard_errors():
    """Each bar is the share of a digit's images read wrong, in %, on an axis from 0, ± sqrt(p(1-p)/n)."""
    counts = np.diag(np.full(10, 990)) + 10 * np.eye(10, k=1, dtype=int) + 10 * np.eye(10, k=-9, dtype=int)
    counts[4, 9] = 40  # the 4s: 50 of 1,040 wrong
    fig = plots.plot_mistakes_per_digit({"Sequential": counts})
    (ax,) = fig.axes
    assert ax.get_ylim()[0] == 0 and ax.get_ylabel() == "% read wrong"
    heights = [bar.get_height() for bar in ax.patches]
    assert heights[4] == pytest.approx(100 * 50 / 1040) and heights[0] == pytest.approx(1.0)
    (whiskers,) = [c for c in ax.containers if not hasattr(c, "patches")]
    low, high = whiskers.lines[2][0].get_segments()[4][:, 1]
    assert (high - low) / 2 == pytest.approx(100 * np.sqrt(50 / 1040 * 990 / 1040 / 1040))


def test_history_names_the_held_out_images_and_can_show_the_loss_on_a_log_axis():
    """The dashed curves are labelled with what they were measured on; log ticks read as plain numbers."""
    fig = plots.plot_history({"Sequential": history(0)}, held_out="test", log_loss=True)
    labels = [text.get_text() for text in fig.legends[0].get_texts()]
    assert labels == ["Sequential: training", "Sequential: test"]
    loss_ax, accuracy_ax = fig.axes
    assert loss_ax.get_yscale() == "log" and accuracy_ax.get_yscale() == "linear"
    fig.canvas.draw()
    ticks = {text.get_text() for text in loss_ax.get_yticklabels() if text.get_text()}
    assert ticks and all(float(tick) > 0 for tick in ticks), ticks  # "0.05", not "5 × 10^-2"
    assert plots.plot_history({"Sequential": history(0)}).axes[0].get_yscale() == "linear"


def test_steps_figure_numbers_each_step_and_names_what_each_network_reads():
    """One picture per step, titled in order with its size below; the bars' legend says each reading."""
    steps = photo_steps()
    fig = plots.steps_figure(steps, readings())
    *pictures, bars = fig.axes
    expected = [f"{i + 1}. {handwriting.STEP_TITLES[name]}" for i, name in enumerate(steps)]
    assert [ax.get_title() for ax in pictures] == expected
    assert pictures[-1].get_xlabel() == "28 × 28"
    legend = [text.get_text() for text in bars.get_legend().get_texts()]
    assert legend == ["Sequential reads 1", "functional reads 7"]
    assert len(bars.patches) == 20 and bars.get_ylim() == (0, 1)
    assert len(plots.steps_figure(steps).axes) == len(steps)  # no bars without probabilities
    maps = [ax.images[0].get_cmap().name for ax in pictures]
    assert maps == ["gray"] + ["gray_r"] * (len(steps) - 1)  # the photo as taken, then ink dark on white


def test_figure_png_gives_the_png_and_closes_the_figure():
    """The PNG is the figure at FIGURE_DPI, and no notebook cell shows the figure a second time."""
    fig = plots.gallery(list(digits(2)), ["a", "b"], columns=2)
    width, height = fig.get_size_inches() * plots.FIGURE_DPI
    data = plots.figure_png(fig)
    assert Image.open(io.BytesIO(data)).size == (round(width), round(height))
    assert plt.get_fignums() == []


def test_calibration_figure_draws_each_bands_z_against_the_strip_of_noise():
    """One bar per network and band at its z, a grey strip for |z| < 1.96, legible at projector size."""
    from helpers import compare

    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1.0, 4_000)
    right = rng.uniform(size=4_000) < confidence**2  # wrong more often than the confidence says
    names = ["under 0.9", "0.9 to 0.99", "0.99 to 0.999", "0.999 or more"]
    rows = compare.calibration(confidence, right, [0.9, 0.99, 0.999], names)
    fig = plots.plot_calibration({"A": rows, "B": rows[:2]})
    (ax,) = fig.axes
    bars_a, bars_b = ax.containers
    assert [bar.get_height() for bar in bars_a] == pytest.approx([row.z for row in rows])
    assert len(bars_b) == 2 and [t.get_text() for t in ax.get_xticklabels()] == names[: len(rows)]
    strip = [p for p in ax.patches if p not in (*bars_a, *bars_b)]
    (low, high) = ax.transData.inverted().transform(strip[0].get_window_extent().get_points())[:, 1]
    assert (low, high) == pytest.approx((-plots.CALIBRATION_LIMIT, plots.CALIBRATION_LIMIT), rel=0.02)
    width, height = png_size(fig)
    assert width <= OUTPUT_AREA_PX and height <= 720
    assert all(t.get_fontsize() * fig.dpi / 72 >= MIN_TEXT_PX for t in visible_texts(fig))


def test_study_figure_keeps_validation_and_test_apart_and_reads_without_colour():
    """Validation above, test below; one timing for the minutes; a marker per step; legend off the data."""
    fig = plots.plot_study(study(), {"runs": [{"minutes": 4.4, "validation_accuracy_shifted": 0.995}]})
    fig.canvas.draw()
    study_ax, test_ax = fig.axes
    assert "validation" in study_ax.get_xlabel() and "test" not in study_ax.get_xlabel()
    assert test_ax.get_ylabel() == "test accuracy"
    assert "float32, alone on 2 cores" in test_ax.get_xlabel()
    # the target is a test accuracy: drawn on the test axes only
    target = [line for line in test_ax.get_lines() if line.get_label().startswith("target")]
    assert len(target) == 1 and set(target[0].get_ydata()) == {0.996}
    assert not any(line.get_label().startswith("target") for line in study_ax.get_lines())
    steps = ["compact", "augmentation", "smoothing", "final"]
    assert [tick.get_text() for tick in study_ax.get_yticklabels()] == [*steps, "sweep"]
    points = [bars.lines[0] for bars in study_ax.containers if bars.get_label() in steps]
    assert len({line.get_marker() for line in points}) == len(steps), "each step has its own marker"
    assert {to_hex(line.get_color()) for line in points} <= {to_hex(c) for c in plots.OKABE_ITO}
    # the final network sits at its seeds' mean test accuracy, at the minutes it took alone
    final = [bars.lines[0] for bars in test_ax.containers if bars.get_label().startswith("final network")]
    assert len(final) == 1 and final[0].get_xdata()[0] == 4.4
    assert final[0].get_ydata()[0] == pytest.approx(0.9945 + 0.0005 + 0.0001 / 3)
    (legend,) = [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    for ax in fig.axes:
        assert overlap_area(extent(legend, fig), ax.get_window_extent(fig.canvas.get_renderer())) == 0
