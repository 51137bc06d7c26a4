// netkit's shared colour scales (the same stops as the CLI's pictures), readable with colour blindness:
// signed values run blue -> near-white -> orange, never red -> green; values in [0, 1] run one hue.
(() => {
"use strict";

// The stops and the percentile come from the server (netkit.pictures.colours, the one definition the CLI's
// pictures use too) through useScale(); these are the same values, for the moment before it answers.
let NEGATIVE = [0x21, 0x66, 0xac]; // #2166AC
let ZERO = [0xf7, 0xf7, 0xf7]; // #F7F7F7
let POSITIVE = [0xe6, 0x61, 0x01]; // #E66101
let RAMP_TOP = [0x08, 0x30, 0x6b]; // #08306B
let PERCENTILE = 99;

function fromHex(text) {
  return [1, 3, 5].map((i) => parseInt(text.slice(i, i + 2), 16));
}

function useScale(scale) {
  NEGATIVE = fromHex(scale.negative);
  ZERO = fromHex(scale.zero);
  POSITIVE = fromHex(scale.positive);
  RAMP_TOP = fromHex(scale.activation_high);
  PERCENTILE = scale.percentile;
}

function stops() {
  return { negative: NEGATIVE, zero: ZERO, positive: POSITIVE, activation_high: RAMP_TOP, percentile: PERCENTILE };
}

function mix(from, to, t) {
  return [0, 1, 2].map((i) => Math.round(from[i] + (to[i] - from[i]) * t));
}

// A signed value as [r, g, b]: linear in RGB between the stops, clipped at +-scale.
function diverging(value, scale) {
  const t = scale > 0 ? Math.max(-1, Math.min(1, value / scale)) : 0;
  return t < 0 ? mix(ZERO, NEGATIVE, -t) : mix(ZERO, POSITIVE, t);
}

// A value in [0, 1] (an activation, a probability) as [r, g, b].
function ramp(value) {
  return mix(ZERO, RAMP_TOP, Math.max(0, Math.min(1, value)));
}

function css(rgb) {
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}

// The 99th percentile of |values| (interpolated as NumPy's percentile does): one outlier weight must not
// wash out every other colour.
function percentile99(values) {
  const magnitudes = Float64Array.from(values, Math.abs).filter(Number.isFinite).sort();
  if (magnitudes.length === 0) return 0;
  const position = (PERCENTILE / 100) * (magnitudes.length - 1);
  const below = Math.floor(position);
  const above = Math.min(magnitudes.length - 1, below + 1);
  return magnitudes[below] + (magnitudes[above] - magnitudes[below]) * (position - below);
}

// Paint a side x side picture of values into a canvas of any size (nearest neighbour, crisp pixels).
function paintPicture(canvas, values, side, colour) {
  const small = document.createElement("canvas");
  small.width = side;
  small.height = values.length / side;
  const context = small.getContext("2d");
  const image = context.createImageData(small.width, small.height);
  for (let i = 0; i < values.length; i += 1) {
    const rgb = colour(values[i]);
    image.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  }
  context.putImageData(image, 0, 0);
  const target = canvas.getContext("2d");
  target.imageSmoothingEnabled = false;
  target.clearRect(0, 0, canvas.width, canvas.height);
  target.drawImage(small, 0, 0, canvas.width, canvas.height);
}

// A first-layer weight snapshot ({data: base64 float32, units, inputs}) as one square tile per unit, on one
// diverging scale (the 99th percentile of |weight|); returns that scale, or null for inputs that are no square.
function paintWeightTiles(canvas, snapshot) {
  const bytes = Uint8Array.from(atob(snapshot.data), (c) => c.charCodeAt(0));
  const weights = new Float32Array(bytes.buffer);
  const side = Math.round(Math.sqrt(snapshot.inputs));
  if (side * side !== snapshot.inputs || snapshot.units === 0) return null;
  const zoom = snapshot.units <= 64 ? 3 : snapshot.units <= 256 ? 2 : 1;
  const columns = Math.ceil(Math.sqrt(snapshot.units));
  const tile = side * zoom + 2;
  canvas.width = columns * tile;
  canvas.height = Math.ceil(snapshot.units / columns) * tile;
  const scale = percentile99(weights) || 1;
  const context = canvas.getContext("2d");
  const image = context.createImageData(canvas.width, canvas.height);
  image.data.fill(255);
  for (let unit = 0; unit < snapshot.units; unit += 1) {
    const left = (unit % columns) * tile + 1;
    const top = Math.floor(unit / columns) * tile + 1;
    for (let p = 0; p < snapshot.inputs; p += 1) {
      const rgb = diverging(weights[unit * snapshot.inputs + p], scale);
      const x0 = left + (p % side) * zoom;
      const y0 = top + Math.floor(p / side) * zoom;
      for (let dy = 0; dy < zoom; dy += 1) {
        for (let dx = 0; dx < zoom; dx += 1) image.data.set(rgb, ((y0 + dy) * canvas.width + x0 + dx) * 4);
      }
    }
  }
  context.putImageData(image, 0, 0);
  canvas.dataset.version = String(snapshot.version);
  return scale;
}

// A legend: a gradient strip with labelled ends, and the sentence that says what the colours mean.
function legend(element, kind, scale, text) {
  element.replaceChildren();
  element.classList.add("legend");
  const strip = document.createElement("span");
  strip.className = "strip";
  const stops = kind === "diverging" ? [NEGATIVE, ZERO, POSITIVE] : kind === "gray" ? [[0, 0, 0], [255, 255, 255]] : [ZERO, RAMP_TOP];
  strip.style.background = `linear-gradient(to right, ${stops.map(css).join(", ")})`;
  const low = document.createElement("span");
  const high = document.createElement("span");
  if (kind === "diverging") {
    low.textContent = `≤ −${formatScale(scale)}`;
    high.textContent = `≥ +${formatScale(scale)}`;
  } else {
    low.textContent = "0";
    high.textContent = kind === "gray" ? "1" : Number.isInteger(scale) ? String(scale) : formatScale(scale || 1);
  }
  const note = document.createElement("span");
  note.className = "legend-note";
  note.textContent = text;
  element.append(low, strip, high, note);
}

function formatScale(value) {
  if (!Number.isFinite(value) || value === 0) return "0";
  return Math.abs(value) >= 0.01 ? value.toFixed(2) : value.toExponential(1);
}

window.netkitColors = {
  diverging, ramp, css, percentile99, paintPicture, paintWeightTiles, legend, formatScale, useScale, stops,
};
})();
