"""Turn handwriting (strokes on a pad, photos, scans) into 28 × 28 digits made the way MNIST's were.

LeCun, Cortes and Burges describe how MNIST's digits were made
(http://yann.lecun.com/exdb/mnist/): each digit was size-normalised to fit a 20 × 20
box while keeping its aspect ratio, anti-aliased (which is why grey levels appear),
and then centred in a 28 × 28 image by its centre of mass. Each pixel says how much
ink it holds, 0 for none (the background) up to full ink. A network trained on MNIST
has only ever seen digits made that way.
`preprocess` makes any drawing or photo look like one; `preprocess_steps` keeps every
intermediate picture, so a notebook can show what each step does.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageOps
from scipy import ndimage

BOX = 20  # MNIST: the longer side of each digit, in pixels
FRAME = 28  # MNIST: the side of each image
# Where MNIST puts a digit's centre of mass, in pixel-index coordinates (row, column): over
# the 10,000 test digits it averages 14.0 in both, within ±0.5 because MNIST shifted by whole pixels.
CENTRE = 14.0

PAD_SIZE = 280  # the drawing pad's side, in its own units (CSS pixels in the browser)
PEN_WIDTH = 20.0  # the pad's pen, in the same units: about MNIST's strokes once a digit fills the pad

# Limits on an upload, checked before it is decoded. Bytes: the Jupyter server drops any
# message over 10 MiB, so larger files never arrive. Pixels: a small file can still unpack
# into an enormous image (a "decompression bomb").
MAX_UPLOAD_BYTES = 8_000_000
MAX_PIXELS = 40_000_000
WORKING_SIDE = 1000  # photos are shrunk to this longer side first: faster, and the noise averages out

NOISE_SIGMAS = 4.0  # grey levels this many noise-spreads above the background count as ink
MIN_FLOOR = 0.02  # ... and at least this far above it
MIN_CONTRAST = 0.15  # ink must stand out this much from the background, or there is no digit
CLIP_SIGMAS = 3.0  # measuring the background: pixels this many spreads above its level are ink
CLIP_ROUNDS = 20  # ... re-measured at most this often (it settles in a few)
SPREAD_SAMPLES = 200_000  # pixels enough to measure it on: every n-th pixel of a large photo

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
SAMPLES_INDEX = "samples.json"


class HandwritingError(ValueError):
    """Input that cannot be read as a digit; the message says why, in words meant for a student."""


# --- Reading the input -------------------------------------------------------------------------


def open_image(data: bytes, name: str = "The file") -> Image.Image:
    """Decode an uploaded file into an image, refusing what is empty, too large or not an image."""
    if not data:
        raise HandwritingError(f"{name} is empty: there is no picture in it.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise HandwritingError(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB. "
            "Crop the photo or save it smaller (a few hundred pixels across is plenty)."
        )
    limit = f"the limit is {MAX_PIXELS / 1e6:.0f} megapixels. Crop it, or take a smaller photo."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            width, height = image.size
            if width * height > MAX_PIXELS:
                megapixels = width * height / 1e6
                raise HandwritingError(
                    f"{name} is {width:,} × {height:,} pixels ({megapixels:.0f} megapixels); {limit}"
                )
            image.draft(None, (WORKING_SIDE, WORKING_SIDE))  # JPEG: decode at a reduced size, fast
            image.load()
            return ImageOps.exif_transpose(image)  # phone photos: turn them the way they were taken
    except HandwritingError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise HandwritingError(f"{name} has far too many pixels; {limit}") from None
    except Image.UnidentifiedImageError:
        raise HandwritingError(
            f"{name} is not a picture that can be read. Upload a PNG or JPEG photo of one digit."
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:  # what Pillow raises for damaged files
        raise HandwritingError(f"{name} looks damaged and cannot be read ({error}).") from None


def render_strokes(
    strokes: Sequence[Sequence[Sequence[float]]],
    size: int = PAD_SIZE,
    pen_width: float = PEN_WIDTH,
) -> np.ndarray:
    """Draw a pad's strokes (lists of (x, y) points) as the student saw them: dark ink on white, uint8."""
    if not strokes or not any(len(stroke) for stroke in strokes):
        raise HandwritingError("The pad is empty: draw a digit first, big enough to fill most of the pad.")
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    radius = pen_width / 2
    try:
        for stroke in strokes:
            points = [(float(x), float(y)) for x, y in stroke]
            if not all(math.isfinite(x) and math.isfinite(y) for x, y in points):
                raise ValueError("a point is not a number")
            if len(points) > 1:
                draw.line(points, fill=0, width=max(1, round(pen_width)))
            for x, y in points:  # round ends and joints, as the browser draws them
                draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)
    except (TypeError, ValueError):
        raise HandwritingError(
            "The drawing could not be read: each stroke must be a list of (x, y) points."
        ) from None
    return np.asarray(image)


def to_greyscale(image: Image.Image | np.ndarray) -> np.ndarray:
    """One grey level per pixel, float32 from 0 (black) to 1 (white); see-through pixels count as white."""
    if isinstance(image, np.ndarray):
        array = image
        if array.dtype != np.uint8:
            array = np.clip(np.nan_to_num(array.astype("float64")), 0, 1)
            array = (array * 255).round().astype(np.uint8)
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
            raise HandwritingError(f"Expected a grey or colour picture, not an array of shape {array.shape}.")
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        image = Image.fromarray(array)
    if image.width < 1 or image.height < 1:
        raise HandwritingError("The picture has no pixels.")
    if image.mode in ("RGBA", "LA", "PA", "P") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    grey = image.convert("L")  # ITU-R 601 luma: 0.299 R + 0.587 G + 0.114 B
    if max(grey.size) > WORKING_SIDE:
        grey.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.BOX)
    return np.asarray(grey, dtype="float32") / 255.0


# --- The MNIST-style steps -----------------------------------------------------------------------


def invert_if_light(grey: np.ndarray) -> np.ndarray:
    """Make the ink the high values, as in MNIST: invert when the ink is darker than the paper.

    Most of a picture is paper, so its median grey level is the paper's, and the
    ink pulls the mean away from it: below it for dark ink on paper, above it for
    chalk on a board. The rule holds whatever the exposure: a photo of white paper
    taken close is often mid-grey.
    """
    return 1.0 - grey if float(np.mean(grey)) < float(np.median(grey)) else grey.copy()


def _background_level(ink: np.ndarray) -> np.ndarray:
    """The background's level around each pixel: the lowest ink value nearby, smoothed.

    Uneven light on a photo (a shadow, a brighter corner) makes the paper's level
    vary; subtracting this map takes it out. The minimum over 5 × 5 blocks, each a
    sixteenth of the picture wide, is background as long as no blob of ink covers such an area.
    """
    rows, cols = ink.shape
    block = max(2, math.ceil(max(rows, cols) / 16))
    padded = np.pad(ink, ((0, -rows % block), (0, -cols % block)), mode="edge")
    minima = padded.reshape(padded.shape[0] // block, block, padded.shape[1] // block, block).min(axis=(1, 3))
    neighbourhood = ndimage.minimum_filter(minima, size=5, mode="nearest")
    level = Image.fromarray(neighbourhood.astype("float32"), mode="F").resize(
        (cols, rows), Image.Resampling.BILINEAR
    )
    return np.minimum(np.asarray(level, dtype="float32"), ink)


def _background_spread(flat: np.ndarray) -> tuple[float, float]:
    """The background's grey level and noise spread (median and scaled MAD) in a flattened picture.

    They are measured on the background only, found by sigma clipping: start from
    the darker half of the pixels, then keep every pixel up to CLIP_SIGMAS spreads
    above the level, until the set stops changing. A close-up whose strokes and
    their blurred edges cover nearly half the picture has the same background
    as one with a margin of paper, and a blank picture is all background.
    """
    values = flat.ravel()[:: max(1, flat.size // SPREAD_SAMPLES)]
    background = values[values <= np.median(values)]
    for _ in range(CLIP_ROUNDS):
        level = float(np.median(background))
        noise = 1.4826 * float(np.median(np.abs(background - level)))
        kept = values[values <= level + CLIP_SIGMAS * noise]
        if kept.size == background.size:
            break
        background = kept
    return level, noise


def remove_background(ink: np.ndarray) -> np.ndarray:
    """Set the background to exactly 0 and the strongest ink to 1, as in MNIST; fail if there is no ink."""
    flat = ink - _background_level(ink)
    level, noise = _background_spread(flat)
    floor = level + max(NOISE_SIGMAS * noise, MIN_FLOOR)
    peak = float(flat.max())
    if peak - floor < MIN_CONTRAST:
        raise HandwritingError(
            "No digit found: the picture is one even shade (blank, or all black). "
            "Write the digit darker, or photograph it closer and in better light."
        )
    clean = np.clip((flat - floor) / (peak - floor), 0.0, 1.0).astype("float32")
    return _without_specks(clean)


def _without_specks(clean: np.ndarray) -> np.ndarray:
    """Drop specks of noise, pixels with fewer than two inked neighbours: they would widen the crop.

    Every pixel of a stroke, even one pixel thin, has at least two inked neighbours.
    """
    around = ndimage.convolve((clean > 0).astype(np.int8), np.ones((3, 3), np.int8), mode="constant")
    return np.where(around >= 3, clean, 0.0).astype("float32")


def crop_to_ink(clean: np.ndarray) -> np.ndarray:
    """Cut the picture down to the smallest rectangle that holds all the ink."""
    boxes = ndimage.find_objects((clean > 0).astype(np.int8))
    if not boxes:  # only isolated specks were darker than the paper, and they were dropped
        raise HandwritingError(
            "No digit found: only a few scattered dark dots, no stroke. Write the digit with a "
            "thicker, darker pen, or photograph it closer so its strokes are several pixels wide."
        )
    return clean[boxes[0]].copy()


def scale_to_box(cropped: np.ndarray, box: int = BOX) -> np.ndarray:
    """Resize so the longer side is `box` pixels, aspect ratio kept, smoothly.

    The filter is Lanczos, anti-aliased. The strongest ink is then set back
    to 1: shrinking a thin stroke a lot spreads it into grey.
    """
    rows, cols = cropped.shape
    scale = box / max(rows, cols)
    # PIL wants (width, height)
    size = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    picture = Image.fromarray(cropped.astype("float32"), mode="F")
    resized = picture.resize(size, Image.Resampling.LANCZOS)
    scaled = np.clip(np.asarray(resized, dtype="float32"), 0.0, 1.0)
    return scaled / scaled.max() if scaled.max() > 0 else scaled


def centre_by_mass(scaled: np.ndarray, frame: int = FRAME) -> np.ndarray:
    """Place the digit in an all-0 square frame, its centre of mass on CENTRE.

    Like MNIST, the shift is by whole pixels; the digit is kept inside the
    frame.
    """
    rows, cols = scaled.shape
    mass = float(scaled.sum())
    centre_row = float((scaled.sum(axis=1) * np.arange(rows)).sum()) / mass
    centre_col = float((scaled.sum(axis=0) * np.arange(cols)).sum()) / mass
    top = min(max(math.floor(CENTRE - centre_row + 0.5), 0), frame - rows)
    left = min(max(math.floor(CENTRE - centre_col + 0.5), 0), frame - cols)
    framed = np.zeros((frame, frame), dtype="float32")
    framed[top : top + rows, left : left + cols] = scaled
    return framed


STEP_TITLES = {  # short captions for pictures of the steps
    "greyscale": "greyscale",
    "inverted": "ink high",
    "background removed": "no background",
    "cropped": "cropped",
    "scaled": f"{BOX} px long",
    "centred": "centred",
}


def preprocess_steps(image: Image.Image | np.ndarray) -> dict[str, np.ndarray]:
    """Every step from a drawing or photo to an MNIST-style digit, in order.

    Each is a float32 picture in [0, 1]. Keys: 'greyscale', 'inverted',
    'background removed', 'cropped', 'scaled', 'centred' (STEP_TITLES has a
    short caption for each; notebook 07 shows this source, so it is kept to
    79 columns). Raises HandwritingError, with a message for the student,
    when there is no digit to find.
    """
    steps = {"greyscale": to_greyscale(image)}
    steps["inverted"] = invert_if_light(steps["greyscale"])
    steps["background removed"] = remove_background(steps["inverted"])
    steps["cropped"] = crop_to_ink(steps["background removed"])
    steps["scaled"] = scale_to_box(steps["cropped"])
    steps["centred"] = centre_by_mass(steps["scaled"])
    return steps


def preprocess(image: Image.Image | np.ndarray) -> np.ndarray:
    """A drawing or photo as MNIST would have made it: 28 × 28 float32 ink values, 0 paper to 1 full ink."""
    return preprocess_steps(image)["centred"]


# --- The samples the repository ships --------------------------------------------------------------


class Sample(NamedTuple):
    name: str  # the file's name without its extension
    digit: int  # the digit that was written
    about: str  # how it was made, in a few words
    image: np.ndarray  # as the student drew or photographed it: uint8, greyscale or RGB
    strokes: list[list[list[float]]] | None  # a pad drawing's strokes; None for a picture


def load_samples(folder: Path = SAMPLES_DIR) -> list[Sample]:
    """The sample drawings and photos listed in `folder`/samples.json, in the order listed there."""
    index = json.loads((folder / SAMPLES_INDEX).read_text())
    samples = []
    for entry in index["samples"]:
        path = folder / entry["file"]
        if path.suffix == ".json":
            drawing = json.loads(path.read_text())
            strokes = drawing["strokes"]
            image = render_strokes(strokes, drawing["size"], drawing["pen_width"])
        else:
            strokes = None
            image = np.asarray(open_image(path.read_bytes(), path.name))
        samples.append(Sample(path.stem, int(entry["digit"]), entry["about"], image, strokes))
    return samples
