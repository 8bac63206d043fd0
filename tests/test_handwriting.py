"""MNIST-style preprocessing: moved, scaled, inverted test digits come back as they were; bad input fails."""

from __future__ import annotations

import importlib.util
import io
import json

import keras
import numpy as np
import pytest
from PIL import Image, ImageFilter

from helpers import handwriting, input_shape, settings
from helpers.handwriting import HandwritingError

COUNT = 1000  # test digits per transformation


# --- Transformed copies of MNIST test digits ------------------------------------------------------


def _resized(digit: np.ndarray, factor: float) -> np.ndarray:
    side = round(digit.shape[0] * factor)
    return np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC))


def _on_canvas(digit: np.ndarray, shape: tuple[int, int], at: tuple[int, int]) -> np.ndarray:
    canvas = np.zeros(shape, dtype=np.uint8)
    row, col = at
    canvas[row : row + digit.shape[0], col : col + digit.shape[1]] = digit
    return canvas


def _pushed_into_corner(digit: np.ndarray) -> np.ndarray:
    """The digit moved as far down and right as its 28 × 28 frame allows, none of it cut off."""
    rows, cols = np.flatnonzero(digit.max(axis=1)), np.flatnonzero(digit.max(axis=0))
    ink = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return _on_canvas(ink, digit.shape, (digit.shape[0] - ink.shape[0], digit.shape[1] - ink.shape[1]))


# name: (transformation, largest mean |difference| from the original, largest 95th percentile)
TRANSFORMS = {
    "shifted": (_pushed_into_corner, 0.005, 0.005),
    "inverted": (lambda d: 255 - d, 0.005, 0.005),
    "scaled up 3x": (lambda d: _resized(d, 3), 0.04, 0.08),
    # Shrinking throws detail away for good: at 85 % the digit is 17 pixels long instead of 20.
    "scaled down 0.85x": (lambda d: _resized(d, 0.85), 0.06, 0.11),
    "off-centre, large canvas": (lambda d: _on_canvas(_resized(d, 2), (160, 240), (96, 8)), 0.05, 0.08),
    "inverted, 4x, large canvas": (
        lambda d: 255 - _on_canvas(_resized(d, 4), (240, 200), (4, 80)),
        0.05,
        0.08,
    ),
}


@pytest.fixture(scope="module")
def test_digits(real_arrays):
    return real_arrays["x_test"][:COUNT], real_arrays["y_test"][:COUNT]


@pytest.fixture(scope="module")
def small_model(real_arrays):
    """A small CNN trained for one epoch on 10,000 images (about 96 % on the test set)."""
    keras.utils.set_random_seed(settings.SEED)
    model = keras.Sequential(
        [
            keras.Input(input_shape()),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    images = real_arrays["x_train"][:10_000].astype("float32") / 255
    labels = real_arrays["y_train"][:10_000]
    model.fit(images.reshape((-1, *input_shape())), labels, batch_size=64, epochs=1, verbose=0)
    return model


def _accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    probabilities = model.predict(images.reshape((-1, *input_shape())), batch_size=500, verbose=0)
    return float((probabilities.argmax(axis=1) == labels).mean())


def test_originals_come_back_unchanged(test_digits):
    digits, _ = test_digits
    back = np.stack([handwriting.preprocess(digit) for digit in digits])
    difference = np.abs(back - digits / 255.0).mean(axis=(1, 2))
    assert difference.mean() < 0.003
    assert np.mean(difference < 0.01) > 0.99  # the rest: a centre of mass on a half pixel, one pixel off


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transformed_digits_come_back_close_and_read_as_well(name, test_digits, small_model):
    """Each transformation undone: pixels close to the original, and a trained network reads as well."""
    transform, mean_limit, p95_limit = TRANSFORMS[name]
    digits, labels = test_digits
    originals = digits / 255.0
    back = np.stack([handwriting.preprocess(transform(digit)) for digit in digits])
    assert back.shape == (COUNT, 28, 28) and back.dtype == np.float32
    difference = np.abs(back - originals).mean(axis=(1, 2))
    assert difference.mean() <= mean_limit, f"{name}: mean difference {difference.mean():.4f}"
    assert np.percentile(difference, 95) <= p95_limit
    before, after = _accuracy(small_model, originals, labels), _accuracy(small_model, back, labels)
    assert abs(after - before) <= 0.01, (
        f"{name}: accuracy {after:.3f} after preprocessing, {before:.3f} before"
    )


# --- The steps -------------------------------------------------------------------------------------


def test_steps_are_named_in_order_and_end_in_an_mnist_style_digit(test_digits):
    digits, _ = test_digits
    steps = handwriting.preprocess_steps(255 - _resized(digits[0], 5))
    assert list(steps) == list(handwriting.STEP_TITLES)
    for picture in steps.values():
        assert picture.dtype == np.float32 and 0.0 <= picture.min() and picture.max() <= 1.0
    assert steps["inverted"].mean() < 0.5 < steps["greyscale"].mean()  # dark on light became light on dark
    assert max(steps["scaled"].shape) == handwriting.BOX
    final = steps["centred"]
    assert final.shape == (28, 28) and final.max() == 1.0
    rows, cols = np.indices(final.shape)
    centre = (float((rows * final).sum() / final.sum()), float((cols * final).sum() / final.sum()))
    assert abs(centre[0] - handwriting.CENTRE) <= 0.5 and abs(centre[1] - handwriting.CENTRE) <= 0.5


def test_light_ink_on_a_dark_background_is_not_inverted():
    board = np.full((60, 80), 40, dtype=np.uint8)
    board[10:50, 30:36] = 230  # a chalk "1"
    steps = handwriting.preprocess_steps(board)
    np.testing.assert_array_equal(steps["inverted"], steps["greyscale"])
    assert steps["centred"].max() == 1.0


def test_colour_and_transparency_become_grey_on_white():
    rgba = np.zeros((50, 50, 4), dtype=np.uint8)  # fully transparent: paper
    rgba[10:40, 22:28] = (20, 30, 120, 255)  # a blue stroke
    grey = handwriting.to_greyscale(rgba)
    assert grey.shape == (50, 50) and grey[0, 0] == 1.0 and grey[20, 24] < 0.2


def test_uneven_light_and_noise_do_not_widen_the_crop():
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:300, 0:400]
    paper = 235 - 60 * cols / 400 + rng.normal(0, 4, (300, 400))  # a shadow towards the right
    paper[100:220, 190:204] -= 150  # a pen stroke: a "1", 120 pixels tall
    cropped = handwriting.preprocess_steps(np.clip(paper, 0, 255).astype(np.uint8))["cropped"]
    assert 110 <= cropped.shape[0] <= 130 and cropped.shape[1] <= 30


def test_strokes_render_as_drawn_on_the_pad():
    drawing = handwriting.render_strokes([[[140, 40], [140, 240]]], size=280, pen_width=20)
    assert drawing.shape == (280, 280) and drawing.dtype == np.uint8
    assert drawing[140, 140] == 0 and drawing[140, 100] == 255 and drawing[20, 140] == 255
    dot = handwriting.render_strokes([[[50, 50]]], size=100, pen_width=10)
    assert dot[50, 50] == 0 and dot[50, 60] == 255


# --- Close-up photos: the strokes fill the frame ------------------------------------------------------


def _close_up(digit: np.ndarray, fill: float, paper: float, seed: int, side: int = 360) -> np.ndarray:
    """A photo taken close of a digit written dark on paper, its longer side `fill` of the frame.

    The digit is enlarged smoothly (soft edges, as a camera's focus gives them),
    widened a little and photographed (see _photographed).
    """
    rows, cols = np.flatnonzero(digit.max(axis=1)), np.flatnonzero(digit.max(axis=0))
    ink = Image.fromarray(digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    scale = fill * side / max(ink.size)
    ink = ink.resize((round(ink.width * scale), round(ink.height * scale)), Image.Resampling.BICUBIC)
    ink = np.asarray(ink.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(2))) / 255.0
    frame = np.zeros((side, side))
    top, left = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
    frame[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    return _photographed(frame, paper, seed)


def _photographed(ink: np.ndarray, paper: float, seed: int) -> np.ndarray:
    """Ink (0 to 1) as a camera sees it, dark on paper of grey level `paper`, unevenly lit, with noise."""
    down, right = np.mgrid[0 : ink.shape[0], 0 : ink.shape[1]] / max(ink.shape)
    light = 1.0 - 0.25 * (down + right) / 2  # a quarter darker towards the bottom-right corner
    noise = np.random.default_rng(seed).normal(0, 0.02, ink.shape)
    grey = (paper * (1 - ink) + 0.12 * ink) * light + noise
    return np.clip(grey * 255, 0, 255).round().astype(np.uint8)


# (how much of the frame the digit's longer side fills, the paper's grey level): a close
# photo of white paper is often mid-grey, darker than half
CLOSE_UPS = [(0.95, 0.45), (0.9, 0.6), (0.85, 0.9), (0.95, 0.75), (0.8, 0.5)]


def test_a_digit_that_fills_a_close_up_photo_is_read_as_with_a_margin(test_digits):
    """Close-ups of one test digit of each kind come out near the digit itself, nearest to it of all ten."""
    digits, labels = test_digits
    chosen = [int(np.flatnonzero(labels == digit)[0]) for digit in range(10)]
    originals = np.stack([handwriting.preprocess(digits[i]) for i in chosen])
    for k, i in enumerate(chosen):
        fill, paper = CLOSE_UPS[k % len(CLOSE_UPS)]
        photo = _close_up(digits[i], fill, paper, seed=k)
        steps = handwriting.preprocess_steps(photo)
        assert np.allclose(steps["inverted"], 1 - steps["greyscale"]), f"{labels[i]}: dark ink not inverted"
        difference = np.abs(steps["centred"] - originals).mean(axis=(1, 2))
        assert difference[k] < 0.1, f"a {labels[i]} filling {fill:.0%} on paper {paper}: {difference[k]:.3f}"
        nearest = int(np.argmin(difference))
        assert nearest == k, f"a {labels[i]} comes out nearest the {labels[chosen[nearest]]}"


@pytest.mark.slow
def test_close_up_photos_of_test_digits_are_read_as_well_as_the_digits(test_digits, small_model):
    """A trained network reads 300 close-up photos of test digits about as well as the digits themselves."""
    digits, labels = test_digits[0][:300], test_digits[1][:300]
    photos = [
        _close_up(digit, *CLOSE_UPS[i % len(CLOSE_UPS)], seed=i, side=200) for i, digit in enumerate(digits)
    ]
    back = np.stack([handwriting.preprocess(photo) for photo in photos])
    before, after = _accuracy(small_model, digits / 255.0, labels), _accuracy(small_model, back, labels)
    assert after >= before - 0.03, f"close-ups: accuracy {after:.3f}, the digits themselves {before:.3f}"


# --- Bad input ---------------------------------------------------------------------------------------


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _specks_on_grey() -> np.ndarray:
    """A grey picture with a few isolated dark pixels, far apart: ink, but no stroke."""
    picture = np.full((100, 100), 200, dtype=np.uint8)
    picture[[10, 40, 70], [20, 80, 50]] = 0
    return picture


@pytest.mark.parametrize(
    ("picture", "words"),
    [
        (np.full((200, 300), 255, dtype=np.uint8), "No digit found"),  # blank paper
        (np.zeros((200, 300), dtype=np.uint8), "No digit found"),  # all black
        (np.full((5, 5, 3), 128, dtype=np.uint8), "No digit found"),  # one grey
        (np.random.default_rng(0).integers(120, 136, (100, 100)).astype(np.uint8), "No digit found"),
        (_photographed(np.zeros((300, 400)), 0.45, seed=0), "No digit found"),  # a close photo of paper
        (_photographed(np.zeros((300, 400)), 0.9, seed=1), "No digit found"),
        (_specks_on_grey(), "scattered dark dots"),  # ink only in specks, which are dropped
    ],
)
def test_a_picture_without_ink_is_refused(picture, words):
    with pytest.raises(HandwritingError, match=words):
        handwriting.preprocess(picture)


def test_uploads_that_are_empty_damaged_or_not_pictures_are_refused():
    with pytest.raises(HandwritingError, match="empty"):
        handwriting.open_image(b"", "photo.png")
    with pytest.raises(HandwritingError, match="notes.txt is not a picture that can be read"):
        handwriting.open_image(b"seven, drawn in words", "notes.txt")
    whole = _png(Image.new("L", (64, 64), 200))
    with pytest.raises(HandwritingError, match="damaged"):
        handwriting.open_image(whole[: len(whole) // 2], "cut.png")


def test_uploads_over_the_limits_are_refused_before_decoding():
    too_big = b"\x89PNG" + bytes(handwriting.MAX_UPLOAD_BYTES)
    with pytest.raises(HandwritingError, match=r"big.png is 8.0 MB; the limit is 8 MB"):
        handwriting.open_image(too_big, "big.png")
    wide = _png(Image.new("1", (8000, 6000), 1))  # 48 megapixels in a few kilobytes
    assert len(wide) < handwriting.MAX_UPLOAD_BYTES
    with pytest.raises(
        HandwritingError, match=r"wide.png is 8,000 × 6,000 pixels \(48 megapixels\); the limit is 40"
    ):
        handwriting.open_image(wide, "wide.png")
    bomb = _png(Image.new("1", (10_000, 9_000), 1))  # past Pillow's own alarm, which also says no
    with pytest.raises(
        HandwritingError, match="bomb.png has far too many pixels; the limit is 40 megapixels"
    ):
        handwriting.open_image(bomb, "bomb.png")


@pytest.mark.parametrize(
    ("strokes", "words"),
    [
        ([], "The pad is empty"),
        ([[], []], "The pad is empty"),
        ([[[1, 2, 3]]], "could not be read"),
        ([["ab"]], "could not be read"),
        ([[[float("nan"), 3]]], "could not be read"),
    ],
)
def test_bad_strokes_are_refused_in_words(strokes, words):
    with pytest.raises(HandwritingError, match=words):
        handwriting.render_strokes(strokes)


# --- The shipped samples ----------------------------------------------------------------------------


def test_the_shipped_samples_load_and_can_be_made_again(tmp_path, real_npz_path, monkeypatch):
    samples = handwriting.load_samples()
    assert [s.digit for s in samples] == [0, 1, 2, 4, 7, 7, 3, 5, 8, 9]
    assert all(s.image.dtype == np.uint8 and s.image.shape[0] >= 28 for s in samples)
    assert sum(s.strokes is not None for s in samples) == 6

    monkeypatch.setenv("MNIST_NPZ", str(real_npz_path))
    path = settings.PROJECT_ROOT / "scripts" / "make_sample_drawings.py"
    spec = importlib.util.spec_from_file_location("make_sample_drawings", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.make_samples(tmp_path)
    shipped = handwriting.SAMPLES_DIR
    assert json.loads((tmp_path / "samples.json").read_text()) == json.loads(
        (shipped / "samples.json").read_text()
    )
    for made, sample in zip(handwriting.load_samples(tmp_path), samples, strict=True):
        assert made.strokes == sample.strokes
        difference = np.abs(made.image.astype(int) - sample.image.astype(int)).mean()
        assert difference < 1.0, f"{sample.name} differs from what the script makes now"
