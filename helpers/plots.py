"""The figures of the series: digits, counts, pixel values, curves, confusion, mistakes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers.preprocess import NUM_CLASSES


def show_digits(
    images: np.ndarray,
    titles: Sequence[str],
    columns: int = 10,
    suptitle: str | None = None,
) -> Figure:
    """A grid of greyscale images (n, rows, cols), each with a title underneath (its label, say)."""
    images = np.asarray(images)
    if images.ndim == 4 and 1 in (images.shape[1], images.shape[3]):  # a channel axis of size 1
        images = images[:, 0] if images.shape[1] == 1 else images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"expected greyscale images of shape (n, rows, cols), got {images.shape}.")
    if len(images) != len(titles):
        raise ValueError(f"{len(images)} images but {len(titles)} titles.")
    if len(images) == 0:
        raise ValueError("there are no images to show.")
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.25 * columns, 1.55 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles, strict=False):
        ax.imshow(image, cmap="gray_r")
        ax.set_title(title, fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_class_counts(train_labels: np.ndarray, test_labels: np.ndarray) -> Figure:
    """Side-by-side bars: how many images of each digit the two splits hold."""
    digits = np.arange(NUM_CLASSES)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for offset, labels, name in ((-0.2, train_labels, "training"), (0.2, test_labels, "test")):
        counts = np.bincount(labels, minlength=NUM_CLASSES)
        ax.bar(digits + offset, counts, width=0.4, label=f"{name} ({len(labels):,} images)")
    ax.set_xticks(digits)
    ax.set_xlabel("digit")
    ax.set_ylabel("number of images")
    ax.set_title("How many images of each digit")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_pixel_histograms(raw: np.ndarray, scaled: np.ndarray) -> Figure:
    """The distribution of pixel values before (0..255) and after scaling (0..1)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, values, title in ((axes[0], raw, "raw uint8 pixels"), (axes[1], scaled, "scaled float32 pixels")):
        ax.hist(np.ravel(values), bins=50, log=True, color="tab:blue")
        ax.set_title(title)
        ax.set_xlabel("pixel value")
        ax.set_ylabel("count (log scale)")
    fig.tight_layout()
    return fig


def plot_history(histories: Mapping[str, Mapping[str, Sequence[float]]]) -> Figure:
    """Loss and accuracy per epoch, training (solid) and validation (dashed), per model."""
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(12, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (name, history), color in zip(histories.items(), colors, strict=False):
        epochs = np.arange(1, len(history["loss"]) + 1)
        for ax, metric in ((loss_ax, "loss"), (acc_ax, "accuracy")):
            ax.plot(epochs, history[metric], color=color, marker="o", ms=3, label=f"{name}: training")
            ax.plot(
                epochs,
                history[f"val_{metric}"],
                color=color,
                ls="--",
                marker="s",
                ms=3,
                label=f"{name}: validation",
            )
    loss_ax.set_title("Loss (lower is better)")
    loss_ax.set_ylabel("categorical cross-entropy")
    acc_ax.set_title("Accuracy (higher is better)")
    acc_ax.set_ylabel("share of images classified right")
    for ax in (loss_ax, acc_ax):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(counts: np.ndarray, title: str) -> Figure:
    """A confusion matrix with its counts written in each cell (log colour scale)."""
    fig, ax = plt.subplots(figsize=(6, 5.2))
    image = ax.imshow(counts + 1, cmap="Blues", norm=LogNorm())
    for (row, col), count in np.ndenumerate(counts):
        ax.text(
            col,
            row,
            str(count),
            ha="center",
            va="center",
            fontsize=8,
            color="white" if count > counts.max() / 10 else "black",
        )
    ax.set_xticks(range(NUM_CLASSES))
    ax.set_yticks(range(NUM_CLASSES))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="images + 1 (log scale)")
    fig.tight_layout()
    return fig


def plot_accuracy_per_digit(accuracies: Mapping[str, np.ndarray]) -> Figure:
    """Grouped bars: each model's accuracy on each digit, zoomed in on the top of the scale."""
    digits = np.arange(NUM_CLASSES)
    width = 0.8 / len(accuracies)
    fig, ax = plt.subplots(figsize=(9, 3.5))
    lowest = 1.0
    for i, (name, accuracy) in enumerate(accuracies.items()):
        ax.bar(digits + (i - (len(accuracies) - 1) / 2) * width, accuracy, width=width, label=name)
        lowest = min(lowest, float(np.min(accuracy)))
    ax.set_ylim(max(0.0, lowest - 0.02), 1.0)
    ax.set_xticks(digits)
    ax.set_xlabel("true digit")
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy on each digit of the test set")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
