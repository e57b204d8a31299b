(function () {
  "use strict";
  // By id; or, where a front end runs the script before the output is in
  // the document, the element around this script.
  const root = document.getElementById("__ID__") ||
    (document.currentScript && document.currentScript.parentElement);
  if (!root || root.vaeExplorer) return;
  const spec = JSON.parse(
    root.querySelector("script.vae-explorer-spec").textContent);
  const SIZE = 280;
  const css = "font:13px sans-serif;";

  function bytes(text) {
    const raw = atob(text), out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function half(h) {  // float16 bits -> number (exact)
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, f = h & 1023;
    if (e === 0) return s * f * Math.pow(2, -24);
    if (e === 31) return f ? NaN : s * Infinity;
    return s * (1 + f / 1024) * Math.pow(2, e - 15);
  }
  async function weights(text) {  // base64 deflate byte planes -> Float32
    const stream = new Blob([bytes(text)]).stream()
      .pipeThrough(new DecompressionStream("deflate"));
    const planes = new Uint8Array(await new Response(stream).arrayBuffer());
    const n = planes.length / 2, out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = half(planes[i] | (planes[n + i] << 8));
    return out;
  }
  async function network(net) {  // layers with Float32Array weights
    const values = await weights(net.weights);
    let offset = 0;
    return net.layers.map(function (layer) {
      if (layer.kind !== "linear") return layer;
      const nw = layer.in * layer.out;
      const W = values.subarray(offset, offset + nw);
      const b = values.subarray(offset + nw, offset + nw + layer.out);
      offset += nw + layer.out;
      return {kind: "linear", in: layer.in, out: layer.out, W: W, b: b};
    });
  }
  // Float32 storage between layers, as in PyTorch; sums in double.
  function forward(layers, input) {
    let x = Float32Array.from(input);
    for (const layer of layers) {
      if (layer.kind === "linear") {
        const y = new Float32Array(layer.out), W = layer.W, n = layer.in;
        for (let o = 0; o < layer.out; o++) {
          let acc = layer.b[o];
          const row = o * n;
          for (let i = 0; i < n; i++) acc += W[row + i] * x[i];
          y[o] = acc;
        }
        x = y;
      } else if (layer.kind === "relu") {
        for (let i = 0; i < x.length; i++) x[i] = x[i] > 0 ? x[i] : 0;
      } else if (layer.kind === "leaky_relu") {
        for (let i = 0; i < x.length; i++)
          x[i] = x[i] >= 0 ? x[i] : layer.slope * x[i];
      } else if (layer.kind === "tanh") {
        for (let i = 0; i < x.length; i++) x[i] = Math.tanh(x[i]);
      } else if (layer.kind === "sigmoid") {
        for (let i = 0; i < x.length; i++) x[i] = 1 / (1 + Math.exp(-x[i]));
      }
    }
    return x;
  }
  function inputs(u, label) {  // plane coordinates -> [z, one-hot label]
    const p = spec.plane, d = spec.zDim, x = new Float32Array(d + spec.nClasses);
    for (let j = 0; j < d; j++)
      x[j] = p.origin[j] + u[0] * p.axes[0][j] + u[1] * p.axes[1][j];
    if (spec.nClasses) x[d + label] = 1;
    return x;
  }

  function element(tag, style, text) {
    const e = document.createElement(tag);
    if (style) e.style.cssText = style;
    if (text) e.textContent = text;
    return e;
  }
  function canvas(w, h, style) {
    const c = element("canvas", style);
    c.width = w; c.height = h;
    return c;
  }
  function scatter(s, dim) {  // offscreen canvas with the quantised points
    const c = canvas(SIZE, SIZE), g = c.getContext("2d");
    g.fillStyle = "#fff"; g.fillRect(0, 0, SIZE, SIZE);
    const xy = bytes(s.xy), col = bytes(s.colors);
    g.globalAlpha = 0.55;
    for (let i = 0; i < col.length; i++) {
      const faded = dim !== null && col[i] !== dim;
      g.fillStyle = faded ? "#d8d8d8" : s.palette[col[i]];
      const px = (xy[2 * i] / 255) * (SIZE - 1);
      const py = (1 - xy[2 * i + 1] / 255) * (SIZE - 1);
      g.fillRect(px - 1, py - 1, 2, 2);
    }
    g.globalAlpha = 1;
    return c;
  }
  function toPixel(box, x, y) {
    return [(x - box[0]) / (box[1] - box[0]) * SIZE,
            (1 - (y - box[2]) / (box[3] - box[2])) * SIZE];
  }

  const box = spec.map.box, lo = spec.plane.range[0], hi = spec.plane.range[1];
  const ui = element("div", "display:none;padding:8px 0 12px;" + css);
  const row = element("div", "display:flex;flex-wrap:wrap;gap:16px;" +
                      "align-items:flex-start;");
  const map = canvas(SIZE, SIZE, "border:1px solid #bbb;cursor:crosshair;" +
                     "touch-action:none;");
  map.tabIndex = 0;
  map.setAttribute("role", "slider");  // two coordinates: valuenow is the first,
  map.setAttribute("aria-label", "latent point: drag, or use the arrow keys");
  map.setAttribute("aria-valuemin", String(lo));  // valuetext says both
  map.setAttribute("aria-valuemax", String(hi));
  map.setAttribute("aria-valuenow", "0");  // until the first render
  const image = spec.mode === "image" ?
    canvas(spec.image.width, spec.image.height,
           "width:" + 6 * spec.image.width + "px;image-rendering:pixelated;" +
           "border:1px solid #bbb;") : null;
  const dataCanvas = spec.mode === "point" ?
    canvas(SIZE, SIZE, "border:1px solid #bbb;cursor:pointer;") : null;
  const readout = element("div", "margin-top:6px;" + css);
  const labelRow = element("div", "margin-top:6px;");
  if (spec.title)
    ui.appendChild(element("div", "font-weight:bold;margin-bottom:6px;", spec.title));
  const left = element("div");
  left.appendChild(map);
  left.appendChild(element("div", css, "latent plane: " + spec.plane.names[0] +
    " across, " + spec.plane.names[1] + " up, from " + lo + " to " + hi));
  row.appendChild(left);
  const right = element("div");
  right.appendChild(image || dataCanvas);
  right.appendChild(element("div", css, image ? "decoded image (pixel means)" :
    "data space: decoded point (red)" +
    (spec.encoder ? "; click a point for its posterior" : "")));
  row.appendChild(right);
  ui.appendChild(row);
  ui.appendChild(labelRow);
  ui.appendChild(readout);
  root.appendChild(ui);

  const state = {u: [0, 0], label: 0, output: null, ms: null, times: [],
                 picked: null, ellipse: null, checkError: null};
  let layers = null, encoder = null, background = null, dataBackground = null;

  function drawMap() {
    const g = map.getContext("2d");
    g.drawImage(background, 0, 0);
    g.strokeStyle = "#888"; g.lineWidth = 1;
    const o = toPixel(box, 0, 0);
    g.beginPath(); g.moveTo(o[0], 0); g.lineTo(o[0], SIZE);
    g.moveTo(0, o[1]); g.lineTo(SIZE, o[1]); g.stroke();
    if (state.ellipse) {
      const e = state.ellipse, c = toPixel(box, e[0], e[1]);
      const sx = SIZE / (box[1] - box[0]), sy = SIZE / (box[3] - box[2]);
      g.strokeStyle = "#000"; g.lineWidth = 2;
      g.beginPath();
      g.ellipse(c[0], c[1], 2 * e[2] * sx, 2 * e[3] * sy, 0, 0, 2 * Math.PI);
      g.stroke();
    }
    const p = toPixel(box, state.u[0], state.u[1]);
    g.strokeStyle = "#000"; g.lineWidth = 2;
    g.beginPath(); g.arc(p[0], p[1], 7, 0, 2 * Math.PI); g.stroke();
    g.beginPath(); g.moveTo(p[0] - 11, p[1]); g.lineTo(p[0] + 11, p[1]);
    g.moveTo(p[0], p[1] - 11); g.lineTo(p[0], p[1] + 11); g.stroke();
  }
  function drawImage(out) {
    const g = image.getContext("2d");
    const pixels = g.createImageData(image.width, image.height);
    for (let i = 0; i < out.length; i++) {
      const v = out[i] * 255;  // Uint8ClampedArray rounds and clamps
      pixels.data[4 * i] = v; pixels.data[4 * i + 1] = v;
      pixels.data[4 * i + 2] = v; pixels.data[4 * i + 3] = 255;
    }
    g.putImageData(pixels, 0, 0);
  }
  function drawPoint(out) {
    const g = dataCanvas.getContext("2d"), dbox = spec.data.box;
    g.drawImage(dataBackground, 0, 0);
    if (state.picked) {
      const q = toPixel(dbox, state.picked[0], state.picked[1]);
      g.strokeStyle = "#000"; g.lineWidth = 2;
      g.beginPath(); g.moveTo(q[0] - 6, q[1] - 6); g.lineTo(q[0] + 6, q[1] + 6);
      g.moveTo(q[0] - 6, q[1] + 6); g.lineTo(q[0] + 6, q[1] - 6); g.stroke();
    }
    const p = toPixel(dbox, out[0], out[1]);
    g.fillStyle = "#ff0000"; g.strokeStyle = "#000"; g.lineWidth = 1.5;
    g.beginPath(); g.arc(p[0], p[1], 6, 0, 2 * Math.PI); g.fill(); g.stroke();
  }
  function render() {  // the one path that pointer, keys and API all take
    const t0 = performance.now();
    const out = forward(layers, inputs(state.u, state.label));
    if (image) drawImage(out); else drawPoint(out);
    drawMap();
    const ms = performance.now() - t0;
    state.output = Array.from(out); state.ms = ms; state.times.push(ms);
    const where = spec.plane.names[0] + " = " + state.u[0].toFixed(2) +
      ", " + spec.plane.names[1] + " = " + state.u[1].toFixed(2);
    map.setAttribute("aria-valuenow", state.u[0].toFixed(2));
    map.setAttribute("aria-valuetext", where);
    readout.textContent = where +
      (spec.nClasses ? ", label " + state.label : "") +
      (image ? "" : "; decoded point (" + out[0].toFixed(3) + ", " +
       out[1].toFixed(3) + ")") + "; drawn in " + ms.toFixed(2) + " ms";
    return {u: state.u.slice(), label: state.label, output: state.output, ms: ms};
  }
  function moveTo(u1, u2) {
    state.u = [Math.min(hi, Math.max(lo, u1)), Math.min(hi, Math.max(lo, u2))];
    return render();
  }
  function setLabel(y) {
    state.label = y;
    background = scatter(spec.map, spec.map.labels ? y : null);
    labelRow.querySelectorAll("button").forEach(function (b, i) {
      b.style.fontWeight = i === y ? "bold" : "normal";
      b.style.background = i === y ? "#ddd" : "";
    });
    return render();
  }
  function pick(x1, x2) {  // posterior of a data point: ellipse, z = mean
    const out = forward(encoder, [x1, x2].concat(
      new Array(spec.encoder.in - 2).fill(0)));
    state.picked = [x1, x2];
    state.ellipse = [out[0], out[1], Math.exp(out[2] / 2), Math.exp(out[3] / 2)];
    return moveTo(out[0], out[1]);
  }
  function fromPixel(b, c, event) {
    const r = c.getBoundingClientRect();  // content box: inside the border
    const fx = (event.clientX - r.left - c.clientLeft) / c.clientWidth;
    const fy = (event.clientY - r.top - c.clientTop) / c.clientHeight;
    return [b[0] + fx * (b[1] - b[0]), b[3] - fy * (b[3] - b[2])];
  }
  function selfCheck() {  // the export must reproduce the float32 decoder
    const c = spec.check, n = c.u.length, ref = c.bytes ? bytes(c.bytes) : null;
    let worst = 0;
    for (let k = 0; k < n; k++) {
      const out = forward(layers, inputs(c.u[k], c.labels[k]));
      for (let i = 0; i < out.length; i++) {
        const d = ref ? Math.abs(Math.round(out[i] * 255) - ref[k * out.length + i])
                      : Math.abs(out[i] - c.values[k][i]);
        worst = Math.max(worst, d);
      }
    }
    return worst <= c.tol ? null : "largest difference " + worst +
      (ref ? "/255" : " data units") + " (allowed " + c.tol + ")";
  }

  async function start() {
    if (typeof DecompressionStream === "undefined") {
      root.appendChild(element("p", css, "This browser cannot unpack the " +
        "explorer's weights (no DecompressionStream)."));
      return;
    }
    layers = await network(spec.net);
    if (spec.encoder) encoder = await network(spec.encoder);
    if (dataCanvas) dataBackground = scatter(spec.data, null);
    background = scatter(spec.map, null);
    state.checkError = selfCheck();
    if (state.checkError) {
      const message = "VAE explorer: the exported weights do not reproduce " +
        "the decoder they came from (" + state.checkError + "); the export " +
        "is broken.";
      root.appendChild(element("p", "color:#b00;font-weight:bold;", message));
      console.error(message);
    }
    if (spec.nClasses) {
      labelRow.appendChild(element("span", css, "label: "));
      for (let y = 0; y < spec.nClasses; y++) {
        const b = element("button", "margin:0 2px;min-width:28px;", String(y));
        b.addEventListener("click", function () { setLabel(y); });
        labelRow.appendChild(b);
      }
    }
    let dragging = false;
    map.addEventListener("pointerdown", function (e) {
      dragging = true; map.setPointerCapture(e.pointerId);
      const u = fromPixel(box, map, e); moveTo(u[0], u[1]);
    });
    map.addEventListener("pointermove", function (e) {
      if (!dragging) return;
      const u = fromPixel(box, map, e); moveTo(u[0], u[1]);
    });
    map.addEventListener("pointerup", function () { dragging = false; });
    map.addEventListener("keydown", function (e) {
      const step = (hi - lo) / 60 * (e.shiftKey ? 5 : 1);
      const moves = {ArrowLeft: [-step, 0], ArrowRight: [step, 0],
                     ArrowUp: [0, step], ArrowDown: [0, -step]};
      if (moves[e.key]) {
        e.preventDefault();
        moveTo(state.u[0] + moves[e.key][0], state.u[1] + moves[e.key][1]);
      } else if (spec.nClasses && /^[0-9]$/.test(e.key) &&
                 Number(e.key) < spec.nClasses) {
        setLabel(Number(e.key));
      }
    });
    if (dataCanvas && encoder) {
      dataCanvas.addEventListener("pointerdown", function (e) {
        const x = fromPixel(spec.data.box, dataCanvas, e); pick(x[0], x[1]);
      });
    }
    ui.style.display = "block";
    setLabel(0);
  }
  root.vaeExplorer = {spec: spec, state: state, moveTo: moveTo,
                      setLabel: setLabel,
                      pick: function (x1, x2) { return pick(x1, x2); },
                      imageCanvas: image, dataCanvas: dataCanvas, mapCanvas: map};
  root.vaeExplorer.ready = start().catch(function (error) {
    console.error("VAE explorer failed to start: " + error);
    throw error;
  });
})();
