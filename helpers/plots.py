"""The figures of the series: digits, counts, pixel values, curves, confusion, mistakes, own digits.

Every figure is drawn for a class watching JupyterLab on a 1024 x 768 projector:
at most MAX_FIGURE_WIDTH inches wide at FIGURE_DPI, so the PNG fits the output
area JupyterLab gives a notebook at that window size (about 590 px with the file
browser open) and is not shrunk, and no text smaller than MIN_FONT_SIZE points.
Legends sit outside the axes, where they cover no data.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextPath
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from helpers import handwriting
from helpers.preprocess import NUM_CLASSES

FIGURE_DPI = 100  # pixels per inch of the PNGs the notebooks show
MAX_FIGURE_WIDTH = 5.6  # inches: 560 px, inside JupyterLab's output area at a 1024 px window
MIN_FONT_SIZE = 11  # points (15 px at FIGURE_DPI): ticks, labels, legends, counts in cells
TITLE_SIZE = 13  # points: axes titles
SUPTITLE_SIZE = 14  # points: figure titles
DIGIT_TITLE_SIZE = 11  # points: the caption above each digit in show_digits
MAX_DIGIT_SIZE = 1.2  # inches: a digit is drawn no larger than this, however few there are
MIN_DIGIT_SIZE = 0.7  # inches: and no smaller, however many columns are asked for
_CAPTION_GAP = 0.1  # inches at least between neighbouring captions

PROJECTOR_STYLE = {
    "figure.dpi": FIGURE_DPI,
    "font.size": MIN_FONT_SIZE,
    "axes.titlesize": TITLE_SIZE,
    "axes.labelsize": MIN_FONT_SIZE,
    "xtick.labelsize": MIN_FONT_SIZE,
    "ytick.labelsize": MIN_FONT_SIZE,
    "legend.fontsize": MIN_FONT_SIZE,
    "legend.title_fontsize": MIN_FONT_SIZE,
    "figure.titlesize": SUPTITLE_SIZE,
}

# Every figure is built under PROJECTOR_STYLE (@_projector_figure), so its text sizes hold whatever
# the user's rcParams say.
_projector_figure = plt.rc_context(PROJECTOR_STYLE)


def text_width(text: str, size: float) -> float:
    """Width in inches of one line of text at a font size in points, in the default font."""
    return TextPath((0, 0), text, size=size, prop=FontProperties()).get_extents().width / 72


def _widest_caption(titles: Sequence[str]) -> float:
    """Width in inches of the longest caption at DIGIT_TITLE_SIZE."""
    with plt.rc_context(PROJECTOR_STYLE):
        return max((text_width(title, DIGIT_TITLE_SIZE) for title in titles), default=0.0)


def digit_columns(titles: Sequence[str], columns: int) -> int:
    """How many digits go in a row: at most `columns`, captions readable and apart, rows evenly filled."""
    cell = max(MIN_DIGIT_SIZE, _widest_caption(titles) + _CAPTION_GAP)
    fitting = max(1, min(columns, len(titles), math.floor(MAX_FIGURE_WIDTH / cell)))
    rows = -(-len(titles) // fitting)
    return -(-len(titles) // rows)  # 12 digits in rows of at most 5: 3 rows of 4, not 5 + 5 + 2


@_projector_figure
def show_digits(
    images: np.ndarray,
    titles: Sequence[str],
    columns: int = 10,
    suptitle: str | None = None,
) -> Figure:
    """A grid of greyscale images (n, rows, cols), each with its caption above it (its label, say).

    `columns` is the most digits per row; fewer are used when the captions would
    not fit side by side in MAX_FIGURE_WIDTH at DIGIT_TITLE_SIZE.
    """
    images = np.asarray(images)
    if images.ndim == 4 and 1 in (images.shape[1], images.shape[3]):  # a channel axis of size 1
        images = images[:, 0] if images.shape[1] == 1 else images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"expected greyscale images of shape (n, rows, cols), got {images.shape}.")
    if len(images) != len(titles):
        raise ValueError(f"{len(images)} images but {len(titles)} titles.")
    if len(images) == 0:
        raise ValueError("there are no images to show.")
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}.")
    columns = digit_columns(titles, columns)
    rows = -(-len(images) // columns)
    cell = max(_widest_caption(titles) + _CAPTION_GAP, min(MAX_DIGIT_SIZE, MAX_FIGURE_WIDTH / columns))
    side = min(cell, MAX_DIGIT_SIZE) - 0.1  # each digit is a square this wide, centred in its column
    caption = 1.7 * DIGIT_TITLE_SIZE / 72  # a caption's line and its gap to the digit below
    row = caption + side + 0.05
    top = 0.45 if suptitle else 0.0
    headline = text_width(suptitle, SUPTITLE_SIZE) + 0.2 if suptitle else 0.0
    width = max(columns * cell, min(headline, MAX_FIGURE_WIDTH))
    height = rows * row + top
    margin = (width - columns * cell) / 2  # centres the grid under a headline wider than it
    fig = plt.figure(figsize=(width, height))
    for i, (image, title) in enumerate(zip(images, titles, strict=True)):
        r, c = divmod(i, columns)
        left = margin + c * cell + (cell - side) / 2
        bottom = height - top - r * row - caption - side
        ax = fig.add_axes((left / width, bottom / height, side / width, side / height))
        ax.imshow(image, cmap="gray_r")
        ax.set_title(title, fontsize=DIGIT_TITLE_SIZE, pad=0.3 * DIGIT_TITLE_SIZE)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, y=1 - 0.08 / height, va="top")
    return fig


def _legend_above(ax: plt.Axes, columns: int) -> None:
    """A legend in a row above the axes, below their title, where it covers no data."""
    ax.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=columns,
        frameon=False,
        borderaxespad=0.2,
        handlelength=1.5,
        columnspacing=1.2,
    )


@_projector_figure
def plot_class_counts(train_labels: np.ndarray, test_labels: np.ndarray) -> Figure:
    """Side-by-side bars: how many images of each digit the two splits hold."""
    digits = np.arange(NUM_CLASSES)
    fig, ax = plt.subplots(figsize=(MAX_FIGURE_WIDTH, 3.8), layout="constrained")
    for offset, labels, name in ((-0.2, train_labels, "training"), (0.2, test_labels, "test")):
        counts = np.bincount(labels, minlength=NUM_CLASSES)
        ax.bar(digits + offset, counts, width=0.4, label=f"{name} ({len(labels):,} images)")
    ax.set_xticks(digits)
    ax.set_xlabel("digit")
    ax.set_ylabel("number of images")
    fig.suptitle("How many images of each digit")
    _legend_above(ax, columns=2)
    return fig


@_projector_figure
def plot_pixel_histograms(raw: np.ndarray, scaled: np.ndarray) -> Figure:
    """The distribution of pixel values before (0..255) and after scaling (0..1), one above the other."""
    fig, axes = plt.subplots(2, 1, figsize=(MAX_FIGURE_WIDTH, 5.4), layout="constrained")
    for ax, values, title in ((axes[0], raw, "raw uint8 pixels"), (axes[1], scaled, "scaled float32 pixels")):
        ax.hist(np.ravel(values), bins=50, log=True, color="tab:blue")
        ax.set_title(title)
        ax.set_xlabel("pixel value")
        ax.set_ylabel("count (log scale)")
    return fig


@_projector_figure
def plot_history(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    held_out: str = "validation",
    *,
    log_loss: bool = False,
) -> Figure:
    """Loss above accuracy per epoch, training (solid) and held-out (dashed), per model.

    `held_out` names the images the dashed curves were measured on ("validation",
    or "test" for the recipes, which watched the test set) in the legend. With
    `log_loss` the loss axis is logarithmic, ticked at 1, 2 and 5 times powers of ten.
    """
    fig, (loss_ax, acc_ax) = plt.subplots(2, 1, figsize=(MAX_FIGURE_WIDTH, 6.6), layout="constrained")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (name, history), color in zip(histories.items(), colors, strict=False):
        epochs = np.arange(1, len(history["loss"]) + 1)
        for ax, metric in ((loss_ax, "loss"), (acc_ax, "accuracy")):
            for key, ls, marker, images in (
                (metric, "-", "o", "training"),
                (f"val_{metric}", "--", "s", held_out),
            ):
                ax.plot(
                    epochs, history[key], color=color, ls=ls, marker=marker, ms=4, label=f"{name}: {images}"
                )
    loss_ax.set_title("Loss (lower is better)")
    loss_ax.set_ylabel("cross-entropy (log scale)" if log_loss else "cross-entropy")
    if log_loss:
        loss_ax.set_yscale("log")
        loss_ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        loss_ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        loss_ax.yaxis.set_minor_formatter(NullFormatter())
    acc_ax.set_title("Accuracy (higher is better)")
    acc_ax.set_ylabel("share right")
    for ax in (loss_ax, acc_ax):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    handles, labels = loss_ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=2, frameon=False)
    return fig


@_projector_figure
def plot_confusion_matrix(counts: np.ndarray, title: str) -> Figure:
    """A confusion matrix with its counts written in each cell (log colour scale)."""
    fig, ax = plt.subplots(figsize=(MAX_FIGURE_WIDTH, 5.4), layout="constrained")
    image = ax.imshow(counts + 1, cmap="Blues", norm=LogNorm())
    for (row, col), count in np.ndenumerate(counts):
        ax.text(
            col,
            row,
            str(count),
            ha="center",
            va="center",
            fontsize=MIN_FONT_SIZE,
            color="white" if count > counts.max() / 10 else "black",
        )
    ax.set_xticks(range(NUM_CLASSES))
    ax.set_yticks(range(NUM_CLASSES))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="images + 1 (log scale)", fraction=0.04, pad=0.03)
    return fig


@_projector_figure
def plot_mistakes_per_digit(confusions: Mapping[str, np.ndarray]) -> Figure:
    """Grouped bars from 0: each model's share of each digit's images read wrong, ± its standard error.

    The whiskers are the binomial standard error sqrt(p (1 - p) / n) of a share p
    measured on n images: gaps between bars much smaller than two whiskers are noise.
    """
    digits = np.arange(NUM_CLASSES)
    width = 0.8 / len(confusions)
    fig, ax = plt.subplots(figsize=(MAX_FIGURE_WIDTH, 3.8), layout="constrained")
    for i, (name, counts) in enumerate(confusions.items()):
        images = counts.sum(axis=1)
        wrong = 1 - np.diag(counts) / images
        error = np.sqrt(wrong * (1 - wrong) / images)
        offset = (i - (len(confusions) - 1) / 2) * width
        ax.bar(digits + offset, 100 * wrong, width=width, label=name)
        ax.errorbar(digits + offset, 100 * wrong, yerr=100 * error, fmt="none", ecolor="black", capsize=2)
    ax.set_ylim(bottom=0)
    ax.set_xticks(digits)
    ax.set_xlabel("true digit")
    ax.set_ylabel("% read wrong")
    fig.suptitle("Mistakes on each digit of the test set")
    ax.grid(axis="y", alpha=0.3)
    _legend_above(ax, columns=min(len(confusions), 3))
    return fig


# --- Pictures of a student's own digits (notebook 07) ---------------------------------------------


def _show_picture(
    ax: Axes, picture: np.ndarray, title: str, caption: str | None = None, *, ink: bool = True
) -> None:
    """A picture with a title above and a caption below.

    With `ink`, its grey levels are ink (0 paper, 1 or 255 full ink) and are drawn
    as show_digits draws digits, dark on white ("gray_r"). Otherwise it is shown
    as taken: grey levels as brightness (0 black, "gray"), or in colour.
    """
    picture = np.asarray(picture)
    if picture.ndim == 2:
        top = 255 if picture.dtype == np.uint8 else 1
        cmap = "gray_r" if ink else "gray"
        ax.imshow(picture, cmap=cmap, vmin=0, vmax=top, interpolation="nearest")
    else:
        ax.imshow(picture, interpolation="antialiased")
    ax.set_title(title, fontsize=DIGIT_TITLE_SIZE)
    if caption:
        ax.set_xlabel(caption)
    ax.set_xticks([])
    ax.set_yticks([])


@_projector_figure
def gallery(
    pictures: Sequence[np.ndarray], titles: Sequence[str], columns: int = 5, *, ink: bool = True
) -> Figure:
    """Pictures in a grid, each with a title of one or two lines.

    `ink=True`: grey levels are ink, drawn dark on white like every digit in the
    series; `ink=False`: pictures as taken (a photo, a drawing as the pad shows it).
    """
    if len(pictures) != len(titles) or not pictures:
        raise ValueError(f"{len(pictures)} pictures and {len(titles)} titles: give one title per picture.")
    rows = -(-len(pictures) // columns)
    lines = max(title.count("\n") + 1 for title in titles)
    cell = MAX_FIGURE_WIDTH / columns
    fig = plt.figure(figsize=(MAX_FIGURE_WIDTH, rows * (cell + 0.25 * lines)), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, picture, title in zip(axes.flat, pictures, titles, strict=False):
        ax.axis("on")
        _show_picture(ax, picture, title, ink=ink)
    return fig


@_projector_figure
def steps_figure(
    steps: Mapping[str, np.ndarray],
    probabilities: Mapping[str, np.ndarray] | None = None,
) -> Figure:
    """The preprocessing steps, three to a row, with each network's probabilities below if given.

    The first step, the greyscale picture, is shown as taken (0 black); every step
    after it holds ink values and is drawn dark on white, as the series draws digits.
    """
    rows = -(-len(steps) // 3)
    heights = [1.0] * rows + ([1.1] if probabilities else [])
    fig = plt.figure(figsize=(MAX_FIGURE_WIDTH, 2.2 * sum(heights)), layout="constrained")
    grid = fig.add_gridspec(len(heights), 3, height_ratios=heights)
    for index, (name, picture) in enumerate(steps.items()):
        height, width = picture.shape
        title = f"{index + 1}. {handwriting.STEP_TITLES.get(name, name)}"
        ax = fig.add_subplot(grid[index // 3, index % 3])
        _show_picture(ax, picture, title, f"{width} × {height}", ink=name != "greyscale")
    if probabilities:
        ax = fig.add_subplot(grid[rows, :])
        digits = np.arange(NUM_CLASSES)
        width = 0.8 / len(probabilities)
        for i, (name, p) in enumerate(probabilities.items()):
            offset = (i - (len(probabilities) - 1) / 2) * width
            ax.bar(digits + offset, p, width, label=f"{name} reads {int(np.argmax(p))}")
        ax.set_xticks(digits)
        ax.set_ylim(0, 1)
        ax.set_xlabel("digit")
        ax.set_ylabel("probability")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False)
        ax.grid(axis="y", alpha=0.3)
    return fig


def figure_png(fig: Figure) -> bytes:
    """A figure as PNG bytes at FIGURE_DPI; the figure is closed, so the notebook does not show it again."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
    plt.close(fig)
    return buffer.getvalue()


# Okabe and Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/), in the order the study's
# steps take them; each step also has its own marker, so the figure reads in grey too.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
STEP_MARKERS = ("o", "s", "^", "v", "<", ">", "p", "h")
TARGET_COLOR = "#D55E00"  # vermillion, dashed: the target on the test axis
# Reference points beside the study: the recipes as the series trains them (test accuracy, mean of 10 seeds;
# their minutes are 20 and 12 float32 epochs of the recipes' own code on a 2-core AMD EPYC with AVX-512 BF16,
# benchmarks/README.md, Training speed), and published networks, which give no cost here.
ANCHORS = (
    {"name": "Sequential recipe", "accuracy": 0.9921, "tflop": 86.3, "minutes": 12.9},  # 20 x 38.7 s
    {"name": "functional recipe", "accuracy": 0.9902, "tflop": 51.1, "minutes": 4.1},  # 12 x 20.5 s
    {"name": "Deotte, one network", "accuracy": 0.9964},  # mean over many runs
    {"name": "Deotte, 15 networks", "accuracy": 0.9975},
)


@_projector_figure
def plot_study(study: Mapping, timing: Mapping | None = None) -> Figure:
    """The study on the validation set (above); the final network and the recipes on the test set (below).

    Above: each step's mean validation accuracy with shifts and the range of its
    seeds, then the sweep's runs; no test number is drawn there. Below: test
    accuracy against training minutes (float32, alone on 2 cores) for the
    recipes and, from `timing`, the final network; published networks and the
    target are horizontal lines.
    """
    fig, (study_ax, test_ax) = plt.subplots(2, 1, figsize=(MAX_FIGURE_WIDTH, 7.0), layout="constrained")
    steps = [run for run in study["runs"] if not run["sweep"]]
    names = list(dict.fromkeys(run["step"] for run in steps))
    style = {
        name: (OKABE_ITO[k % len(OKABE_ITO)], STEP_MARKERS[k % len(STEP_MARKERS)])
        for k, name in enumerate(names)
    }

    def with_range(
        ax: Axes, at: float, values: list[float], name: str, label: str, across: bool = False
    ) -> None:
        mean = float(np.mean(values))
        color, marker = style.get(name, ("black", "o"))
        bar = [[mean - min(values)], [max(values) - mean]]
        where = dict(x=mean, y=at, xerr=bar) if across else dict(x=at, y=mean, yerr=bar)
        ax.errorbar(**where, fmt=marker, ms=8, capsize=3, color=color, label=label)

    # Above: one row per step, top to bottom in the study's order, accuracy across.
    for k, name in enumerate(names):
        same = [run for run in steps if run["step"] == name]
        values = [run["validation_accuracy_shifted"] for run in same]
        with_range(study_ax, k, values, name, name, across=True)
    sweep = [run for run in study["runs"] if run["sweep"]]
    if sweep:  # one row, spread up and down so that equal scores stay visible
        study_ax.plot(
            [run["validation_accuracy_shifted"] for run in sweep],
            len(names) + np.linspace(-0.25, 0.25, len(sweep)),
            "x",
            color="0.35",
            ms=7,
        )
    rows = [*names, "sweep"] if sweep else names
    study_ax.set_yticks(range(len(rows)), rows)
    study_ax.set_ylim(len(rows) - 0.5, -0.5)
    seeds = len(steps) // max(len(names), 1)
    study_ax.set_xlabel(
        f"validation accuracy, with shifts\n(steps: mean and range of {seeds} seeds; sweep: seed 1)"
    )
    study_ax.xaxis.set_major_locator(MaxNLocator(5))

    for anchor, marker in zip(
        [anchor for anchor in ANCHORS if "minutes" in anchor], ("P", "X"), strict=False
    ):
        test_ax.plot(
            anchor["minutes"],
            anchor["accuracy"],
            marker=marker,
            ms=9,
            color="black",
            mfc="none",
            ls="none",
            label=anchor["name"],
        )
    # Only the final step's networks met the test set.
    finals = [run for run in steps if run.get("test_accuracy_shifted")]
    if timing and finals:
        [alone] = timing["runs"]
        values = [run["test_accuracy_shifted"] for run in finals]
        with_range(
            test_ax, alone["minutes"], values, finals[0]["step"], f"final network ({len(finals)} seeds)"
        )
    published = [anchor for anchor in ANCHORS if "minutes" not in anchor]
    for anchor, line in zip(published, (":", "-."), strict=False):
        test_ax.axhline(anchor["accuracy"], color="black", ls=line, lw=1.2, label=f"{anchor['name']} (GPU)")
    test_ax.axhline(0.996, color=TARGET_COLOR, ls="--", lw=1.5, label="target: 0.9960")
    test_ax.set_xlabel("training minutes (float32, alone on 2 cores)")
    test_ax.set_ylabel("test accuracy")
    test_ax.set_xlim(left=0)
    test_ax.margins(y=0.08)
    for ax in (study_ax, test_ax):
        ax.grid(alpha=0.3)
    _legend_above(test_ax, 2)
    return fig


# --- Calibration per confidence band (notebook 06) ------------------------------------------------

CALIBRATION_LIMIT = 1.96  # |z| of one test at 5 %; helpers.compare.calibration judges by its exact test


@_projector_figure
def plot_calibration(bands: Mapping[str, Sequence]) -> Figure:
    """Per confidence band, each network's z: its mistakes against those its confidences predict.

    `bands` maps a network's name to its rows from `helpers.compare.calibration`.
    The grey strip, |z| < 1.96, is one band within noise at 5 %. The axis is
    linear within ±2 and logarithmic beyond, so a very large z does not flatten
    the others.
    """
    names = list(dict.fromkeys(row.name for rows in bands.values() for row in rows))
    width = 0.8 / len(bands)
    fig, ax = plt.subplots(figsize=(MAX_FIGURE_WIDTH, 3.8), layout="constrained")
    ax.axhspan(-CALIBRATION_LIMIT, CALIBRATION_LIMIT, color="0.88", label=f"|z| < {CALIBRATION_LIMIT}")
    for i, (network, rows) in enumerate(bands.items()):
        offset = (i - (len(bands) - 1) / 2) * width
        x = [names.index(row.name) + offset for row in rows]
        ax.bar(x, [row.z for row in rows], width=width, color=OKABE_ITO[i % len(OKABE_ITO)], label=network)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_yscale("symlog", linthresh=2)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.set_xticks(range(len(names)), names)
    ax.set_xlabel("confidence band")
    ax.set_ylabel("z of the mistakes")
    ax.grid(axis="y", alpha=0.3)
    fig.suptitle("More mistakes than the confidence says (z > 0)?")
    _legend_above(ax, columns=min(len(bands) + 1, 3))
    return fig
