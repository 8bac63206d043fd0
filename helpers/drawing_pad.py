"""Widgets for reading a student's own digits in class: a drawing pad and a photo upload.

The pad is an anywidget whose view, drawing_pad.js and drawing_pad.css next to this
file, ships with the package, so it runs in JupyterLab 4, Jupyter Notebook 7 and VS Code
right after `pip install anywidget`, with no extension to build and no internet. The
browser only records strokes (pointer events: mouse, pen or finger) and draws what Python
sends back; Python turns the strokes into an MNIST-style digit (helpers.handwriting), asks
every network for its ten probabilities, and publishes them. So everything the pad shows
can be tested without a browser, by setting `strokes` and reading the traits.
"""

from __future__ import annotations

import html
import pathlib
from collections.abc import Mapping

import anywidget
import ipywidgets
import keras
import numpy as np
import traitlets

from helpers import handwriting
from helpers.plots import figure_png, steps_figure
from helpers.preprocess import input_shape

EMPTY_PAD = "Draw a digit with the mouse or a finger, big enough to fill most of the pad."
READ_PAD = "Each stroke updates the bars. Press Clear to draw another digit."
UNEXPECTED = "Something went wrong while reading this ({error}). Try again, or restart the kernel."


def read_digit(models: Mapping[str, keras.Model], digit: np.ndarray) -> dict[str, np.ndarray]:
    """Each network's ten probabilities for one 28 × 28 MNIST-style digit."""
    batch = np.asarray(digit, dtype="float32").reshape((1, *input_shape()))
    outputs = {name: model(batch, training=False) for name, model in models.items()}
    return {name: np.asarray(output, dtype="float32")[0] for name, output in outputs.items()}


# --- The drawing pad ------------------------------------------------------------------------------


class DrawingPad(anywidget.AnyWidget):
    """A pad to draw a digit on; after each stroke every network's probabilities show as bars.

    Python side: set `strokes` (a list of strokes, each a list of [x, y] points on a
    `size` × `size` pad) and read `probabilities`, `top_digits`, `image` and `message`.
    """

    _esm = pathlib.Path(__file__).parent / "drawing_pad.js"  # anywidget sends the file's text
    _css = pathlib.Path(__file__).parent / "drawing_pad.css"

    strokes = traitlets.List(help="the strokes drawn so far, each a list of [x, y] pad points").tag(sync=True)
    size = traitlets.Int(handwriting.PAD_SIZE, help="the pad's side, in pad units").tag(sync=True)
    pen_width = traitlets.Float(handwriting.PEN_WIDTH, help="the pen's width, in pad units").tag(sync=True)
    networks = traitlets.List(traitlets.Unicode(), help="the networks' names, in order").tag(sync=True)
    probabilities = traitlets.Dict(help="each network's ten probabilities; empty when nothing is read").tag(
        sync=True
    )
    seen = traitlets.List(traitlets.Int(), help="the 28 × 28 digit the networks read, 784 levels 0-255").tag(
        sync=True
    )
    message = traitlets.Unicode(EMPTY_PAD, help="what the pad tells the student").tag(sync=True)
    state = traitlets.Unicode("empty", help="'empty', 'read' or 'error'").tag(sync=True)
    strokes_read = traitlets.Int(0, help="how many strokes the bars shown were read from").tag(sync=True)

    def __init__(self, models: Mapping[str, keras.Model], **kwargs: object) -> None:
        self._models = dict(models)
        super().__init__(networks=list(self._models), **kwargs)

    @traitlets.observe("strokes", "size", "pen_width")
    def _read(self, _change: object = None) -> None:
        try:
            if all(isinstance(stroke, list) and not stroke for stroke in self.strokes):
                self._publish("empty", EMPTY_PAD)
                return
            drawing = handwriting.render_strokes(self.strokes, self.size, self.pen_width)
            digit = handwriting.preprocess(drawing)
            probabilities = read_digit(self._models, digit)
        except handwriting.HandwritingError as error:
            self._publish("error", str(error))
        except Exception as error:  # a class must never see a traceback in the pad
            self._publish("error", UNEXPECTED.format(error=f"{type(error).__name__}: {error}"))
        else:
            self._publish("read", READ_PAD, digit, probabilities)

    def _publish(
        self,
        state: str,
        message: str,
        digit: np.ndarray | None = None,
        probabilities: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        with self.hold_sync():
            probabilities = probabilities or {}
            self.probabilities = {name: [round(float(v), 5) for v in p] for name, p in probabilities.items()}
            self.seen = [] if digit is None else [int(v) for v in np.round(digit * 255).ravel()]
            self.message = message
            self.state = state
            self.strokes_read = len(self.strokes)

    @property
    def image(self) -> np.ndarray | None:
        """The 28 × 28 digit the networks read last (float32 in [0, 1]), or None."""
        if not self.seen:
            return None
        return np.asarray(self.seen, dtype="float32").reshape(handwriting.FRAME, handwriting.FRAME) / 255

    @property
    def top_digits(self) -> dict[str, int]:
        """The digit each network reads on the pad now; empty when there is nothing to read."""
        return {name: int(np.argmax(p)) for name, p in self.probabilities.items()}

    def clear(self) -> None:
        """Wipe the pad, as its Clear button does."""
        self.strokes = []


# --- The photo upload -----------------------------------------------------------------------------

UPLOAD_PROMPT = (
    "Upload a photo or scan of one digit written on paper (PNG or JPEG, at most "
    f"{handwriting.MAX_UPLOAD_BYTES / 1e6:.0f} MB and {handwriting.MAX_PIXELS / 1e6:.0f} megapixels). "
    "A thick dark pen and even light work best."
)


class PhotoReader(ipywidgets.VBox):
    """An upload button for a photo of a digit; shows each preprocessing step and what the networks read.

    Python side: `read_file(data, name)` does what an upload does; then read `message`,
    `state`, `probabilities` and `top_digits`.
    """

    def __init__(self, models: Mapping[str, keras.Model]) -> None:
        self._models = dict(models)
        self.upload = ipywidgets.FileUpload(accept="image/*", multiple=False, description="Photo")
        self.note = ipywidgets.HTML()
        self.picture = ipywidgets.Image(format="png", layout=ipywidgets.Layout(max_width="100%"))
        self.state = "empty"
        self.message = UPLOAD_PROMPT
        self.probabilities: dict[str, np.ndarray] = {}
        self.steps: dict[str, np.ndarray] = {}
        super().__init__([self.upload, self.note, self.picture])
        self.upload.observe(self._on_upload, names="value")
        self._show()

    def close(self) -> None:
        """Close the widget and the three widgets it is made of."""
        for child in (self.upload, self.note, self.picture):
            child.close()
        super().close()

    @property
    def top_digits(self) -> dict[str, int]:
        """The digit each network read on the last photo; empty when there was none to read."""
        return {name: int(np.argmax(p)) for name, p in self.probabilities.items()}

    def _on_upload(self, change: Mapping[str, object]) -> None:
        files = change["new"]
        if not files:
            return  # the value was just cleared
        uploaded = files[0]
        try:
            data = bytes(uploaded["content"])
            self.read_file(data, f"“{uploaded['name']}”")
        finally:
            self.upload.value = ()  # keep no copy of the photo in the kernel or the saved notebook

    def read_file(self, data: bytes, name: str = "The file") -> None:
        """Read an uploaded file: its steps and the networks' answers, or a message saying what is wrong."""
        try:
            image = handwriting.open_image(data, name)  # its messages name the file
            try:
                self.steps = handwriting.preprocess_steps(image)
            except handwriting.HandwritingError as error:
                raise handwriting.HandwritingError(f"{name}: {error}") from None
            self.probabilities = read_digit(self._models, self.steps["centred"])
        except handwriting.HandwritingError as error:
            self._fail(str(error))
        except Exception as error:  # a class must never see a traceback here
            self._fail(UNEXPECTED.format(error=f"{type(error).__name__}: {error}"))
        else:
            readings = ", ".join(f"{network} reads {digit}" for network, digit in self.top_digits.items())
            self.state, self.message = "read", f"{name}: {readings}."
        self._show()

    def _fail(self, message: str) -> None:
        self.state, self.message = "error", message
        self.steps, self.probabilities = {}, {}

    def _show(self) -> None:
        colour = "#b00020" if self.state == "error" else "inherit"
        self.note.value = (
            f'<div class="photo-message" data-state="{self.state}" style="color: {colour}; font-size: 14px">'
            f"{html.escape(self.message)}</div>"
        )
        if self.steps:
            fig = steps_figure(self.steps, self.probabilities)
            self.picture.value = figure_png(fig)
            self.picture.layout.display = None
        else:
            self.picture.value = b""
            self.picture.layout.display = "none"
