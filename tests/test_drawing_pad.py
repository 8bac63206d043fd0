"""The pad and the photo upload without a browser: set what the browser would, read what they publish."""

from __future__ import annotations

import datetime as dt
import fnmatch
import io
import tomllib
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from helpers import drawing_pad, handwriting, input_shape, settings
from helpers.drawing_pad import DrawingPad, PhotoReader

VERTICAL_STROKE = [[[140.0, y] for y in range(40, 241, 5)]]
VIEW_FOLDER = Path(drawing_pad.__file__).parent  # drawing_pad.js and drawing_pad.css


class FixedAnswer:
    """Stands in for a network: always gives the same ten probabilities, and keeps what it was shown."""

    def __init__(self, digit: int) -> None:
        self.answer = np.full((1, 10), 0.02, dtype="float32")
        self.answer[0, digit] = 0.82
        self.shown: list[np.ndarray] = []

    def __call__(self, batch: np.ndarray, training: bool = False) -> np.ndarray:
        assert training is False
        self.shown.append(np.asarray(batch))
        return self.answer


class Broken:
    def __call__(self, batch: np.ndarray, training: bool = False) -> np.ndarray:
        raise RuntimeError("the network fell over")


@pytest.fixture
def networks():
    return {"Sequential": FixedAnswer(1), "functional": FixedAnswer(7)}


def test_a_new_pad_is_empty_and_says_what_to_do(networks):
    pad = DrawingPad(networks)
    assert pad.state == "empty" and pad.message == drawing_pad.EMPTY_PAD
    assert pad.probabilities == {} and pad.seen == [] and pad.top_digits == {} and pad.image is None
    assert pad.networks == ["Sequential", "functional"]


def test_a_stroke_publishes_each_networks_probabilities_and_the_digit_they_saw(networks):
    pad = DrawingPad(networks)
    pad.strokes = VERTICAL_STROKE  # what the browser sends when a stroke ends
    assert pad.state == "read" and pad.message == drawing_pad.READ_PAD and pad.strokes_read == 1
    assert pad.top_digits == {"Sequential": 1, "functional": 7}
    np.testing.assert_allclose(pad.probabilities["functional"], networks["functional"].answer[0], atol=1e-5)
    expected = handwriting.preprocess(handwriting.render_strokes(VERTICAL_STROKE))
    shown = networks["Sequential"].shown[-1]
    assert shown.shape == (1, *input_shape()) and shown.dtype == np.float32
    np.testing.assert_array_equal(shown.reshape(28, 28), expected)
    assert len(pad.seen) == 28 * 28 and all(0 <= level <= 255 for level in pad.seen)
    np.testing.assert_allclose(pad.image, expected, atol=1 / 255)


def test_each_stroke_is_read_again_and_clear_empties_the_pad(networks):
    pad = DrawingPad(networks, strokes=VERTICAL_STROKE)
    assert pad.strokes_read == 1 and pad.state == "read"
    pad.strokes = [*pad.strokes, [[100.0, 60.0], [180.0, 60.0]]]
    assert pad.strokes_read == 2 and len(networks["functional"].shown) == 2
    pad.clear()
    assert pad.strokes == [] and pad.state == "empty" and pad.message == drawing_pad.EMPTY_PAD
    assert pad.probabilities == {} and pad.seen == [] and pad.strokes_read == 0


def test_strokes_that_cannot_be_read_give_a_message_not_a_traceback(networks):
    pad = DrawingPad(networks, strokes=VERTICAL_STROKE)
    pad.strokes = [[["x", "y"]]]
    assert pad.state == "error" and "could not be read" in pad.message
    assert pad.probabilities == {} and pad.seen == []
    pad.strokes = [[], []]  # strokes with no points: nothing drawn
    assert pad.state == "empty" and pad.message == drawing_pad.EMPTY_PAD


def test_a_failing_network_gives_a_message_not_a_traceback():
    pad = DrawingPad({"broken": Broken()})
    pad.strokes = VERTICAL_STROKE
    assert pad.state == "error" and "the network fell over" in pad.message and pad.probabilities == {}


def test_the_pad_works_with_keras_models():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(input_shape()), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.add(keras.layers.Softmax())
    pad = DrawingPad({"tiny": model}, strokes=VERTICAL_STROKE)
    assert pad.state == "read" and len(pad.probabilities["tiny"]) == 10
    assert sum(pad.probabilities["tiny"]) == pytest.approx(1.0, abs=1e-4)


def test_the_pad_sends_its_javascript_and_css_files_and_fetches_nothing(networks):
    pad = DrawingPad(networks)
    state = pad.get_state()  # the widget's state as ipywidgets sends it to the browser
    source, style = state["_esm"], state["_css"]  # anywidget's names for the module and its style
    assert source == (VIEW_FOLDER / "drawing_pad.js").read_text(encoding="utf-8")
    assert style == (VIEW_FOLDER / "drawing_pad.css").read_text(encoding="utf-8")
    assert "export default" in source and "render" in source
    assert "import " not in source and "http" not in source and "http" not in style  # no CDN: works offline
    for needed in ("pointerdown", "pointerup", "setPointerCapture", "save_changes", "dataset.strokesRead"):
        assert needed in source
    for name in ("mnist-pad", "mnist-pad-canvas", "mnist-pad-clear", "mnist-pad-message", "top-digit"):
        assert f'"{name}"' in source and f".{name} " in style  # what the browser tests query
    assert "touch-action: none" in style  # a finger draws on the pad instead of scrolling the page


def test_the_pads_files_ship_with_the_package():
    """Every file in helpers/ that is not Python matches a package-data pattern, so a wheel carries it."""
    with open(settings.PROJECT_ROOT / "pyproject.toml", "rb") as file:
        patterns = tomllib.load(file)["tool"]["setuptools"]["package-data"]["helpers"]
    data_files = [
        path.name for path in VIEW_FOLDER.iterdir() if path.is_file() and path.suffix not in {".py", ".pyc"}
    ]
    assert {"drawing_pad.js", "drawing_pad.css"} <= set(data_files)
    for name in data_files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), f"{name} would not be installed"


# --- The photo upload ---------------------------------------------------------------------------------


def _file(data: bytes, name: str) -> dict[str, object]:
    """One uploaded file, as ipywidgets.FileUpload holds it after the browser sends it."""
    return {
        "name": name,
        "type": "image/png",
        "size": len(data),
        "content": memoryview(data),
        "last_modified": dt.datetime.now(dt.UTC),
    }


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _a_photo_of_a_one() -> bytes:
    paper = np.full((240, 180), 235, dtype=np.uint8)
    paper[30:210, 84:98] = 30
    return _png(Image.fromarray(paper))


def test_an_uploaded_photo_is_read_shown_step_by_step_and_not_kept(networks):
    reader = PhotoReader(networks)
    assert reader.state == "empty" and "PNG or JPEG" in reader.note.value
    reader.upload.value = (_file(_a_photo_of_a_one(), "one.png"),)  # what the browser's upload does
    assert reader.state == "read" and reader.top_digits == {"Sequential": 1, "functional": 7}
    assert "one.png" in reader.message and "Sequential reads 1" in reader.message
    assert 'data-state="read"' in reader.note.value
    assert list(reader.steps) == list(handwriting.STEP_TITLES)
    assert bytes(reader.picture.value).startswith(b"\x89PNG") and reader.picture.layout.display is None
    assert reader.upload.value == ()  # the photo is dropped once read
    assert plt.get_fignums() == []  # its figure was closed, so no notebook cell shows it later


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "is empty"),
        (b"%PDF-1.7 a worksheet", "is not a picture that can be read"),
        (_png(Image.new("L", (300, 200), 255)), "No digit found"),  # blank paper
        (_png(Image.new("RGB", (300, 200), (0, 0, 0))), "No digit found"),  # all black
        (b"\x89PNG" + bytes(handwriting.MAX_UPLOAD_BYTES), "the limit is 8 MB"),
        (_png(Image.new("1", (8000, 6000), 1)), "the limit is 40 megapixels"),
    ],
)
def test_bad_uploads_give_a_message_in_the_widget(networks, data, words):
    reader = PhotoReader(networks)
    reader.read_file(_a_photo_of_a_one(), "good.png")
    reader.upload.value = (_file(data, "upload.bin"),)
    assert reader.state == "error" and words in reader.message
    assert 'data-state="error"' in reader.note.value and "upload.bin" in reader.note.value
    assert reader.probabilities == {} and reader.steps == {}
    assert reader.picture.layout.display == "none"  # the previous photo's picture is gone


def test_a_failing_network_on_an_upload_gives_a_message():
    reader = PhotoReader({"broken": Broken()})
    reader.read_file(_a_photo_of_a_one(), "one.png")
    assert reader.state == "error" and "the network fell over" in reader.message


def test_the_message_is_escaped(networks):
    reader = PhotoReader(networks)
    reader.read_file(b"not a picture", "<b>x</b>.png")
    assert "<b>" not in reader.note.value and "&lt;b&gt;" in reader.note.value
