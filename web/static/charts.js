// Line charts drawn as SVG by the page itself: labelled axes, optional log scale, a legend per chart.
(() => {
"use strict";

const SVG = "http://www.w3.org/2000/svg";

function element(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

// At most `limit` points: the mean of each run of neighbours, so a long run still draws quickly.
function downsample(values, limit) {
  if (values.length <= limit) return values.map((y, i) => [i + 1, y]);
  const size = values.length / limit;
  const points = [];
  for (let bucket = 0; bucket < limit; bucket += 1) {
    const start = Math.floor(bucket * size);
    const end = Math.max(start + 1, Math.floor((bucket + 1) * size));
    let sum = 0;
    for (let i = start; i < end; i += 1) sum += values[i];
    points.push([(start + end + 1) / 2, sum / (end - start)]);
  }
  return points;
}

function niceTicks(low, high, count) {
  if (!(high > low)) return [low];
  const raw = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function logTicks(low, high) {
  const ticks = [];
  for (let power = Math.floor(Math.log10(low)); power <= Math.ceil(Math.log10(high)); power += 1) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** power;
      if (t >= low && t <= high) ticks.push(t);
    }
  }
  return ticks.length >= 2 ? ticks : [low, high];
}

function label(value) {
  if (value === 0) return "0";
  const size = Math.abs(value);
  if (size >= 1000) return `${Math.round(value / 100) / 10}k`;
  if (size >= 1) return String(Number(value.toPrecision(3)));
  return String(Number(value.toPrecision(2)));
}

// series: [{name, points: [[x, y], ...], colour, dashed}]; draws into the <svg> `svg`.
function lineChart(svg, series, options) {
  const width = 460;
  const height = 220;
  const margin = { left: 56, right: 12, top: 12, bottom: 40 };
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", options.title);
  const logY = Boolean(options.logY);
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && (!logY || y > 0));
  svg.dataset.points = String(options.count ?? all.length);
  if (all.length === 0) {
    element("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "chart-empty" }, svg).textContent =
      options.empty || "no data yet";
    return;
  }
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const xLow = Math.min(...xs);
  const xHigh = Math.max(...xs, xLow + 1);
  let yLow = Math.min(...ys);
  let yHigh = Math.max(...ys);
  if (!logY && options.fromZero !== false) yLow = Math.min(0, yLow);
  if (options.fromZero === false && yHigh - yLow < 1e-9) { yLow -= 1; yHigh += 1; }
  if (yHigh <= yLow) yHigh = yLow + (logY ? yLow : 1);
  const fy = logY ? Math.log10 : (v) => v;
  const px = (x) => margin.left + ((x - xLow) / (xHigh - xLow)) * (width - margin.left - margin.right);
  const py = (y) =>
    height - margin.bottom - ((fy(y) - fy(yLow)) / (fy(yHigh) - fy(yLow))) * (height - margin.top - margin.bottom);
  const axes = element("g", { class: "axes" }, svg);
  element("line", { x1: margin.left, y1: height - margin.bottom, x2: width - margin.right, y2: height - margin.bottom }, axes);
  element("line", { x1: margin.left, y1: margin.top, x2: margin.left, y2: height - margin.bottom }, axes);
  let xTicks = niceTicks(xLow, xHigh, 5);
  if (options.integerX) {
    xTicks = xTicks.filter(Number.isInteger);
    if (xTicks.length < 2) xTicks = [Math.ceil(xLow), Math.floor(xHigh)];
  }
  for (const t of xTicks) {
    element("line", { x1: px(t), y1: height - margin.bottom, x2: px(t), y2: height - margin.bottom + 4 }, axes);
    element("text", { x: px(t), y: height - margin.bottom + 15, "text-anchor": "middle" }, axes).textContent = label(t);
  }
  for (const t of logY ? logTicks(yLow, yHigh) : niceTicks(yLow, yHigh, 4)) {
    element("line", { x1: margin.left - 4, y1: py(t), x2: width - margin.right, y2: py(t), class: "grid" }, axes);
    element("text", { x: margin.left - 7, y: py(t) + 4, "text-anchor": "end" }, axes).textContent = label(t);
  }
  element("text", { x: (width + margin.left) / 2, y: height - 6, "text-anchor": "middle", class: "axis-label" }, svg)
    .textContent = options.xLabel;
  element("text", {
    x: 14, y: (height - margin.bottom) / 2, "text-anchor": "middle", class: "axis-label",
    transform: `rotate(-90 14 ${(height - margin.bottom) / 2})`,
  }, svg).textContent = options.yLabel + (logY ? " (log scale)" : "");
  for (const s of series) {
    const points = s.points.filter(([, y]) => Number.isFinite(y) && (!logY || y > 0));
    if (points.length === 0) continue;
    const d = points.map(([x, y], i) => `${i ? "L" : "M"}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join("");
    element("path", { d, fill: "none", stroke: s.colour, "stroke-width": 2, "stroke-dasharray": s.dashed ? "6 4" : "none", class: "series" }, svg);
    if (points.length <= 40) {
      for (const [x, y] of points) element("circle", { cx: px(x), cy: py(y), r: 3, fill: s.colour }, svg);
    }
  }
}

// A legend under a chart: a line sample per series (dashes too, so colour is never the only cue).
function chartLegend(container, series) {
  container.replaceChildren();
  container.classList.add("chart-legend");
  for (const s of series.filter((each) => each.points.length > 0)) {
    const item = document.createElement("span");
    const sample = element("svg", { width: 28, height: 10 }, null);
    element("line", { x1: 0, y1: 5, x2: 28, y2: 5, stroke: s.colour, "stroke-width": 2, "stroke-dasharray": s.dashed ? "6 4" : "none" }, sample);
    item.append(sample, document.createTextNode(" " + s.name));
    container.appendChild(item);
  }
}

window.netkitCharts = { lineChart, chartLegend, downsample };
})();
