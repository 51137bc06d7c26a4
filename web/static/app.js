// The page: a drawing pad and what the network makes of it, or a training run as it happens.
// It renders what the JSON API returns; every number it shows comes from the server.
"use strict";

const { diverging, ramp, css, percentile99, paintPicture, legend, formatScale, useScale } = window.netkitColors;
const { lineChart, chartLegend, downsample } = window.netkitCharts;
const $ = (id) => document.getElementById(id);

const TRAIN = { name: "training loss", colour: "#2166AC" };
const VALIDATION = { name: "validation loss", colour: "#E66101", dashed: true };
const ACCURACY = { name: "validation accuracy", colour: "#E66101", dashed: true };
const ITERATION = { name: "training loss per batch (neighbours averaged beyond 600 points)", colour: "#2166AC" };
const MAX_UNITS_SHOWN = 64;
const UNIT_RANGE_ACTIVATIONS = new Set(["sigmoid", "softmax"]); // outputs always within [0, 1]
const CHART_POINTS = 600;
const GRAY = (v) => { const g = Math.round(255 * Math.max(0, Math.min(1, v))); return [g, g, g]; };
const PIXEL_NOTE = "pixel value: 0 (black, no ink) to 1 (white, full ink), as MNIST stores its digits";

let model = null;
let lastAnswer = null;
let selectedUnit = null;
let sequence = 0;
const weightCache = new Map();

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function percent(p) {
  return `${(100 * p).toFixed(1)}%`;
}

// ---- the drawing pad ---------------------------------------------------------------------------------
const pad = $("pad");
const pen = pad.getContext("2d");
let stroke = null; // {last, middle} while the pointer is down

function padPoint(event) {
  return { x: event.offsetX * (pad.width / pad.clientWidth), y: event.offsetY * (pad.height / pad.clientHeight) };
}

function setPen() {
  pen.lineCap = "round";
  pen.lineJoin = "round";
  pen.lineWidth = 20;
  pen.strokeStyle = "#000";
  pen.fillStyle = "#000";
}

pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  setPen();
  const point = padPoint(event);
  stroke = { last: point, middle: point };
  pen.beginPath();
  pen.arc(point.x, point.y, pen.lineWidth / 2, 0, 2 * Math.PI);
  pen.fill();
});

pad.addEventListener("pointermove", (event) => {
  if (!stroke) return;
  // Coalesced events carry every point the pointer passed; curves through their midpoints keep lines smooth.
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const each of events.length ? events : [event]) {
    const point = padPoint(each);
    const middle = { x: (stroke.last.x + point.x) / 2, y: (stroke.last.y + point.y) / 2 };
    pen.beginPath();
    pen.moveTo(stroke.middle.x, stroke.middle.y);
    pen.quadraticCurveTo(stroke.last.x, stroke.last.y, middle.x, middle.y);
    pen.stroke();
    stroke = { last: point, middle };
  }
});

function endStroke() {
  if (!stroke) return;
  pen.beginPath();
  pen.moveTo(stroke.middle.x, stroke.middle.y);
  pen.lineTo(stroke.last.x, stroke.last.y);
  pen.stroke();
  stroke = null;
  predict({ image: pad.toDataURL("image/png"), preprocess: $("preprocess").checked }, "your drawing");
}

pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

$("clear").addEventListener("click", () => {
  pen.clearRect(0, 0, pad.width, pad.height);
  sequence += 1;
  lastAnswer = null;
  const prediction = $("prediction");
  prediction.dataset.state = "idle";
  prediction.dataset.digit = "";
  prediction.querySelector(".digit").textContent = "?";
  prediction.querySelector(".confidence").textContent = "draw a digit";
  $("bars").replaceChildren();
  $("layers").replaceChildren();
  for (const id of ["seen", "downsample"]) $(id).getContext("2d").clearRect(0, 0, 140, 140);
});

$("preprocess").addEventListener("change", () => {
  if (lastAnswer && lastAnswer.body.image) predict({ ...lastAnswer.body, preprocess: $("preprocess").checked }, lastAnswer.caption);
});

$("random").addEventListener("click", () => {
  if (model && model.test) loadTestDigit(Math.floor(Math.random() * model.test.n));
});

// A test digit goes onto the pad as ink, and to the network exactly as `netkit evaluate` scores it.
async function loadTestDigit(index) {
  const digit = await api(`/api/test-digit?index=${index}`);
  const side = digit.pixels.length;
  const image = pen.createImageData(side, side);
  digit.pixels.flat().forEach((v, i) => image.data.set([0, 0, 0, Math.round(255 * v)], i * 4));
  const small = document.createElement("canvas");
  small.width = small.height = side;
  small.getContext("2d").putImageData(image, 0, 0);
  pen.clearRect(0, 0, pad.width, pad.height);
  pen.imageSmoothingEnabled = true;
  pen.drawImage(small, 0, 0, pad.width, pad.height);
  predict({ pixels: digit.pixels, preprocess: false }, `test digit #${index} (labelled ${digit.label}), as it is`);
}

// ---- one answer ---------------------------------------------------------------------------------------
async function predict(body, caption) {
  sequence += 1;
  const mine = sequence;
  const prediction = $("prediction");
  prediction.dataset.state = "pending";
  let answer;
  try {
    answer = await api("/api/predict", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch (error) {
    if (mine !== sequence) return;
    prediction.dataset.state = "error";
    prediction.querySelector(".confidence").textContent = error.message;
    return;
  }
  if (mine !== sequence) return; // a newer stroke is on its way: show only the answer to the last one
  lastAnswer = { body, caption, answer };
  renderAnswer(answer, caption);
  prediction.dataset.digit = String(answer.digit);
  prediction.dataset.state = "done";
}

function renderAnswer(answer, caption) {
  const prediction = $("prediction");
  prediction.querySelector(".digit").textContent = String(answer.digit);
  prediction.querySelector(".confidence").textContent = `${percent(answer.probabilities[answer.digit])} sure · ${caption}`;
  const bars = $("bars");
  bars.replaceChildren();
  answer.probabilities.forEach((p, digit) => {
    const name = document.createElement("span");
    name.textContent = String(digit);
    const track = document.createElement("span");
    const bar = document.createElement("span");
    bar.className = digit === answer.digit ? "bar top" : "bar other";
    bar.style.display = "block";
    bar.style.width = `${Math.max(0.5, 100 * p)}%`;
    track.appendChild(bar);
    const value = document.createElement("span");
    value.textContent = percent(p);
    bars.append(name, track, value);
  });
  paintPicture($("seen"), answer.input.flat(), answer.input.length, GRAY);
  paintPicture($("downsample"), answer.downsample.flat(), answer.downsample.length, GRAY);
  $("seen-caption").textContent = lastAnswer.body.preprocess === false ? "the 28x28 input (no preprocessing)" : "the 28x28 input, preprocessed";
  renderLayers(answer);
  if (selectedUnit !== null) showUnit(selectedUnit);
}

function renderLayers(answer) {
  const container = $("layers");
  container.replaceChildren();
  answer.activations.forEach((values, layerIndex) => {
    const block = document.createElement("div");
    block.className = "layer";
    const layer = model.layers[layerIndex];
    // Chosen by the activation, not by this drawing's values, so a layer keeps one scale between drawings.
    const inUnit = UNIT_RANGE_ACTIVATIONS.has(layer.activation);
    const scale = inUnit ? 1 : percentile99(values) || 1;
    const colour = inUnit ? ramp : (v) => diverging(v, scale);
    const output = layerIndex === answer.activations.length - 1;
    const name = document.createElement("div");
    name.className = "layer-name";
    name.textContent = `layer ${layerIndex + 1}${output ? " (output)" : ""}: ${layer.units} units, ${layer.activation}`;
    const units = document.createElement("div");
    units.className = "units";
    let order = values.map((_, unit) => unit);
    if (values.length > MAX_UNITS_SHOWN) {
      order = order.sort((a, b) => Math.abs(values[b]) - Math.abs(values[a])).slice(0, MAX_UNITS_SHOWN);
    }
    for (const unit of order) units.appendChild(unitCell(answer, layerIndex, unit, colour));
    if (values.length > MAX_UNITS_SHOWN) {
      const more = document.createElement("span");
      more.className = "more";
      more.textContent = `the ${MAX_UNITS_SHOWN} strongest shown; ${values.length - MAX_UNITS_SHOWN} more units not shown`;
      units.appendChild(more);
    }
    const key = document.createElement("div");
    legend(key, inUnit ? "ramp" : "diverging", scale,
      inUnit ? "cell shade: the unit's activation, 0 to 1" : `cell shade: the unit's activation, clipped at the 99th percentile of |activation| (${formatScale(scale)})`);
    block.append(name, units, key);
    container.appendChild(block);
  });
}

function unitCell(answer, layerIndex, unit, colour) {
  const cell = document.createElement("span");
  const activation = answer.activations[layerIndex][unit];
  const weighted = answer.weighted_inputs[layerIndex];
  cell.className = "unit";
  cell.style.background = css(colour(activation));
  cell.dataset.layer = String(layerIndex);
  cell.dataset.unit = String(unit);
  const text = `layer ${layerIndex + 1}, unit ${unit}: weighted input z = ${weighted ? weighted[unit].toFixed(3) : "n/a"}, activation = ${activation.toFixed(3)}`;
  cell.title = text;
  cell.addEventListener("mouseenter", () => { $("unit-hover").textContent = text; });
  if (layerIndex === 0 && model.image_side) {
    cell.classList.add("clickable");
    if (unit === selectedUnit) cell.classList.add("selected");
    cell.addEventListener("click", () => {
      selectedUnit = unit;
      for (const other of document.querySelectorAll(".unit.selected")) other.classList.remove("selected");
      cell.classList.add("selected");
      showUnit(unit);
    });
  }
  return cell;
}

async function showUnit(unit) {
  if (!weightCache.has(unit)) weightCache.set(unit, await api(`/api/weights?layer=0&unit=${unit}`));
  const found = weightCache.get(unit);
  const side = found.shape[0];
  const weightScale = percentile99(found.weights) || 1;
  paintPicture($("unit-weights"), found.weights, side, (v) => diverging(v, weightScale));
  legend($("unit-weights-legend"), "diverging", weightScale,
    `weights: blue negative, orange positive, clipped at the 99th percentile of |weight| (${formatScale(weightScale)})`);
  const input = lastAnswer ? lastAnswer.answer.input.flat() : found.weights.map(() => 0);
  const product = found.weights.map((w, i) => w * input[i]);
  const productScale = percentile99(product) || Math.max(...product.map(Math.abs)) || 1;
  paintPicture($("unit-product"), product, side, (v) => diverging(v, productScale));
  legend($("unit-product-legend"), "diverging", productScale,
    `weight × input: blue pushes the unit down, orange up; clipped at the 99th percentile (${formatScale(productScale)})`);
  $("unit-title").textContent = `Layer 1, unit ${unit} · bias ${found.bias.toFixed(3)}`;
  const detail = $("unit-detail");
  detail.dataset.unit = String(unit);
  detail.hidden = false;
}

// ---- the model's record: history, mistakes, confusion ------------------------------------------------------
function renderHistory(history, epochChart, epochLegend, iterationChart, iterationLegend) {
  const epochs = history.epochs;
  const series = [
    { ...TRAIN, points: epochs.map((e) => [e.epoch, e.train_loss]) },
    { ...VALIDATION, points: epochs.filter((e) => e.val_loss !== null).map((e) => [e.epoch, e.val_loss]) },
  ];
  lineChart(epochChart, series, { title: "loss per epoch", xLabel: "epoch", yLabel: "loss", empty: "no epochs recorded", integerX: true });
  chartLegend(epochLegend, series);
  const iterations = [{ ...ITERATION, points: downsample(history.iteration_loss, CHART_POINTS) }];
  lineChart(iterationChart, iterations, {
    title: "loss per iteration", xLabel: "iteration", yLabel: "loss", logY: true, count: history.iteration_loss.length,
    empty: "this file keeps no per-iteration losses",
  });
  chartLegend(iterationLegend, iterations);
}

function exampleTile(example) {
  const tile = document.createElement("figure");
  tile.className = "example";
  tile.dataset.index = String(example.index);
  const image = document.createElement("img");
  image.src = example.image;
  image.alt = `test digit ${example.index}`;
  const caption = document.createElement("figcaption");
  caption.textContent = `${example.truth} → ${example.guess} (${percent(example.confidence)})`;
  tile.append(image, caption);
  tile.addEventListener("click", () => loadTestDigit(example.index));
  return tile;
}

async function renderTestSet() {
  if (!model.test) {
    $("test-summary").textContent = "No test set was loaded, so there are no mistakes to show (see the server's output).";
    return;
  }
  const test = model.test;
  $("test-summary").textContent = `${test.dataset} test set: ${percent(test.accuracy)} right on ${test.n.toLocaleString()} digits.`;
  const mistakes = await api("/api/mistakes?limit=40");
  $("mistakes").replaceChildren(...mistakes.examples.map(exampleTile));
  legend($("gallery-legend"), "gray", 1, PIXEL_NOTE + "; captions: truth → guess (confidence)");
  const confusion = await api("/api/confusion");
  const table = $("confusion");
  table.replaceChildren();
  const largest = Math.max(1, ...confusion.matrix.flat());
  const head = table.insertRow();
  head.appendChild(document.createElement("th")).textContent = "true \\ guess";
  confusion.classes.forEach((name) => { head.appendChild(document.createElement("th")).textContent = name; });
  confusion.matrix.forEach((row, truth) => {
    const tr = table.insertRow();
    tr.appendChild(document.createElement("th")).textContent = confusion.classes[truth];
    row.forEach((count, guess) => {
      const td = tr.insertCell();
      const shade = Math.log1p(count) / Math.log1p(largest);
      td.textContent = String(count);
      td.style.background = css(ramp(shade));
      td.style.color = shade > 0.55 ? "#fff" : "#111";
      td.dataset.truth = String(truth);
      td.dataset.guess = String(guess);
      td.addEventListener("click", async () => {
        for (const other of table.querySelectorAll("td.selected")) other.classList.remove("selected");
        td.classList.add("selected");
        const cell = await api(`/api/confusion?truth=${truth}&guess=${guess}&limit=40`);
        $("cell-examples").replaceChildren(...cell.examples.map(exampleTile));
      });
    });
  });
  legend($("confusion-legend"), "ramp", largest, `cell shade: how many test digits, on a log scale from 0 to ${largest}`);
}

async function startDrawing() {
  model = await api("/api/model");
  $("training").hidden = true;
  $("drawing").hidden = false;
  const test = model.test ? ` · ${percent(model.test.accuracy)} on the ${model.test.dataset} test set` : "";
  $("model-line").textContent = `${model.architecture} · ${model.parameter_count.toLocaleString()} parameters · ${model.source}${test}`;
  legend($("pixel-legend"), "gray", 1, PIXEL_NOTE);
  renderHistory(model.history, $("epoch-chart"), $("epoch-legend"), $("iteration-chart"), $("iteration-legend"));
  await renderTestSet();
}

// ---- a training run, live ---------------------------------------------------------------------------------
async function watchTraining() {
  $("training").hidden = false;
  $("drawing").hidden = true;
  const losses = [];
  let weightsVersion = 0;
  let fetchingWeights = false;
  const step = async () => {
    let progress;
    try {
      progress = await api(`/api/progress?since=${losses.length}`);
    } catch (error) {
      $("training-status").textContent = `lost the server: ${error.message}`;
      setTimeout(step, 2000);
      return;
    }
    for (const loss of progress.iteration_loss) losses.push(loss);
    renderProgress(progress, losses);
    if (progress.weights_version !== weightsVersion && !fetchingWeights) {
      fetchingWeights = true;
      api("/api/live-weights").then((snapshot) => {
        weightsVersion = snapshot.version;
        paintWeightGrid(snapshot);
      }).finally(() => { fetchingWeights = false; });
    }
    if (progress.mode === "draw") {
      await startDrawing();
      return;
    }
    if (progress.status !== "failed") setTimeout(step, 400);
  };
  step();
}

function renderProgress(progress, losses) {
  const status = $("training-status");
  status.dataset.status = progress.status;
  $("model-line").textContent = `training ${progress.architecture || "…"} · ${progress.description}`;
  const done = progress.epochs.length;
  const last = progress.epochs[done - 1];
  const accuracy = last && last.val_accuracy !== null ? ` · validation accuracy ${percent(last.val_accuracy)}` : "";
  status.textContent = progress.status === "failed"
    ? `training failed: ${progress.error}`
    : `${progress.status}: epoch ${Math.min(done + 1, progress.first_epoch + progress.epochs_planned - 1)} of ${progress.first_epoch + progress.epochs_planned - 1}, iteration ${losses.length.toLocaleString()}${accuracy}`;
  renderHistory({ epochs: progress.epochs, iteration_loss: losses }, $("live-epoch-chart"), $("live-epoch-legend"),
    $("live-iteration-chart"), $("live-iteration-legend"));
  const accuracySeries = [{ ...ACCURACY, points: progress.epochs.filter((e) => e.val_accuracy !== null).map((e) => [e.epoch, 100 * e.val_accuracy]) }];
  lineChart($("live-accuracy-chart"), accuracySeries, {
    title: "validation accuracy", xLabel: "epoch", yLabel: "accuracy %", empty: "after the first epoch", integerX: true, fromZero: false,
  });
  chartLegend($("live-accuracy-legend"), accuracySeries);
}

function paintWeightGrid(snapshot) {
  const bytes = Uint8Array.from(atob(snapshot.data), (c) => c.charCodeAt(0));
  const weights = new Float32Array(bytes.buffer);
  const side = Math.round(Math.sqrt(snapshot.inputs));
  if (side * side !== snapshot.inputs || snapshot.units === 0) return;
  const zoom = snapshot.units <= 64 ? 3 : snapshot.units <= 256 ? 2 : 1;
  const columns = Math.ceil(Math.sqrt(snapshot.units));
  const rows = Math.ceil(snapshot.units / columns);
  const tile = side * zoom + 2;
  const canvas = $("weight-grid");
  canvas.width = columns * tile;
  canvas.height = rows * tile;
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
  $("weight-grid-version").textContent = `snapshot ${snapshot.version}, ${snapshot.units} units`;
  legend($("weight-grid-legend"), "diverging", scale,
    `weights: blue negative, orange positive, one scale for the grid, clipped at the 99th percentile of |weight| (${formatScale(scale)})`);
}

api("/api/model").then((first) => {
  useScale(first.colour_scale);
  return first.mode === "training" ? watchTraining() : startDrawing();
}).catch((error) => {
  $("model-line").textContent = `cannot reach the server: ${error.message}`;
});
