// The page: a drawing pad and what the network makes of it, or a training run as it happens.
// It renders what the JSON API returns; every number it shows comes from the server.
"use strict";

const { diverging, ramp, css, percentile99, paintPicture, paintWeightTiles, legend, formatScale, useScale } = window.netkitColors;
const { fetchJson } = window.netkitRequests;
const { lineChart, chartLegend, downsample } = window.netkitCharts;
const $ = (id) => document.getElementById(id);

const TRAIN = { name: "training loss", colour: "#2166AC" };
const VALIDATION = { name: "validation loss", colour: "#E66101", dashed: true };
const ACCURACY = { name: "validation accuracy", colour: "#E66101", dashed: true };
const ITERATION = { name: "training loss per batch (neighbours averaged beyond 600 points)", colour: "#2166AC" };
const CHART_POINTS = 600;
const GRAY = (v) => { const g = Math.round(255 * Math.max(0, Math.min(1, v))); return [g, g, g]; };
const PIXEL_NOTE = "pixel value: 0 (black, no ink) to 1 (white, full ink), as MNIST stores its digits";

let model = null;
let lastAnswer = null;
let selected = null; // { layer, node }: the opened node of the drawn network
let tracedUnit = null; // { layer, unit, node, maps }: the unit whose sum is worked out
let diagram = null; // the last /api/network reply
let networkSequence = 0;
let sequence = 0;
const weightCache = new Map();

const SERVER_GONE = "The netkit server is not answering: it was stopped, or this machine went to sleep. "
  + "Start it again (netkit serve, or netkit train --web) and reload this page.";

// Every request of the page; a server that has gone away is said so in words, not as the browser's error.
const api = (path, options) => fetchJson(path, options, serverGone);

function serverGone(gone) {
  const banner = $("server-gone");
  if (gone) banner.textContent = SERVER_GONE;
  banner.hidden = !gone;
}

// One Tab stop per group (a layer's units, a gallery, the confusion matrix); the arrow keys move inside it.
function roving(container, columns = 1) {
  container.addEventListener("keydown", (event) => {
    const items = [...container.querySelectorAll("[data-roving]")];
    const index = items.indexOf(document.activeElement);
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns, Home: -index, End: items.length - 1 - index };
    if (index < 0 || !(event.key in moves)) return;
    event.preventDefault();
    items[Math.max(0, Math.min(items.length - 1, index + moves[event.key]))].focus();
  });
  container.addEventListener("focusin", (event) => {
    if (event.target.dataset.roving !== undefined) makeCurrent(container, event.target);
  });
}

function makeCurrent(container, current) {
  const items = container.querySelectorAll("[data-roving]");
  items.forEach((item, index) => { item.tabIndex = item === current || (!current && index === 0) ? 0 : -1; });
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

function blank(canvas) {
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
}

// Clear forgets the drawing everywhere it shows: the pad, the answer, the pictures, the units' shades.
$("clear").addEventListener("click", () => {
  blank(pad);
  sequence += 1;
  lastAnswer = null;
  const prediction = $("prediction");
  prediction.dataset.state = "idle";
  prediction.dataset.digit = "";
  prediction.querySelector(".digit").textContent = "?";
  prediction.querySelector(".confidence").textContent = "draw a digit";
  $("bars").replaceChildren();
  for (const id of ["seen", "downsample", "unit-product"]) blank($(id));
  $("seen-caption").textContent = "the 28x28 input";
  $("unit-product-legend").replaceChildren(document.createTextNode("weight × input: draw a digit to see it"));
  for (const id of ["unit-map"]) blank($(id));
  refreshNetwork(false);
});

$("preprocess").addEventListener("change", () => {
  if (lastAnswer) predict({ ...lastAnswer.body, preprocess: $("preprocess").checked }, lastAnswer.caption);
});

$("random").addEventListener("click", () => {
  if (model && model.test) loadTestDigit(Math.floor(Math.random() * model.test.n));
});

// A test digit goes onto the pad as ink; with preprocessing off, to the network exactly as `netkit evaluate`
// scores it. `reveal`: scroll the answer into view (the digit was chosen from further down the page).
async function loadTestDigit(index, reveal = false) {
  let digit;
  try {
    digit = await api(`/api/test-digit?index=${index}`);
  } catch (error) {
    showError(error);
    return;
  }
  const side = digit.pixels.length;
  const image = pen.createImageData(side, side);
  digit.pixels.flat().forEach((v, i) => image.data.set([0, 0, 0, Math.round(255 * v)], i * 4));
  const small = document.createElement("canvas");
  small.width = small.height = side;
  small.getContext("2d").putImageData(image, 0, 0);
  pen.clearRect(0, 0, pad.width, pad.height);
  pen.imageSmoothingEnabled = true;
  pen.drawImage(small, 0, 0, pad.width, pad.height);
  await predict({ pixels: digit.pixels, preprocess: $("preprocess").checked }, `test digit #${index} (labelled ${digit.label})`);
  if (reveal) $("answer").scrollIntoView({ block: "nearest" });
}

function showError(error) {
  const prediction = $("prediction");
  prediction.dataset.state = "error";
  prediction.querySelector(".digit").textContent = "?";
  prediction.querySelector(".confidence").textContent = error.message;
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
    if (mine === sequence) showError(error);
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
  refreshNetwork(true);
}

// ---- the network drawn ----------------------------------------------------------------------------------
function networkOptions() {
  return { nodes: Number($("units-shown").value), links: Number($("links-shown").value), measure: $("link-measure").value };
}

// The diagram for the current drawing (or, with none, for the weights alone) from /api/network.
async function refreshNetwork(animate) {
  networkSequence += 1;
  const mine = networkSequence;
  const options = networkOptions();
  $("network-drawing").dataset.state = "loading";
  let reply;
  try {
    reply = lastAnswer
      ? await api("/api/network", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ...lastAnswer.body, ...options }) })
      : await api(`/api/network?nodes=${options.nodes}&links=${options.links}`);
  } catch (error) {
    $("network-notes").textContent = `cannot draw the network: ${error.message}`;
    return;
  }
  if (mine !== networkSequence) return;
  diagram = reply;
  drawNetwork(animate);
  const column = selected && diagram.columns.find((each) => each.layer === selected.layer);
  const position = column ? column.drawn.indexOf(selected.node) : -1;
  if (position >= 0 && lastAnswer) openNode(column, position, false);
}

function drawNetwork(animate) {
  if (!diagram) return;
  const svg = $("network-drawing");
  window.netkitNetwork.render(svg, diagram, lastAnswer ? lastAnswer.answer : null, {
    model: { classes: model.test ? model.test.classes : null, imageSide: model.image_side },
    selected,
    animate,
    onOpen: (column, position) => openNode(column, position, true),
    onDescribe: (text) => { $("unit-hover").textContent = text; },
  });
  for (const group of svg.querySelectorAll(".nodes .column[role='group']")) makeCurrent(group, group.querySelector(".unit.selected"));
  describeNetwork();
}

const LINK_WORDS = {
  contribution: "weight × activation: what each node sends along the line (w·x; for a feature map, its average share of the map's z)",
  weight: "weight (for feature maps, the sum of the kernel weights joining them)",
};

// The sentences under the drawing: what is drawn, what is left out, and what the colours mean.
function describeNetwork() {
  const notes = [];
  const columns = diagram.columns;
  const input = columns[0];
  notes.push(input.kind === "units"
    ? `Input: the ${model.image_side ? `${model.image_side}×${model.image_side} picture` : `${input.nodes} values`} the network sees, drawn as a picture; each line into layer 1 starts at its pixel.`
    : `Input: the picture as ${input.nodes} map${input.nodes > 1 ? "s" : ""} of ${input.node_shape.join("×")}.`);
  for (const column of columns.slice(1)) {
    const what = column.kind === "maps" ? `feature maps of ${column.node_shape.join("×")}` : "units";
    let sampled = "";
    if (column.chosen_by !== "all") {
      sampled = column.chosen_by === "most active"
        ? ` — the ${column.drawn.length} most active for this drawing are drawn (sampled: ${column.nodes - column.drawn.length} not shown)`
        : ` — ${column.drawn.length} evenly spaced ones are drawn until you draw a digit (sampled: ${column.nodes - column.drawn.length} not shown)`;
    }
    notes.push(`Layer ${column.layer + 1}: ${column.description}, ${column.nodes} ${what}${sampled}.`);
  }
  const first = columns.find((column) => column.links && column.links.kind === "weights");
  notes.push(`Lines: the strongest ${diagram.links_per_layer} links into each layer between drawn nodes${first ? ` (layer ${first.layer + 1} has ${first.links.total.toLocaleString()})` : ""}, `
    + `coloured by ${LINK_WORDS[diagram.measure]}: blue negative, orange positive, thicker and darker is stronger, each layer scaled to its strongest line.`
    + (columns.some((column) => column.links && column.links.kind === "one-to-one") ? " Grey lines join each map to the map a pooling layer shrinks it to." : "")
    + (diagram.measure === "weight" && !lastAnswer ? " Draw a digit to colour them by weight × activation." : ""));
  const list = $("network-notes");
  list.replaceChildren(...notes.map((text) => { const item = document.createElement("li"); item.textContent = text; return item; }));
  const legends = $("network-legends");
  legends.replaceChildren();
  const kinds = new Map(columns.slice(1).map((column) => [window.netkitNetwork.columnColour(column).kind, column]));
  if (kinds.has("ramp")) {
    const key = document.createElement("div");
    legend(key, "ramp", 1, "node shade (sigmoid, softmax): the unit's activation, 0 to 1");
    legends.appendChild(key);
  }
  if (kinds.has("diverging")) {
    const key = document.createElement("div");
    const scale = window.netkitNetwork.columnColour(kinds.get("diverging")).scale;
    legend(key, "diverging", scale, `node shade (other activations, feature maps): blue negative, orange positive, clipped at each layer's 99th percentile of |activation| (layer ${kinds.get("diverging").layer + 1}: ${formatScale(scale)})`);
    legends.appendChild(key);
  }
  renderKernels(columns.find((column) => column.kernels));
}

// The first convolution's kernels, one tile per filter (issue: what each feature map looks for).
function renderKernels(column) {
  const section = $("kernels");
  section.hidden = !column;
  if (!column) return;
  const all = column.kernels.flat(3);
  const scale = percentile99(all) || 1;
  const tiles = column.kernels.map((kernel, position) => {
    const figure = document.createElement("figure");
    figure.className = "kernel";
    const canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `layer ${column.layer + 1}, map ${column.drawn[position]}: its ${kernel.length} kernel${kernel.length > 1 ? "s" : ""} of ${kernel[0].length}×${kernel[0][0].length}`);
    window.netkitNetwork.paintTiles(canvas, kernel, (v) => diverging(v, scale), 8);
    const caption = document.createElement("figcaption");
    caption.textContent = `map ${column.drawn[position]}`;
    figure.append(canvas, caption);
    return figure;
  });
  $("kernel-tiles").replaceChildren(...tiles);
  $("kernels-title").textContent = `Layer ${column.layer + 1}'s kernels (${column.description})`;
  legend($("kernels-legend"), "diverging", scale, `kernel weights: blue negative, orange positive, clipped at the 99th percentile (${formatScale(scale)}); each slides over the picture to make its feature map`);
}

// A node opened by click or Enter: its weights, its map, its incoming lines, and its sum worked out.
function openNode(column, position, fresh) {
  const index = column.drawn[position];
  selected = { layer: column.layer, node: index };
  window.netkitNetwork.highlight($("network-drawing"), selected);
  showUnit(column, position);
  const weighted = column.links && column.links.kind === "weights";
  if (!weighted) {
    tracedUnit = null;
    $("unit-trace").hidden = true;
    return;
  }
  const unit = column.kind === "maps" ? (column.peaks ? column.peaks[position] : null) : index;
  tracedUnit = { layer: column.layer, unit, node: index, maps: column.kind === "maps" };
  if (fresh || lastAnswer) traceUnit(false);
}

// The clicked unit worked out by the server's model.trace; `learn` also shows the update it made (on a copy).
async function traceUnit(learn) {
  const panel = $("unit-trace");
  panel.hidden = false;
  if (!tracedUnit) return;
  const { layer, unit, node, maps } = tracedUnit;
  const output = layer === model.layers.length - 1;
  $("unit-trace-title").textContent = maps
    ? `Layer ${layer + 1}, feature map ${node} at its strongest position, worked out`
    : `Layer ${layer + 1}, unit ${unit}${output ? ` (digit ${unit})` : ""}, worked out`;
  if (!lastAnswer || unit === null) {
    $("unit-sum").textContent = "Draw a digit first: the sum is worked out with its numbers.";
    return;
  }
  const picker = $("trace-label");
  if (!picker.dataset.chosen) picker.value = String(lastAnswer.answer.digit);
  panel.dataset.state = "pending";
  let traced;
  try {
    const body = { ...lastAnswer.body, label: Number(picker.value), layer, unit };
    traced = await api("/api/trace", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch (error) {
    $("unit-sum").textContent = `cannot work this unit out: ${error.message}`;
    panel.dataset.state = "error";
    return;
  }
  $("unit-sum").textContent = traced.unit.lines.join("\n");
  $("unit-sum").dataset.z = String(traced.unit.z);
  $("unit-sum").dataset.writtenSum = String(traced.unit.written_sum);
  const result = $("learn-result");
  result.hidden = !learn;
  if (learn) {
    $("learn-loss").textContent = `One step (${traced.optimizer}, learning rate ${traced.learning_rate}) towards "${traced.label}": `
      + `loss ${traced.loss_before.toFixed(4)} → ${traced.loss_after.toFixed(4)}; prediction ${traced.prediction_before} → ${traced.prediction_after}.`;
    $("learn-probabilities").textContent = "probabilities after: "
      + traced.probabilities_after.map((p, digit) => `${digit}: ${percent(p)}`).join(", ");
    result.dataset.probabilities = JSON.stringify(traced.probabilities_after);
    const change = traced.unit.weight_change;
    const scale = percentile99(change) || 1;
    const side = Math.round(Math.sqrt(change.length));
    const square = side * side === change.length;
    paintPicture($("unit-change"), change, square ? side : change.length, (v) => diverging(v, scale));
    legend($("unit-change-legend"), "diverging", scale,
      `weight change: blue down, orange up, clipped at the 99th percentile (${formatScale(scale)}); bias change ${traced.unit.bias_change.toPrecision(3)}`);
  }
  panel.dataset.state = learn ? "learned" : "done";
}

for (let digit = 0; digit < 10; digit += 1) {
  const option = document.createElement("option");
  option.value = String(digit);
  option.textContent = String(digit);
  $("trace-label").appendChild(option);
}
$("trace-label").addEventListener("change", () => {
  $("trace-label").dataset.chosen = "yes";
  traceUnit(false);
});
$("learn").addEventListener("click", () => traceUnit(true));

async function showUnit(column, position) {
  const index = column.drawn[position];
  const layer = column.layer;
  const detail = $("unit-detail");
  const name = column.kind === "maps" ? `Layer ${layer + 1}, feature map ${index}` : `Layer ${layer + 1}, unit ${index}`;
  detail.dataset.unit = String(index);
  detail.dataset.layer = String(layer);
  detail.hidden = false;
  const mapFigure = $("unit-map").closest("figure");
  mapFigure.hidden = !(column.kind === "maps" && column.values);
  if (!mapFigure.hidden) {
    const paint = window.netkitNetwork.columnColour(column);
    paintPicture($("unit-map"), column.values[position].flat(), column.node_shape[1], paint.colour);
    $("unit-map").setAttribute("aria-label", `${name} for this drawing, ${column.node_shape.join("×")}`);
  }
  const weighted = column.links && column.links.kind === "weights";
  $("unit-weights").closest("figure").hidden = !weighted;
  $("unit-product").closest("figure").hidden = true;
  if (!weighted) {
    $("unit-title").textContent = `${name} · ${column.description}`;
    $("unit-weights-legend").textContent = `${column.description} has no weights: each value of this map comes from a window of the map below it.`;
    $("unit-product-legend").replaceChildren();
    return;
  }
  const key = `${layer}:${index}`;
  if (!weightCache.has(key)) {
    try {
      weightCache.set(key, await api(`/api/weights?layer=${layer}&unit=${index}`));
    } catch (error) {
      $("unit-hover").textContent = `cannot show the weights of ${name.toLowerCase()}: ${error.message}`;
      return;
    }
  }
  if (detail.dataset.unit !== String(index) || detail.dataset.layer !== String(layer)) return; // another was opened
  const found = weightCache.get(key);
  const weightScale = percentile99(found.weights) || 1;
  const colour = (v) => diverging(v, weightScale);
  const shape = found.shape;
  const square = shape.length === 2;
  let arrangement;
  if (square) {
    $("unit-weights").width = $("unit-weights").height = 168;
    paintPicture($("unit-weights"), found.weights, shape[1], colour);
    arrangement = `its ${found.weights.length} weights as a ${shape.join("×")} picture`;
  } else if (shape.length === 3) {
    const per = shape[1] * shape[2];
    const tiles = Array.from({ length: shape[0] }, (_, c) => {
      const flat = found.weights.slice(c * per, (c + 1) * per);
      return Array.from({ length: shape[1] }, (_, r) => flat.slice(r * shape[2], (r + 1) * shape[2]));
    });
    window.netkitNetwork.paintTiles($("unit-weights"), tiles, colour, Math.max(2, Math.floor(48 / shape[1])));
    arrangement = `its ${found.weights.length} weights: ${shape[0]} tile${shape[0] > 1 ? "s" : ""} of ${shape[1]}×${shape[2]}, one per map below`;
  } else {
    const side = Math.ceil(Math.sqrt(found.weights.length));
    const padded = [...found.weights, ...new Array(side * side - found.weights.length).fill(0)];
    $("unit-weights").width = $("unit-weights").height = 168;
    paintPicture($("unit-weights"), padded, side, colour);
    arrangement = `its ${found.weights.length} weights, one cell per unit below, in order, row by row`;
  }
  $("unit-weights-caption").textContent = arrangement;
  legend($("unit-weights-legend"), "diverging", weightScale,
    `weights: blue negative, orange positive, clipped at the 99th percentile of |weight| (${formatScale(weightScale)})`);
  $("unit-weights").setAttribute("aria-label", `${name}: ${arrangement}`);
  const picture = square && shape[0] * shape[1] === (lastAnswer ? lastAnswer.answer.input.flat().length : -1);
  $("unit-product").closest("figure").hidden = !(square && layer === 0);
  if (picture && layer === 0) {
    const input = lastAnswer.answer.input.flat();
    const product = found.weights.map((w, i) => w * input[i]);
    const productScale = percentile99(product) || Math.max(...product.map(Math.abs)) || 1;
    paintPicture($("unit-product"), product, shape[1], (v) => diverging(v, productScale));
    legend($("unit-product-legend"), "diverging", productScale,
      `weight × input: blue pushes the unit down, orange up; clipped at the 99th percentile (${formatScale(productScale)})`);
  } else {
    blank($("unit-product"));
    $("unit-product-legend").replaceChildren(document.createTextNode(layer === 0 && square ? "weight × input: draw a digit to see it" : ""));
  }
  $("unit-product").setAttribute("aria-label", `${name}: each weight times the input pixel under it`);
  $("unit-title").textContent = `${name} · bias ${found.bias.toFixed(3)}`;
}

// ---- the model's record: history, mistakes, confusion ------------------------------------------------------
function renderHistory(history, epochChart, epochLegend, iterationChart, iterationLegend, live = false) {
  const epochs = history.epochs;
  const series = [
    { ...TRAIN, points: epochs.map((e) => [e.epoch, e.train_loss]) },
    { ...VALIDATION, points: epochs.filter((e) => e.val_loss !== null).map((e) => [e.epoch, e.val_loss]) },
  ];
  lineChart(epochChart, series, {
    title: "loss per epoch", xLabel: "epoch", yLabel: "loss", empty: live ? "after the first epoch" : "no epochs recorded", integerX: true,
  });
  chartLegend(epochLegend, series);
  const iterations = [{ ...ITERATION, points: downsample(history.iteration_loss, CHART_POINTS) }];
  lineChart(iterationChart, iterations, {
    title: "loss per iteration", xLabel: "iteration", yLabel: "loss", logY: true, count: history.iteration_loss.length,
    empty: live ? "the first batch's loss appears here" : "this file keeps no per-iteration losses",
  });
  chartLegend(iterationLegend, iterations);
}

function exampleTile(example) {
  const tile = document.createElement("button");
  tile.type = "button";
  tile.className = "example";
  tile.dataset.index = String(example.index);
  tile.dataset.roving = "";
  const image = document.createElement("img");
  image.src = example.image;
  image.alt = `test digit ${example.index}: a ${example.truth} the model reads as ${example.guess}, ${percent(example.confidence)} sure`;
  const caption = document.createElement("span");
  caption.className = "caption";
  caption.setAttribute("aria-hidden", "true"); // the image's text says it in words
  caption.textContent = `${example.truth} → ${example.guess} (${percent(example.confidence)})`;
  tile.append(image, caption);
  tile.addEventListener("click", () => {
    for (const other of document.querySelectorAll(".example.selected")) other.classList.remove("selected");
    tile.classList.add("selected");
    loadTestDigit(example.index, true);
  });
  return tile;
}

function fillGallery(container, examples) {
  container.replaceChildren(...examples.map(exampleTile));
  makeCurrent(container, null);
}

async function renderTestSet() {
  if (!model.test) {
    $("test-summary").textContent = "No test set was loaded, so there are no mistakes to show (see the server's output).";
    return;
  }
  const test = model.test;
  $("test-summary").textContent = `${test.dataset} test set: ${percent(test.accuracy)} right on ${test.n.toLocaleString()} digits.`;
  const mistakes = await api("/api/mistakes?limit=40");
  fillGallery($("mistakes"), mistakes.examples);
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
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = String(count);
      button.dataset.roving = "";
      const truthName = confusion.classes[truth];
      const guessName = confusion.classes[guess];
      button.setAttribute("aria-label", `${count} test digits that are ${truthName}, read as ${guessName}`);
      td.appendChild(button);
      td.style.background = css(ramp(shade));
      td.style.color = shade > 0.55 ? "#fff" : "#111";
      td.dataset.truth = String(truth);
      td.dataset.guess = String(guess);
      button.addEventListener("click", async () => {
        for (const other of table.querySelectorAll("td.selected")) other.classList.remove("selected");
        td.classList.add("selected");
        try {
          const cell = await api(`/api/confusion?truth=${truth}&guess=${guess}&limit=40`);
          fillGallery($("cell-examples"), cell.examples);
        } catch (error) {
          $("cell-examples").textContent = `cannot show these digits: ${error.message}`;
        }
      });
    });
  });
  makeCurrent(table, null);
  legend($("confusion-legend"), "ramp", largest, `cell shade: how many test digits, on a log scale from 0 to ${largest}`);
}

// `afterTraining`: the run that just ended keeps its charts and weights on the page, in the history's place.
async function startDrawing(afterTraining = false) {
  model = await api("/api/model");
  if (afterTraining) {
    $("training").querySelector("h2").textContent = "How it learned";
    $("history").replaceWith($("training"));
  } else {
    $("training").hidden = true;
  }
  $("drawing").hidden = false;
  const test = model.test ? ` · ${percent(model.test.accuracy)} on the ${model.test.dataset} test set` : "";
  $("model-line").textContent = `${model.architecture} · ${model.parameter_count.toLocaleString()} parameters · ${model.source}${test}`;
  legend($("pixel-legend"), "gray", 1, PIXEL_NOTE);
  refreshNetwork(false);
  renderHistory(model.history, $("epoch-chart"), $("epoch-legend"), $("iteration-chart"), $("iteration-legend"));
  try {
    await renderTestSet();
  } catch (error) {
    $("test-summary").textContent = `cannot show the test set: ${error.message}`;
  }
}

// ---- a training run, live ---------------------------------------------------------------------------------
async function watchTraining() {
  $("training").hidden = false;
  $("drawing").hidden = true;
  const losses = [];
  let weightsVersion = 0;
  let fetchingWeights = false;
  const refreshWeights = async () => {
    fetchingWeights = true;
    try {
      const snapshot = await api("/api/live-weights");
      weightsVersion = snapshot.version;
      paintWeightGrid(snapshot);
    } catch {
      // the next poll tries again (and says so if the server has gone)
    } finally {
      fetchingWeights = false;
    }
  };
  const step = async () => {
    let progress;
    try {
      progress = await api(`/api/progress?since=${losses.length}`);
    } catch (error) {
      $("training-status").textContent = `no word from the server: ${error.message}`;
      setTimeout(step, 2000);
      return;
    }
    for (const loss of progress.iteration_loss) losses.push(loss);
    renderProgress(progress, losses);
    if (progress.mode === "draw") {
      await refreshWeights(); // the final weights stay on the page with the final charts
      await startDrawing(true);
      return;
    }
    if (progress.weights_version !== weightsVersion && !fetchingWeights) refreshWeights();
    if (progress.status !== "failed") setTimeout(step, 400);
  };
  step();
}

function renderProgress(progress, losses) {
  const status = $("training-status");
  status.dataset.status = progress.status;
  $("model-line").textContent = `${progress.status === "done" ? "trained" : "training"} ${progress.architecture || "a network"} · ${progress.description}`;
  const done = progress.epochs.length;
  const last = progress.epochs[done - 1];
  const accuracy = last && last.val_accuracy !== null ? ` · validation accuracy ${percent(last.val_accuracy)}` : "";
  const lastEpoch = progress.first_epoch + progress.epochs_planned - 1;
  const iterations = `${losses.length.toLocaleString()} iterations`;
  const texts = {
    starting: "starting: loading the data and building the network…",
    training: `training: epoch ${Math.min(done + 1, lastEpoch)} of ${lastEpoch}, ${iterations}${accuracy}`,
    done: `done: ${done} epochs, ${iterations}${accuracy}${progress.mode === "draw" ? "" : " · scoring the test set…"}`,
    failed: `training failed: ${progress.error}`,
  };
  status.textContent = texts[progress.status] || progress.status;
  renderHistory({ epochs: progress.epochs, iteration_loss: losses }, $("live-epoch-chart"), $("live-epoch-legend"),
    $("live-iteration-chart"), $("live-iteration-legend"), true);
  const accuracySeries = [{ ...ACCURACY, points: progress.epochs.filter((e) => e.val_accuracy !== null).map((e) => [e.epoch, 100 * e.val_accuracy]) }];
  lineChart($("live-accuracy-chart"), accuracySeries, {
    title: "validation accuracy", xLabel: "epoch", yLabel: "accuracy %", empty: "after the first epoch", integerX: true, fromZero: false,
  });
  chartLegend($("live-accuracy-legend"), accuracySeries);
}

function paintWeightGrid(snapshot) {
  const scale = paintWeightTiles($("weight-grid"), snapshot);
  if (scale === null) return;
  $("weight-grid-version").textContent = `snapshot ${snapshot.version}, ${snapshot.units} units`;
  legend($("weight-grid-legend"), "diverging", scale,
    `weights: blue negative, orange positive, one scale for the grid, clipped at the 99th percentile of |weight| (${formatScale(scale)})`);
}

window.netkitRoving = roving;
for (const id of ["units-shown", "links-shown", "link-measure"]) $(id).addEventListener("change", () => refreshNetwork(false));
window.addEventListener("resize", () => {
  clearTimeout(window.netkitResize);
  window.netkitResize = setTimeout(() => drawNetwork(false), 150);
});
roving($("mistakes"));
roving($("cell-examples"));
roving($("confusion"), 10);
$("model-line").textContent = "loading the model…";
api("/api/model").then((first) => {
  useScale(first.colour_scale);
  return first.mode === "training" ? watchTraining() : startDrawing();
}).catch((error) => {
  $("model-line").textContent = `cannot load the model: ${error.message}`;
});
