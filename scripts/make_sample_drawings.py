"""Make the sample drawings and photos that notebook 07 reads when no one is drawing.

    python scripts/make_sample_drawings.py            # writes helpers/samples/

Two kinds of sample, listed with their digits in helpers/samples/samples.json:

* pad drawings: stroke lists as the drawing pad records them (JSON, pad units), written
  here by hand as a few points per digit; one is the same 7 drawn tiny in a corner;
* pictures: MNIST test digits made to look like what a student photographs or scans:
  enlarged, set off-centre on paper with uneven light and a blue pen, small in the corner
  of a scan, thickened as if written with a marker, or light chalk on a dark board. The
  networks never trained on them, and none is among the first MEASURED test digits,
  which notebook 07 measures, so no digit there is counted twice.

The output is deterministic (fixed digits, fixed noise seed), so re-running it changes
no file. It needs MNIST (see helpers.load_mnist).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from helpers import handwriting, load_mnist

Point = tuple[float, float]
Stroke = list[Point]

# --- Pad drawings, by hand: points in a unit box (x to the right, y down) ------------------------


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 24) -> Stroke:
    """Points on an ellipse from angle `start` to `end`, in degrees (0 = right, 90 = down)."""
    angles = np.radians(np.linspace(start, end, steps))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


def _zero() -> list[Stroke]:
    return [_arc(0.5, 0.5, 0.32, 0.5, -100, 265, steps=40)]


def _one() -> list[Stroke]:
    return [[(0.32, 0.2), (0.56, 0.0), (0.54, 0.5), (0.52, 1.0)]]


def _two() -> list[Stroke]:
    top = _arc(0.5, 0.3, 0.36, 0.3, 195, 380, steps=20)
    return [[*top, (0.6, 0.62), (0.1, 1.0), (0.5, 0.98), (0.92, 0.97)]]


def _four() -> list[Stroke]:
    return [[(0.45, 0.0), (0.08, 0.62), (0.95, 0.62)], [(0.72, 0.2), (0.7, 0.6), (0.68, 1.0)]]


def _seven() -> list[Stroke]:
    return [[(0.08, 0.04), (0.5, 0.02), (0.92, 0.0), (0.62, 0.5), (0.38, 1.0)]]


def _densify(stroke: Stroke, step: float = 3.0) -> Stroke:
    """Points every `step` pad units along each straight piece, as a moving pen reports them."""
    points = [stroke[0]]
    for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
        pieces = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        points += [(x0 + (x1 - x0) * i / pieces, y0 + (y1 - y0) * i / pieces) for i in range(1, pieces + 1)]
    return points


def _on_pad(strokes: list[Stroke], left: float, top: float, height: float) -> list[list[list[float]]]:
    """Place unit-box strokes on the pad: `height` pad units tall, the box's top-left at (left, top)."""
    placed = [[(left + x * height, top + y * height) for x, y in stroke] for stroke in strokes]
    return [[[round(x, 1), round(y, 1)] for x, y in _densify(stroke)] for stroke in placed]


PAD_DRAWINGS: list[tuple[str, int, str, Callable[[], list[Stroke]], tuple[float, float, float]]] = [
    # name, digit, how it was drawn, shape, (left, top, height) on the 280-unit pad
    ("pad-0", 0, "drawn on the pad, big", _zero, (70, 35, 210)),
    ("pad-1", 1, "drawn on the pad, with a small flag", _one, (85, 40, 200)),
    ("pad-2", 2, "drawn on the pad, big", _two, (60, 40, 200)),
    ("pad-4", 4, "drawn on the pad, two strokes", _four, (50, 45, 190)),
    ("pad-7", 7, "drawn on the pad, big", _seven, (50, 40, 200)),
    ("pad-7-tiny", 7, "the same 7 drawn tiny in the top-left corner", _seven, (14, 12, 34)),
]

# --- Pictures made from MNIST test digits ----------------------------------------------------------

PAPER = np.array([244, 237, 221], dtype="float64")  # cream paper
BLUE_INK = np.array([28, 42, 112], dtype="float64")  # a ballpoint pen
BOARD = np.array([38, 58, 50], dtype="float64")  # a green-grey chalkboard
CHALK = np.array([236, 236, 228], dtype="float64")


def _enlarge(digit: np.ndarray, factor: int) -> np.ndarray:
    """An MNIST digit `factor` times larger, smoothly, as float in [0, 1] (1 = ink)."""
    size = digit.shape[0] * factor
    return np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC)) / 255.0


def _composite(ink: np.ndarray, shape: tuple[int, int], at: tuple[int, int]) -> np.ndarray:
    """The ink placed on an empty canvas of `shape` (rows, cols) with its top-left corner at `at`."""
    canvas = np.zeros(shape)
    row, col = at
    canvas[row : row + ink.shape[0], col : col + ink.shape[1]] = ink
    return np.clip(canvas, 0.0, 1.0)


def _photo_on_paper(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Blue ink on cream paper, off-centre, lit from the top left, with camera noise: a JPEG photo."""
    ink = _composite(_enlarge(digit, 7), (300, 380), (30, 150))
    rows, cols = np.mgrid[0:300, 0:380]
    light = 1.0 - 0.22 * (rows / 300 + cols / 380) / 2  # darker towards the bottom right
    colour = (PAPER * (1 - ink[..., None]) + BLUE_INK * ink[..., None]) * light[..., None]
    colour += rng.normal(0, 4.0, colour.shape)
    return Image.fromarray(np.clip(colour, 0, 255).astype(np.uint8), "RGB")


def _scan_corner(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A small dark digit in the top-right corner of a large white scan (clean: scanners add little noise)."""
    ink = _composite(_enlarge(digit, 2), (360, 360), (8, 290))
    grey = 250 - 235 * ink
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L")


def _marker(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Thick strokes, as from a felt marker: the digit's strokes widened, dark on white.

    Each stroke grows by 10 pixels on every side of the 6-times enlarged digit, so that
    after MNIST-style preprocessing it is more than twice as wide as MNIST's median stroke
    and wider than 99 % of the test digits' (notebook 07 measures it).
    """
    ink = Image.fromarray((_enlarge(digit, 6) * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(21))
    ink = _composite(np.asarray(ink) / 255.0, (220, 220), (26, 26))
    grey = 252 - 240 * ink
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L")


def _chalk(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Light chalk on a dark board: already light on dark, so nothing is inverted."""
    ink = _composite(_enlarge(digit, 6), (240, 260), (40, 30)) * rng.uniform(0.75, 1.0, (240, 260))
    colour = BOARD * (1 - ink[..., None]) + CHALK * ink[..., None] + rng.normal(0, 5.0, (240, 260, 1))
    return Image.fromarray(np.clip(colour, 0, 255).astype(np.uint8), "RGB")


MEASURED = 1000  # notebook 07 measures distribution shift on the first 1,000 test digits

PICTURES: list[tuple[str, int, str, int, Callable[[np.ndarray, np.random.Generator], Image.Image]]] = [
    # name (with the file's extension), digit, how it was made, index in the MNIST test set, maker
    ("photo-3.jpg", 3, "blue pen on paper, off-centre, uneven light", 1284, _photo_on_paper),
    ("scan-5.png", 5, "small, in the corner of a white scan", 1041, _scan_corner),
    ("marker-8.png", 8, "thick marker strokes, dark on white", 1946, _marker),
    ("chalk-9.jpg", 9, "chalk on a dark board", 1058, _chalk),
]


def make_samples(folder: Path) -> list[dict[str, object]]:
    """Write every sample file and the index into `folder`; return the index's entries."""
    folder.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, object]] = []
    for name, digit, about, shape, (left, top, height) in PAD_DRAWINGS:
        strokes = _on_pad(shape(), left, top, height)
        drawing = {
            "size": handwriting.PAD_SIZE,
            "pen_width": handwriting.PEN_WIDTH,
            "strokes": strokes,
        }
        (folder / f"{name}.json").write_text(json.dumps(drawing, separators=(",", ":")) + "\n")
        entries.append({"file": f"{name}.json", "digit": digit, "about": about})
    (_, _), (x_test, y_test) = load_mnist()
    rng = np.random.default_rng(7)
    for file_name, digit, about, index, maker in PICTURES:
        if y_test[index] != digit:
            raise ValueError(f"MNIST test image {index} is a {y_test[index]}, not a {digit}.")
        if index < MEASURED:
            raise ValueError(f"MNIST test image {index} is among the {MEASURED:,} that notebook 07 measures.")
        picture = maker(x_test[index], rng)
        options = {"quality": 88} if file_name.endswith(".jpg") else {"optimize": True}
        picture.save(folder / file_name, **options)
        entries.append({"file": file_name, "digit": digit, "about": f"{about} (MNIST test image {index})"})
    index_file = {
        "about": "Made by scripts/make_sample_drawings.py; read by helpers.handwriting.load_samples.",
        "samples": entries,
    }
    (folder / handwriting.SAMPLES_INDEX).write_text(json.dumps(index_file, indent=1) + "\n")
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output-dir", type=Path, default=handwriting.SAMPLES_DIR, help="where to write")
    args = parser.parse_args()
    for entry in make_samples(args.output_dir):
        size = (args.output_dir / str(entry["file"])).stat().st_size
        print(f"{entry['file']:18} {entry['digit']}  {size / 1000:5.1f} kB  {entry['about']}")


if __name__ == "__main__":
    main()
