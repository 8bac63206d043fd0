"""Widgets for reading a student's own digits in class: a drawing pad and a photo upload.

The pad is an anywidget: its JavaScript, an inline ES module below, ships inside this
file, so it runs in JupyterLab 4, Jupyter Notebook 7 and VS Code right after
`pip install anywidget`, with no extension to build and no internet. The browser only
records strokes (pointer events: mouse, pen or finger) and draws what Python sends
back; Python turns the strokes into an MNIST-style digit (helpers.handwriting), asks
every network for its ten probabilities, and publishes them. So everything the pad
shows can be tested without a browser, by setting `strokes` and reading the traits.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import anywidget
import ipywidgets
import keras
import matplotlib.pyplot as plt
import numpy as np
import traitlets
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers import handwriting
from helpers.preprocess import NUM_CLASSES, input_shape

EMPTY_PAD = "Draw a digit with the mouse or a finger, big enough to fill most of the pad."
READ_PAD = "Each stroke updates the bars. Press Clear to draw another digit."
UNEXPECTED = "Something went wrong while reading this ({error}). Try again, or restart the kernel."


def read_digit(models: Mapping[str, keras.Model], digit: np.ndarray) -> dict[str, np.ndarray]:
    """Each network's ten probabilities for one 28 × 28 MNIST-style digit."""
    batch = np.asarray(digit, dtype="float32").reshape((1, *input_shape()))
    outputs = {name: model(batch, training=False) for name, model in models.items()}
    return {name: np.asarray(output, dtype="float32")[0] for name, output in outputs.items()}


# --- The pictures --------------------------------------------------------------------------------

# As the series' other figures: 5.6 inches at 100 dpi fits JupyterLab's output area on a
# 1024 × 768 projector without being shrunk, and no text is smaller than 11 points.
FIGURE_WIDTH = 5.6
FIGURE_DPI = 100
FONT_SIZE = 11


def _show_picture(ax: Axes, picture: np.ndarray, title: str, caption: str | None = None) -> None:
    """A picture with its grey levels as they are (0 black), or in colour; a title above, a caption below."""
    picture = np.asarray(picture)
    if picture.ndim == 2:
        top = 255 if picture.dtype == np.uint8 else 1
        ax.imshow(picture, cmap="gray", vmin=0, vmax=top, interpolation="nearest")
    else:
        ax.imshow(picture, interpolation="antialiased")
    ax.set_title(title, fontsize=FONT_SIZE)
    if caption:
        ax.set_xlabel(caption, fontsize=FONT_SIZE)
    ax.set_xticks([])
    ax.set_yticks([])


def gallery(pictures: Sequence[np.ndarray], titles: Sequence[str], columns: int = 5) -> Figure:
    """Pictures in a grid, each with a title of one or two lines; grey levels shown as they are."""
    if len(pictures) != len(titles) or not pictures:
        raise ValueError(f"{len(pictures)} pictures and {len(titles)} titles: give one title per picture.")
    rows = -(-len(pictures) // columns)
    lines = max(title.count("\n") + 1 for title in titles)
    cell = FIGURE_WIDTH / columns
    fig = plt.figure(
        figsize=(FIGURE_WIDTH, rows * (cell + 0.25 * lines)), dpi=FIGURE_DPI, layout="constrained"
    )
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, picture, title in zip(axes.flat, pictures, titles, strict=False):
        ax.axis("on")
        _show_picture(ax, picture, title)
    return fig


def steps_figure(
    steps: Mapping[str, np.ndarray],
    probabilities: Mapping[str, np.ndarray] | None = None,
) -> Figure:
    """The preprocessing steps, three to a row, with each network's probabilities below if given.

    Grey levels are shown as they are (0 black, 1 white), so the inversion shows.
    """
    rows = -(-len(steps) // 3)
    heights = [1.0] * rows + ([1.1] if probabilities else [])
    fig = plt.figure(figsize=(FIGURE_WIDTH, 2.2 * sum(heights)), dpi=FIGURE_DPI, layout="constrained")
    grid = fig.add_gridspec(len(heights), 3, height_ratios=heights)
    for index, (name, picture) in enumerate(steps.items()):
        height, width = picture.shape
        title = f"{index + 1}. {handwriting.STEP_TITLES.get(name, name)}"
        _show_picture(fig.add_subplot(grid[index // 3, index % 3]), picture, title, f"{width} × {height}")
    if probabilities:
        ax = fig.add_subplot(grid[rows, :])
        digits = np.arange(NUM_CLASSES)
        width = 0.8 / len(probabilities)
        for i, (name, p) in enumerate(probabilities.items()):
            offset = (i - (len(probabilities) - 1) / 2) * width
            ax.bar(digits + offset, p, width, label=f"{name} reads {int(np.argmax(p))}")
        ax.set_xticks(digits)
        ax.set_ylim(0, 1)
        ax.set_xlabel("digit", fontsize=FONT_SIZE)
        ax.set_ylabel("probability", fontsize=FONT_SIZE)
        ax.tick_params(labelsize=FONT_SIZE)
        ax.legend(fontsize=FONT_SIZE, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False)
        ax.grid(axis="y", alpha=0.3)
    return fig


def figure_png(fig: Figure) -> bytes:
    """A figure as PNG bytes; the figure is closed, so the notebook does not show it a second time."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
    plt.close(fig)
    return buffer.getvalue()


# --- The drawing pad ------------------------------------------------------------------------------

_ESM = r"""
function make(tag, className, parent) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (parent) parent.appendChild(node);
  return node;
}

function render({ model, el }) {
  el.classList.add("mnist-pad");
  const left = make("div", "mnist-pad-left", el);
  const canvas = make("canvas", "mnist-pad-canvas", left);
  canvas.setAttribute("aria-label", "Drawing pad: draw one digit");
  const controls = make("div", "mnist-pad-controls", left);
  const clear = make("button", "mnist-pad-clear", controls);
  clear.type = "button";
  clear.textContent = "Clear";
  const message = make("div", "mnist-pad-message", controls);
  const right = make("div", "mnist-pad-right", el);
  const seen = make("div", "mnist-pad-seen", right);
  const small = make("canvas", "mnist-pad-28", seen);
  small.width = 28;
  small.height = 28;
  make("div", "mnist-pad-caption", seen).textContent = "What the networks see, 28 × 28 pixels";
  const bars = make("div", "mnist-pad-bars", right);
  const pen = canvas.getContext("2d");
  let current = null; // the stroke being drawn, [[x, y], ...], until the pointer lifts
  let pointer = null; // the one pointer (mouse, pen or finger) drawing it; others are ignored meanwhile

  function drawStroke(points) {
    if (points.length === 0) return;
    pen.beginPath();
    pen.arc(points[0][0], points[0][1], pen.lineWidth / 2, 0, 2 * Math.PI);
    pen.fill();
    pen.beginPath();
    pen.moveTo(points[0][0], points[0][1]);
    for (const [x, y] of points.slice(1)) pen.lineTo(x, y);
    pen.stroke();
  }

  function drawPad() {
    const size = model.get("size");
    if (canvas.width !== size) canvas.width = canvas.height = size;
    pen.fillStyle = "#fff";
    pen.fillRect(0, 0, size, size);
    pen.fillStyle = pen.strokeStyle = "#000";
    pen.lineWidth = model.get("pen_width");
    pen.lineCap = pen.lineJoin = "round";
    for (const stroke of model.get("strokes")) drawStroke(stroke);
    if (current) drawStroke(current);
  }

  function padPoint(event) {
    // From the page's pixels to the pad's units, inside the canvas's border.
    const box = canvas.getBoundingClientRect();
    const scale = model.get("size") / canvas.clientWidth;
    const round = (value) => Math.round(value * scale * 10) / 10;
    const x = event.clientX - box.left - canvas.clientLeft;
    const y = event.clientY - box.top - canvas.clientTop;
    return [round(x), round(y)];
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (current || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    pointer = event.pointerId;
    current = [padPoint(event)];
    drawPad();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!current || event.pointerId !== pointer) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const each of events.length ? events : [event]) current.push(padPoint(each));
    drawPad();
  });
  function finishStroke(event) {
    if (!current || event.pointerId !== pointer) return;
    const stroke = current;
    current = null;
    el.dataset.state = "reading";
    message.textContent = "Reading…";
    model.set("strokes", [...model.get("strokes"), stroke]);
    model.save_changes();
  }
  for (const name of ["pointerup", "pointercancel", "lostpointercapture"]) {
    canvas.addEventListener(name, finishStroke);
  }
  clear.addEventListener("click", () => {
    current = null;
    model.set("strokes", []);
    model.save_changes();
  });

  function drawSeen() {
    const grey = model.get("seen");
    const context = small.getContext("2d");
    const image = context.createImageData(28, 28);
    for (let i = 0; i < 28 * 28; i++) {
      const level = grey.length === 28 * 28 ? grey[i] : 0;
      image.data.set([level, level, level, 255], 4 * i);
    }
    context.putImageData(image, 0, 0);
  }

  function drawBars() {
    const probabilities = model.get("probabilities");
    bars.replaceChildren();
    for (const name of model.get("networks")) {
      const p = probabilities[name];
      const top = p ? p.indexOf(Math.max(...p)) : -1;
      const block = make("div", "mnist-pad-network", bars);
      block.dataset.network = name;
      make("div", "mnist-pad-title", block).textContent = name;
      const title = make("div", "mnist-pad-reads", block);
      title.append("reads ");
      const digit = make("span", "top-digit", title);
      digit.dataset.network = name;
      digit.dataset.digit = top >= 0 ? String(top) : "";
      digit.textContent = top >= 0 ? String(top) : "–";
      if (top >= 0) {
        make("span", "mnist-pad-confidence", title).textContent = ` (${Math.round(100 * p[top])}%)`;
      }
      for (let d = 0; d < 10; d++) {
        const row = make("div", "mnist-pad-row", block);
        make("span", "mnist-pad-digit", row).textContent = String(d);
        const track = make("span", "mnist-pad-track", row);
        const bar = make("span", d === top ? "mnist-pad-bar mnist-pad-top" : "mnist-pad-bar", track);
        bar.style.width = p ? `${(100 * p[d]).toFixed(1)}%` : "0%";
        make("span", "mnist-pad-value", row).textContent = p ? `${Math.round(100 * p[d])}%` : "";
      }
    }
  }

  function showReading() {
    message.textContent = model.get("message");
    el.dataset.state = model.get("state");
    el.dataset.strokesRead = String(model.get("strokes_read"));
    drawSeen();
    drawBars();
  }

  const changes = ["change:strokes", "change:size", "change:pen_width"];
  const readings = ["probabilities", "seen", "message", "state", "networks"].map((name) => `change:${name}`);
  for (const name of changes) model.on(name, drawPad);
  for (const name of readings) model.on(name, showReading);
  drawPad();
  showReading();
  return () => {
    for (const name of changes) model.off(name, drawPad);
    for (const name of readings) model.off(name, showReading);
  };
}

export default { render };
"""

_CSS = """
.mnist-pad { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; max-width: 590px;
  font-size: 14px; color: var(--jp-ui-font-color1, #222); }
.mnist-pad-canvas { display: block; width: 280px; height: 280px; touch-action: none; cursor: crosshair;
  border: 2px solid var(--jp-border-color1, #888); border-radius: 4px; background: #fff; }
.mnist-pad-controls { display: flex; gap: 8px; align-items: center; margin-top: 6px; width: 284px; }
.mnist-pad-clear { font-size: 14px; padding: 4px 14px; cursor: pointer; }
.mnist-pad-message { font-size: 13px; line-height: 1.3; }
.mnist-pad[data-state="error"] .mnist-pad-message { color: #b00020; font-weight: bold; }
.mnist-pad-right { display: flex; flex-direction: column; gap: 10px; width: 290px; }
.mnist-pad-seen { display: flex; align-items: center; gap: 10px; }
.mnist-pad-28 { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #888; }
.mnist-pad-caption { font-size: 13px; }
.mnist-pad-bars { display: flex; gap: 12px; }
.mnist-pad-network { width: 139px; }
.mnist-pad-title { font-weight: bold; white-space: nowrap; }
.mnist-pad-reads { margin-bottom: 4px; white-space: nowrap; }
.mnist-pad-reads .top-digit { font-size: 22px; font-weight: bold; }
.mnist-pad-row { display: flex; align-items: center; gap: 4px; height: 19px; }
.mnist-pad-digit { width: 10px; text-align: right; font-family: monospace; }
.mnist-pad-track { flex: 1; height: 13px; background: var(--jp-layout-color2, #eee); }
.mnist-pad-bar { display: block; height: 100%; background: #7a9cc6; }
.mnist-pad-bar.mnist-pad-top { background: #1f5fa8; }
.mnist-pad-value { width: 36px; text-align: right; font-size: 12px; font-family: monospace; }
"""


class DrawingPad(anywidget.AnyWidget):
    """A pad to draw a digit on; after each stroke every network's probabilities show as bars.

    Python side: set `strokes` (a list of strokes, each a list of [x, y] points on a
    `size` × `size` pad) and read `probabilities`, `top_digits`, `image` and `message`.
    """

    _esm = _ESM
    _css = _CSS

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
            f"{_escape(self.message)}</div>"
        )
        if self.steps:
            fig = steps_figure(self.steps, self.probabilities)
            self.picture.value = figure_png(fig)
            self.picture.layout.display = None
        else:
            self.picture.value = b""
            self.picture.layout.display = "none"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
