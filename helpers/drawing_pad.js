// The drawing pad's view for helpers/drawing_pad.py: it records strokes and draws what Python sends back.
// An ES module that loads nothing else, so the pad works offline with no extension to build.

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
      const ink = grey.length === 28 * 28 ? grey[i] : 0;
      const level = 255 - ink; // ink dark on white, as the notebooks draw digits
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
