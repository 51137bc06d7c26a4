// The playground: train a network of your choosing and steer it; teach the served model your handwriting.
// Every number comes from the server (/api/playground/...); this file only draws them.
(() => {
"use strict";

const { lineChart, chartLegend } = window.netkitCharts;
const { paintWeightTiles, useScale, formatScale } = window.netkitColors;
const { fetchJson } = window.netkitRequests;
const $ = (id) => document.getElementById(id);
const LOSS = { name: "training loss", colour: "#2166AC" };
const VALIDATION = { name: "validation loss", colour: "#E66101", dashed: true };
const ACCURACY = { name: "validation accuracy", colour: "#E66101" };

function serverGone(gone) {
  const note = $("server-gone");
  note.hidden = !gone;
  if (gone) note.textContent = "The server is not answering: is netkit serve --train still running?";
}

function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  return fetchJson(path, options, serverGone);
}

const percent = (value) => `${(100 * value).toFixed(2)}%`;

// ---- a run: choices, controls, progress ---------------------------------------------------------------------
function choices() {
  const number = (id) => ($(id).value === "" ? undefined : Number($(id).value));
  const specs = $("layer-specs").value.split("\n").map((line) => line.trim()).filter(Boolean);
  return {
    name: $("run-name").value.trim(),
    layers: $("layers").value.trim(),
    layer_specs: specs,
    activation: $("activation").value,
    optimizer: $("optimizer").value,
    learning_rate: number("learning-rate"),
    batch_size: number("batch-size"),
    augment: $("augment").value.trim() || null,
    epochs: number("epochs"),
    train_rows: number("train-rows"),
    delay_ms: Number($("delay").value),
    paused: $("start-paused").checked,
  };
}

let losses = [];
let weightsVersion = 0;
let polling = false;

function setButtons(job) {
  const alive = job !== null && ["training", "paused", "stopping"].includes(job.state);
  const paused = alive && job.state === "paused";
  $("start").disabled = alive;
  $("pause").disabled = !alive || paused;
  $("resume").disabled = !paused;
  $("step").disabled = !paused;
  $("stop").disabled = !alive;
  $("apply-rate").disabled = !alive;
}

function describeRun(status) {
  const { job, controls, progress } = status;
  if (!job) return "No run yet: choose a network and press Start.";
  const done = progress.epochs.length;
  const last = progress.epochs[done - 1];
  const accuracy = last && last.val_accuracy !== null ? ` · validation accuracy ${percent(last.val_accuracy)}` : "";
  const rate = controls.learning_rate === null ? "" : ` · learning rate ${controls.learning_rate}`;
  const where = `${progress.architecture || "the network"}: epoch ${Math.min(done + 1, progress.epochs_planned)} of ${progress.epochs_planned}, ${losses.length.toLocaleString()} batches${accuracy}${rate}`;
  const saved = job.saved ? ` · saved ${job.file}` : "";
  const texts = {
    training: `training ${where}`,
    paused: `paused: ${where}`,
    stopping: `stopping after this batch: ${where}`,
    done: `done: ${where}${saved}`,
    stopped: `stopped: ${where}${saved}${progress.error ? ` (${progress.error})` : ""}`,
    failed: `failed: ${progress.error}`,
  };
  return texts[job.state] || job.state;
}

function render(status) {
  $("folder-line").textContent = `saving under ${status.folder}`;
  const limits = status.limits;
  $("limits").textContent = `Limits: ${limits.hidden_layers} hidden layers of at most ${limits.units} units `
    + `(or ${limits.layer_specs} layer specs), ${limits.parameters.toLocaleString()} parameters, ${limits.epochs} epochs, `
    + `${limits.train_rows.toLocaleString()} training rows, ${limits.seconds} s of training; one run at a time.`;
  setButtons(status.job);
  const runStatus = $("run-status");
  runStatus.dataset.state = status.job ? status.job.state : "none";
  if (!status.job) return;
  for (const loss of status.progress.iteration_loss) losses.push(loss);
  runStatus.dataset.batches = String(losses.length);
  runStatus.textContent = describeRun(status);
  const progress = status.progress;
  const perBatch = [{ ...LOSS, points: window.netkitCharts.downsample(losses, 600) }];
  lineChart($("iteration-chart"), perBatch, { title: "loss per batch", xLabel: "batch", yLabel: "loss", logY: true, count: losses.length });
  chartLegend($("iteration-legend"), perBatch);
  const epochs = progress.epochs;
  const perEpoch = [
    { ...LOSS, points: epochs.map((e) => [e.epoch, e.train_loss]) },
    { ...VALIDATION, points: epochs.filter((e) => e.val_loss !== null).map((e) => [e.epoch, e.val_loss]) },
  ];
  lineChart($("epoch-chart"), perEpoch, { title: "loss per epoch", xLabel: "epoch", yLabel: "loss", empty: "after the first epoch", integerX: true, logY: true });
  chartLegend($("epoch-legend"), perEpoch);
  const accuracy = [{ ...ACCURACY, points: epochs.filter((e) => e.val_accuracy !== null).map((e) => [e.epoch, 100 * e.val_accuracy]) }];
  lineChart($("accuracy-chart"), accuracy, { title: "validation accuracy", xLabel: "epoch", yLabel: "accuracy %", empty: "after the first epoch", integerX: true, fromZero: false });
  if (document.activeElement !== $("steer-rate") && status.controls.learning_rate !== null) {
    $("steer-rate").value = String(status.controls.learning_rate);
  }
  if (progress.weights_version !== weightsVersion) refreshWeights();
}

async function refreshWeights() {
  const snapshot = await api("/api/playground/weights");
  if (snapshot.version === weightsVersion || !snapshot.units) return;
  weightsVersion = snapshot.version;
  const scale = paintWeightTiles($("weight-grid"), snapshot);
  if (scale === null) return;
  $("weight-version").textContent = `Snapshot ${snapshot.version} of ${snapshot.units} units; colours clipped at ±${formatScale(scale)}.`;
}

async function poll() {
  if (polling) return;
  polling = true;
  try {
    for (;;) {
      let status;
      try {
        status = await api(`/api/playground/status?since=${losses.length}`);
      } catch (error) {
        if (error.status === 404) { // a server started without --train DIR
          $("run-status").textContent = error.message;
          $("folder-line").textContent = "no playground on this server";
          for (const button of document.querySelectorAll("button")) button.disabled = true;
          break;
        }
        $("run-status").textContent = `no word from the server: ${error.message}`;
        await new Promise((resolve) => setTimeout(resolve, 2000));
        continue;
      }
      render(status);
      if (!status.job || !["training", "paused", "stopping"].includes(status.job.state)) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  } finally {
    polling = false;
  }
}

async function control(action, body = {}) {
  try {
    render(await api(`/api/playground/${action}`, body));
  } catch (error) {
    $("run-status").textContent = error.message;
    $("run-status").dataset.state = "failed";
  }
  poll();
}

$("start").addEventListener("click", async () => {
  if (!$("choices").reportValidity()) return;
  try {
    const status = await api("/api/playground/start", choices());
    losses = [];
    weightsVersion = 0;
    render(status);
  } catch (error) {
    $("run-status").textContent = `cannot start: ${error.message}`;
    $("run-status").dataset.state = "failed";
    return;
  }
  poll();
});
for (const action of ["pause", "resume", "step", "stop"]) $(action).addEventListener("click", () => control(action));
$("apply-rate").addEventListener("click", () => control("settings", { learning_rate: Number($("steer-rate").value) }));
$("delay").addEventListener("input", () => {
  const value = Number($("delay").value);
  $("delay-value").textContent = value ? `${value} ms per batch` : "no delay";
});
$("delay").addEventListener("change", () => {
  if (!$("stop").disabled) control("settings", { delay_ms: Number($("delay").value) });
});

// ---- your handwriting ---------------------------------------------------------------------------------------
const pad = $("pad");
const pen = pad.getContext("2d");
let stroke = null;
let drawn = false;
let chosenDigit = null;

function padPoint(event) {
  return { x: event.offsetX * (pad.width / pad.clientWidth), y: event.offsetY * (pad.height / pad.clientHeight) };
}

pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  Object.assign(pen, { lineCap: "round", lineJoin: "round", lineWidth: 20, strokeStyle: "#000" });
  stroke = padPoint(event);
  pen.beginPath();
  pen.moveTo(stroke.x, stroke.y);
});
pad.addEventListener("pointermove", (event) => {
  if (!stroke) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const each of events.length ? events : [event]) {
    const point = padPoint(each);
    pen.lineTo(point.x, point.y);
    pen.stroke();
    stroke = point;
  }
});
function endStroke() {
  if (!stroke) return;
  stroke = null;
  drawn = true;
  readDrawing();
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

async function readDrawing() {
  const reading = $("reading");
  reading.dataset.state = "pending";
  try {
    const answer = await api("/api/predict", { image: pad.toDataURL("image/png") });
    reading.dataset.digit = String(answer.digit);
    reading.textContent = `the model reads ${answer.digit} (${percent(answer.probabilities[answer.digit])})`;
    reading.dataset.state = "done";
  } catch (error) {
    reading.textContent = `cannot read it: ${error.message}`;
    reading.dataset.state = "failed";
  }
}

$("clear").addEventListener("click", () => {
  pen.clearRect(0, 0, pad.width, pad.height);
  drawn = false;
  $("reading").textContent = "draw a digit";
  delete $("reading").dataset.digit;
  $("reading").dataset.state = "empty";
});

function chooseDigit(digit) {
  chosenDigit = digit;
  for (const button of $("digit-choice").children) {
    button.setAttribute("aria-checked", String(Number(button.dataset.digit) === digit));
    button.tabIndex = Number(button.dataset.digit) === digit || (digit === null && button.dataset.digit === "0") ? 0 : -1;
  }
}
for (let digit = 0; digit < 10; digit += 1) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = String(digit);
  button.dataset.digit = String(digit);
  button.setAttribute("role", "radio");
  button.addEventListener("click", () => chooseDigit(digit));
  button.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const next = ((chosenDigit ?? digit) + step + 10) % 10;
    chooseDigit(next);
    $("digit-choice").children[next].focus();
  });
  $("digit-choice").appendChild(button);
}
chooseDigit(null);

function showCounts(reply) {
  const counts = Object.entries(reply.counts).filter(([, n]) => n > 0).map(([d, n]) => `${d}: ${n}`).join(", ");
  $("set-counts").textContent = reply.total ? `Your set "${reply.set}" holds ${reply.total} digit${reply.total === 1 ? "" : "s"} (${counts}).` : `Your set "${reply.set}" is empty.`;
  $("set-counts").dataset.total = String(reply.total);
}

$("add-digit").addEventListener("click", async () => {
  const status = $("teach-status");
  if (!drawn) { status.textContent = "Draw a digit first."; return; }
  if (chosenDigit === null) { status.textContent = "Say which digit it is first."; return; }
  try {
    const reply = await api("/api/playground/personal/add", { set: $("set-name").value, digit: chosenDigit, image: pad.toDataURL("image/png") });
    showCounts(reply);
    status.textContent = `Added ${reply.added}.`;
  } catch (error) {
    status.textContent = `cannot add it: ${error.message}`;
  }
});

$("finetune").addEventListener("click", async () => {
  const status = $("teach-status");
  status.textContent = "Fine-tuning…";
  status.dataset.state = "pending";
  try {
    const result = await api("/api/playground/finetune", { set: $("set-name").value });
    $("personal-before").textContent = percent(result.before.personal);
    $("personal-after").textContent = percent(result.after.personal);
    $("test-before").textContent = percent(result.before.test);
    $("test-after").textContent = percent(result.after.test);
    Object.assign($("finetune-result").dataset, {
      personalBefore: result.before.personal, personalAfter: result.after.personal,
      testBefore: result.before.test, testAfter: result.after.test,
    });
    $("finetune-result").hidden = false;
    status.textContent = `Fine-tuned on your ${result.personal} digits (each shown ${result.repeat} times per epoch with `
      + `${result.mixed.toLocaleString()} ${result.dataset} rows); saved ${result.file}. The page now draws with it.`;
    status.dataset.state = "done";
    if (drawn) readDrawing();
  } catch (error) {
    status.textContent = `cannot fine-tune: ${error.message}`;
    status.dataset.state = "failed";
  }
});

api("/api/model").then((model) => useScale(model.colour_scale)).catch(() => {});
api(`/api/playground/personal?set=${encodeURIComponent($("set-name").value)}`).then(showCounts).catch(() => {});
poll();
})();
