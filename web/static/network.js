// The network drawn as nodes and lines (SVG): the input picture, each layer's units or feature maps, the
// outputs labelled with their classes, and the strongest links between drawn nodes. Every number comes from
// /api/network (netkit.model.diagram); this file only places and colours them.
(() => {
"use strict";

const { diverging, ramp, css, percentile99, paintPicture } = window.netkitColors;
const SVG = "http://www.w3.org/2000/svg";
const UNIT_RANGE = new Set(["sigmoid", "softmax"]); // activations always within [0, 1]
const GRAY = (v) => { const g = Math.round(255 * Math.max(0, Math.min(1, v))); return [g, g, g]; };
const STEP_MS = 260; // the pause between layers as activations light up, one layer after another

function node(name, attributes, parent) {
  const made = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) made.setAttribute(key, String(value));
  if (parent) parent.appendChild(made);
  return made;
}

// A picture of values (rows x columns, or several side by side) as a data URL for an SVG <image>.
function pictureURL(values, columns, colour) {
  const canvas = document.createElement("canvas");
  canvas.width = columns;
  canvas.height = values.length / columns;
  paintPicture(canvas, values, columns, colour);
  return canvas.toDataURL("image/png");
}

function reducedMotion() {
  return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

// How a column's values are coloured: its activation's own range, or a signed scale from its values.
function columnColour(column) {
  if (column.layer < 0) return { colour: GRAY, scale: 1, kind: "gray" };
  if (UNIT_RANGE.has(column.activation)) return { colour: ramp, scale: 1, kind: "ramp" };
  const flat = column.values ? column.values.flat(2) : [];
  const scale = percentile99(flat) || 1;
  return { colour: (v) => diverging(v, scale), scale, kind: "diverging" };
}

function unitName(model, column, index) {
  if (column.kind === "maps") return `layer ${column.layer + 1}, map ${index}`;
  const classes = model.classes;
  let output = "";
  if (column === model.lastColumn) {
    output = !classes || classes[index] === String(index) ? ` (digit ${index})` : ` (${classes[index]})`;
  }
  return `layer ${column.layer + 1}, unit ${index}${output}`;
}

// Place every column: the input picture on the left, the layers evenly spaced, room for labels on the right.
function layout(diagram, width) {
  const height = width < 600 ? 400 : 470;
  const top = 30;
  const bottom = 30;
  const labelRoom = width < 600 ? 58 : 78;
  const columns = diagram.columns;
  const picture = Math.min(150, Math.round(width * 0.2));
  const x0 = 10 + picture;
  const x1 = width - labelRoom;
  const layers = columns.length - 1;
  const gap = (x1 - x0) / layers;
  const places = columns.map((column, i) => {
    const count = column.drawn.length;
    const x = i === 0 ? 10 : x0 + gap * i - (i === layers ? 0 : 0);
    const span = height - top - bottom;
    const spacing = span / Math.max(1, column.layer < 0 && column.kind === "units" ? 1 : count);
    let size;
    if (i === 0) size = column.kind === "maps" ? Math.min(picture, spacing * 0.9) : picture;
    else if (column.kind === "maps") size = Math.max(8, Math.min(spacing * 0.86, gap * 0.62, 64));
    else size = 2 * Math.max(3, Math.min(spacing * 0.36, 11));
    const ys = column.drawn.map((_, k) => top + spacing * (k + 0.5));
    if (i === 0 && column.kind === "units") ys[0] = top + span / 2;
    return { x: i === 0 ? x + size / 2 : x, ys, size, spacing };
  });
  return { width, height, top, bottom, picture, places, gap };
}

// Where a link leaves a lower node: a pixel of the input picture, or the node's right edge.
function sourcePoint(column, place, position, imageSide) {
  if (column.layer < 0 && column.kind === "units" && imageSide) {
    const cell = place.size / imageSide;
    const pixel = column.drawn[position];
    return [place.x - place.size / 2 + cell * ((pixel % imageSide) + 0.5), place.ys[0] - place.size / 2 + cell * (Math.floor(pixel / imageSide) + 0.5)];
  }
  const y = column.layer < 0 && column.kind === "units" ? place.ys[0] : place.ys[position];
  return [place.x + place.size / 2, y];
}

// Draw `diagram` into `svg`. `answer`: the /api/predict reply (probabilities) or null; `options`:
// { model: {classes, imageSide}, selected: {layer, node} | null, animate, onOpen(column, position), onDescribe(text) }.
function render(svg, diagram, answer, options) {
  const width = Math.max(320, Math.floor(svg.parentElement.clientWidth));
  const { height, places, gap } = layout(diagram, width);
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  const columns = diagram.columns;
  const model = { ...options.model, lastColumn: columns[columns.length - 1] };
  const imageSide = options.model.imageSide;
  const linkLayer = node("g", { class: "links" }, svg);
  const nodeLayer = node("g", { class: "nodes" }, svg);
  const groups = [];
  columns.forEach((column, i) => {
    const place = places[i];
    const paint = columnColour(column);
    const title = node("text", { x: place.x, y: 16, "text-anchor": i === 0 ? "start" : "middle", class: "column-title" }, svg);
    if (i === 0) title.setAttribute("x", 10);
    title.textContent = i === 0 ? "input" : gap >= 64 ? `layer ${column.layer + 1}` : String(column.layer + 1);
    const note = node("text", { x: place.x, y: height - 10, "text-anchor": i === 0 ? "start" : "middle", class: "column-note" }, svg);
    if (i === 0) note.setAttribute("x", 10);
    note.textContent = i === 0 ? (column.kind === "maps" ? `${column.nodes} × ${column.node_shape.join("×")}` : imageSide ? `${imageSide}×${imageSide} pixels` : `${column.nodes} values`)
      : column.chosen_by === "all" ? String(column.nodes) : `${column.drawn.length} of ${column.nodes}`;
    const group = node("g", { class: "column", "data-column": i, role: "group" }, nodeLayer);
    group.setAttribute("aria-label", i === 0 ? "the input" : `layer ${column.layer + 1}: ${column.description}, ${column.nodes} ${column.kind === "maps" ? "feature maps" : "units"}`);
    groups.push(group);
    if (i > 0 && column.links) drawLinks(linkLayer, diagram, columns[i - 1], places[i - 1], column, place, i, imageSide);
    if (i === 0) {
      drawInput(group, column, place, imageSide);
      return;
    }
    column.drawn.forEach((index, position) => {
      group.appendChild(drawNode(model, column, i, position, index, place, paint, answer, options));
    });
    if (i > 0) window.netkitRoving(group);
  });
  svg.dataset.columns = String(columns.length);
  if (options.selected) highlight(svg, options.selected);
  reveal(svg, options.animate);
  return groups;
}

// The input: one picture (a flat input's pixels, each a node that lines start from) or one per channel.
function drawInput(group, column, place, side) {
  const size = place.size;
  const maps = column.kind === "maps";
  const pictures = maps ? column.drawn.length : 1;
  for (let k = 0; k < pictures; k += 1) {
    const x = place.x - size / 2;
    const y = place.ys[k] - size / 2;
    node("rect", { x, y, width: size, height: size, class: "picture-frame" }, group);
    const values = column.values ? (maps ? column.values[k].flat() : column.values) : null;
    const columns = maps ? column.node_shape[1] : side;
    if (values && columns) {
      node("image", { x, y, width: size, height: size, href: pictureURL(values, columns, GRAY), class: "map" }, group);
    } else if (k === 0) {
      const text = node("text", { x: place.x, y: place.ys[k] + 4, "text-anchor": "middle", class: "column-note blank-note" }, group);
      text.textContent = "draw a digit";
    }
  }
  group.setAttribute("role", "img");
  group.setAttribute("aria-label", maps
    ? `the input: ${column.nodes} picture${column.nodes > 1 ? "s" : ""} of ${column.node_shape.join("x")}`
    : "the input: the picture the network sees; each line into layer 1 starts at its pixel");
}

function drawNode(model, column, columnIndex, position, index, place, paint, answer, options) {
  const y = place.ys[position];
  const size = place.size;
  const name = unitName(model, column, index);
  const item = node("g", { class: "unit", tabindex: -1, role: "button", "data-layer": column.layer, "data-unit": index, "data-position": position, "data-column": columnIndex, "data-roving": "" });
  let text;
  if (column.kind === "maps") {
    node("rect", { x: place.x - size / 2 - 4, y: y - size / 2 - 4, width: size + 8, height: size + 8, rx: 3, class: "ring" }, item);
    node("rect", { x: place.x - size / 2, y: y - size / 2, width: size, height: size, class: "shape map-frame" }, item);
    if (column.values) {
      const values = column.values[position].flat();
      node("image", { x: place.x - size / 2, y: y - size / 2, width: size, height: size, href: pictureURL(values, column.node_shape[1], paint.colour), class: "map" }, item);
      const peak = column.peaks[position] - index * column.node_shape[0] * column.node_shape[1];
      const row = Math.floor(peak / column.node_shape[1]);
      text = `${name} (${column.node_shape.join("×")}): strongest value ${Math.max(...values).toFixed(3)} at row ${row}, column ${peak % column.node_shape[1]}`;
    } else {
      item.classList.add("blank");
      text = `${name} (${column.node_shape.join("×")}): draw a digit to see this feature map`;
    }
  } else {
    node("circle", { cx: place.x, cy: y, r: size / 2 + 4, class: "ring" }, item);
    const circle = node("circle", { cx: place.x, cy: y, r: size / 2, class: "shape" }, item);
    if (column.values) {
      const activation = column.values[position];
      circle.style.fill = css(paint.colour(activation));
      circle.dataset.fill = circle.style.fill;
      const z = column.weighted_sums ? column.weighted_sums[position].toFixed(3) : "n/a";
      text = `${name}: weighted input z = ${z}, activation = ${activation.toFixed(3)}`;
    } else {
      item.classList.add("blank");
      text = `${name}: draw a digit to see its activation`;
    }
    if (column === model.lastColumn) {
      const label = node("text", { x: place.x + size / 2 + 6, y: y + 4, class: "output-label" }, item);
      label.textContent = model.classes ? model.classes[index] : String(index);
      if (answer) {
        const p = answer.probabilities[index];
        if (index === answer.digit) label.classList.add("top");
        const share = node("tspan", { class: "probability", dx: 5 }, label);
        share.textContent = `${(100 * p).toFixed(p < 0.1 ? 1 : 0)}%`;
      }
    }
  }
  const weighted = column.links && column.links.kind === "weights";
  item.setAttribute("aria-label", `${text}; press Enter to see ${weighted ? "its sum worked out and its weights" : "its map"}`);
  item.dataset.text = text;
  const describe = () => options.onDescribe(text);
  item.addEventListener("mouseenter", describe);
  item.addEventListener("focus", describe);
  const open = () => options.onOpen(column, position);
  item.addEventListener("click", open);
  item.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      open();
    }
  });
  return item;
}

function drawLinks(parent, diagram, below, belowPlace, column, place, columnIndex, imageSide) {
  const links = column.links;
  const group = node("g", { class: `column-links ${links.kind}`, "data-column": columnIndex }, parent);
  const largest = Math.max(1e-12, ...links.values.map(Math.abs));
  const halo = column.kind === "maps" ? place.size / 2 : place.size / 2;
  links.sources.forEach((source, k) => {
    const [x1, y1] = sourcePoint(below, belowPlace, source, imageSide);
    const x2 = place.x - halo;
    const y2 = place.ys[links.targets[k]];
    const value = links.values[k];
    const strength = Math.abs(value) / largest;
    const line = node("line", { x1, y1, x2, y2, "data-target": links.targets[k] }, group);
    if (links.kind === "weights") {
      line.style.stroke = css(diverging(value, largest));
      line.style.strokeWidth = (0.4 + 2.6 * strength).toFixed(2);
      line.style.strokeOpacity = (0.25 + 0.75 * strength).toFixed(2);
    }
  });
}

// Light the columns up one after another (all at once when the reader asks for less motion).
function reveal(svg, animate) {
  const columns = [...svg.querySelectorAll(".nodes .column")];
  const links = [...svg.querySelectorAll(".column-links")];
  if (!animate || reducedMotion()) {
    svg.dataset.state = "done";
    return;
  }
  svg.dataset.state = "animating";
  for (const part of [...columns, ...links]) if (part.dataset.column !== "0") part.classList.add("waiting");
  const count = columns.length;
  for (let i = 1; i < count; i += 1) {
    setTimeout(() => {
      for (const part of svg.querySelectorAll(`[data-column="${i}"].waiting`)) part.classList.remove("waiting");
      if (i === count - 1) svg.dataset.state = "done";
    }, STEP_MS * i);
  }
}

// The selected node's incoming links stand out; the rest fade.
function highlight(svg, selected) {
  for (const unit of svg.querySelectorAll(".unit")) {
    const on = selected !== null && unit.dataset.layer === String(selected.layer) && unit.dataset.unit === String(selected.node);
    unit.classList.toggle("selected", on);
    unit.setAttribute("aria-pressed", String(on));
  }
  svg.classList.toggle("focused", selected !== null);
  for (const line of svg.querySelectorAll(".column-links line.incoming")) line.classList.remove("incoming");
  if (selected === null) return;
  const unit = svg.querySelector(`.unit.selected`);
  if (!unit) return;
  const position = unit.dataset.position;
  for (const line of svg.querySelectorAll(`.column-links[data-column="${unit.dataset.column}"] line[data-target="${position}"]`)) {
    line.classList.add("incoming");
  }
}

// Several small pictures side by side (tiles[c] is rows of values), `zoom` pixels per value, wrapping to
// a roughly square block; the canvas takes the size they need.
function paintTiles(canvas, tiles, colour, zoom) {
  const rows = tiles[0].length;
  const columns = tiles[0][0].length;
  const across = Math.ceil(Math.sqrt(tiles.length));
  const down = Math.ceil(tiles.length / across);
  const width = columns * zoom + 2;
  const height = rows * zoom + 2;
  canvas.width = across * width;
  canvas.height = down * height;
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  tiles.forEach((tile, index) => {
    const left = (index % across) * width + 1;
    const top = Math.floor(index / across) * height + 1;
    tile.forEach((line, r) => line.forEach((value, c) => {
      context.fillStyle = css(colour(value));
      context.fillRect(left + c * zoom, top + r * zoom, zoom, zoom);
    }));
  });
}

window.netkitNetwork = { render, highlight, columnColour, pictureURL, paintTiles };
})();
