// Inside the models: interpolation, hidden units, nearest digits. Uses the page's globals
// (grid, runs, shown, paint, N, started) and is called by it on new runs and new drawings.
"use strict";

// ---- shared ---------------------------------------------------------------------------------
/** The finished runs the page shows (the name filter applies); only these are asked about. */
function offered() { return runs.filter(r => r.status === "finished" && shown(r.name)); }
async function post(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const answer = await r.json();
  if (!r.ok) throw new Error(answer.error || r.statusText);
  return answer;
}
async function get(path) {
  const r = await fetch(path);
  const answer = await r.json();
  if (!r.ok) throw new Error(answer.error || r.statusText);
  return answer;
}
function element(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}
/** A 28×28 canvas of pixels in 0..1 (or, with stretch, from the values' minimum to maximum). */
function tile(pixels, size = 42, stretch = false) {
  const c = element("canvas", { width: N, height: N });
  c.style.width = c.style.height = `${size}px`;
  let values = pixels;
  if (stretch) {
    const lo = Math.min(...pixels), hi = Math.max(...pixels);
    values = pixels.map(v => (v - lo) / (hi - lo || 1));
  }
  paint(c, values, N);
  return c;
}
function row(label, cells, title) {
  const r = element("div", { className: "row" }, element("div", { className: "label", textContent: label, title: title || label }), ...cells);
  return r;
}

// ---- interpolation --------------------------------------------------------------------------
const steps = document.getElementById("steps");
let interpAsked = 0;
steps.oninput = () => { document.getElementById("stepsValue").textContent = steps.value; };
function endpoint(which) {
  const kind = document.getElementById(which + "Kind").value;
  return kind === "drawing" ? Array.from(grid) : { test: Number(document.getElementById(which + "Index").value) };
}
async function interpolate() {
  const status = document.getElementById("interpStatus"), box = document.getElementById("interp");
  const names = offered().map(r => r.name);
  if (!names.length) { status.textContent = "No finished run to interpolate with."; return; }
  status.textContent = "Interpolating… (the first time, PCA is fitted to the 60 000 training digits: a second or two)";
  try {
    const asked = ++interpAsked;
    const answer = await post("/api/interpolate", { a: endpoint("a"), b: endpoint("b"), steps: Number(steps.value), runs: names });
    if (asked !== interpAsked) return; // a newer request answers for the choices now
    // Smaller tiles for many steps, so that a row stays one line wide.
    const size = Math.max(20, Math.min(42, Math.floor(1000 / answer.weights.length)));
    const rows = [row("pixels (mix of the images)", answer.pixels.map(p => tile(p, size)))];
    answer.runs.forEach(run => {
      const codes = row(`${run.name}: codes`, run.codes.map(p => tile(p, size)), run.summary);
      codes.dataset.run = run.name;
      const k = run.pca_components, all = k < run.hidden ? ", all: the images themselves" : "";
      rows.push(codes, row(`PCA-${k} (as wide as ${run.name}${all})`, run.pca.map(p => tile(p, size))));
    });
    document.getElementById("interpRows").replaceChildren(...rows);
    box.dataset.rows = rows.length; box.dataset.steps = answer.weights.length;
    status.textContent = `${answer.runs.length} models, ${answer.weights.length} steps, in ${answer.milliseconds.toFixed(1)} ms on the server`;
  } catch (e) { status.textContent = e.message; status.className = "muted error"; return; }
  status.className = "muted";
}
document.getElementById("interpolate").onclick = interpolate;

// ---- hidden units ---------------------------------------------------------------------------
const unitRun = document.getElementById("unitRun"), unitGrid = document.getElementById("unitGrid");
let units = null, unitImage = null, chosenUnit = null, unitsLoading = null;
function insideRunsChanged() {
  const names = runs.filter(r => r.status === "finished").map(r => r.name);
  const now = Array.from(unitRun.options).map(o => o.value);
  if (names.join() !== now.join()) {
    const keep = unitRun.value;
    unitRun.replaceChildren(...names.map(n => element("option", { value: n, textContent: n })));
    if (names.includes(keep)) unitRun.value = keep;
  }
  if (!names.length) { document.getElementById("unitStatus").textContent = "No finished run yet: its units come when it finishes."; return; }
  // (A model replaced on disk shows at the next click: its grid is loaded again.)
  if ((!units || units.run !== unitRun.value) && unitsLoading !== unitRun.value) loadUnits();
}
function insideSelect(name) {
  if (Array.from(unitRun.options).some(o => o.value === name) && unitRun.value !== name) { unitRun.value = name; loadUnits(); }
}
unitRun.onchange = () => loadUnits();
async function loadUnits() {
  const name = unitRun.value, status = document.getElementById("unitStatus");
  if (!name) return;
  unitsLoading = name;
  status.textContent = `Loading ${name}'s units… (the first time, its codes of the 10 000 test digits are computed)`;
  try {
    const answer = await get(`/api/runs/${encodeURIComponent(name)}/units`);
    const image = new Image();
    image.src = answer.grid.png;
    await image.decode();
    // Another run was chosen meanwhile: its own answer draws it.
    if (name !== unitRun.value) return;
    units = answer; unitImage = image; chosenUnit = null;
    drawUnitGrid();
    status.textContent = `${answer.hidden} units, ${answer.dead.length} dead (never active on the test set)`;
    unitGrid.dataset.run = name; unitGrid.dataset.dead = answer.dead.length;
    document.getElementById("unitDetail").replaceChildren();
  } catch (e) { if (name === unitRun.value) status.textContent = e.message; }
  finally { if (unitsLoading === name) unitsLoading = null; }
}
function cell(k) {
  const g = units.grid, step = g.side + g.gap;
  return [g.gap + (k % g.columns) * step, g.gap + Math.floor(k / g.columns) * step, g.side];
}
function drawUnitGrid() {
  unitGrid.width = unitImage.width; unitGrid.height = unitImage.height;
  const ctx = unitGrid.getContext("2d");
  ctx.drawImage(unitImage, 0, 0);
  ctx.strokeStyle = "#d62728"; ctx.lineWidth = 1.5;
  units.dead.forEach(k => {
    const [x, y, s] = cell(k);
    ctx.beginPath(); ctx.moveTo(x + 3, y + 3); ctx.lineTo(x + s - 3, y + s - 3); ctx.moveTo(x + s - 3, y + 3); ctx.lineTo(x + 3, y + s - 3); ctx.stroke();
  });
  if (chosenUnit !== null) {
    const [x, y, s] = cell(chosenUnit);
    ctx.strokeStyle = "#1f77b4"; ctx.lineWidth = 2; ctx.strokeRect(x - 1, y - 1, s + 2, s + 2);
  }
}
unitGrid.addEventListener("click", e => {
  if (!units) return;
  const r = unitGrid.getBoundingClientRect(), g = units.grid, step = g.side + g.gap;
  const x = (e.clientX - r.left) * unitGrid.width / r.width, y = (e.clientY - r.top) * unitGrid.height / r.height;
  const column = Math.floor((x - g.gap) / step), line = Math.floor((y - g.gap) / step);
  const k = line * g.columns + column;
  if (column >= 0 && column < g.columns && line >= 0 && k < units.hidden) showUnit(k);
});
async function showUnit(k) {
  const name = units.run, model = units.model;
  try {
    const u = await get(`/api/runs/${encodeURIComponent(name)}/units/${k}`);
    // Another run was chosen meanwhile: this answer is not for the grid shown.
    if (!units || units.run !== name || units.model !== model) return;
    // The model was replaced since the grid was drawn: show the new one's grid first.
    if (u.model !== model) { await loadUnits(); return; }
    chosenUnit = k; drawUnitGrid();
    renderUnit(u);
  } catch (e) { document.getElementById("unitStatus").textContent = e.message; }
}
function figure(caption, content) { return element("figure", {}, content, element("figcaption", { textContent: caption })); }
function histogram(a) {
  const c = element("canvas", { width: 260, height: 110 }), ctx = c.getContext("2d");
  const top = Math.sqrt(Math.max(...a.histogram, 1)), w = 240 / a.histogram.length;
  ctx.fillStyle = "#1f77b4";
  a.histogram.forEach((n, i) => { const h = 80 * Math.sqrt(n) / top; ctx.fillRect(10 + i * w, 90 - h, w - 1, h); });
  ctx.fillStyle = "#222"; ctx.font = "11px system-ui";
  ctx.fillText(a.min.toPrecision(3), 6, 105); ctx.fillText(a.max.toPrecision(3), 214, 105);
  return c;
}
function renderUnit(u) {
  const a = u.activations, detail = document.getElementById("unitDetail");
  const words = u.dead ? "dead: never active on the test set"
    : `active on ${(100 * a.active_share).toFixed(1)} % of the test digits; largest ${a.max.toPrecision(3)}, 99th percentile ${a.p99.toPrecision(3)}`;
  const top = element("div", { className: "tiles" }, ...u.top.map(t => figure(`${t.label} · ${t.activation.toPrecision(3)}`, tile(t.pixels, 42))));
  detail.replaceChildren(
    element("div", { className: "muted", style: "flex-basis:100%", textContent: `${u.run}, unit ${u.unit} of ${u.hidden}: ${words}` }),
    figure("w1 (input weights)", tile(u.w1, 112, true)),
    figure("w2ᵀ (output weights)", tile(u.w2t, 112, true)),
    figure("activations over the test set (bar height ∝ √count)", histogram(a)),
    figure("the nine test digits that excite it most (digit · activation)", top),
    figure(`decoded from this unit alone at ${a.p99.toPrecision(3)}`, tile(u.alone, 112)));
  detail.dataset.unit = u.unit; detail.dataset.run = u.run;
  detail.dataset.top = u.top.map(t => t.index).join(" ");
}

// ---- nearest digits -------------------------------------------------------------------------
let nearestFollows = false, nearestPending = null, nearestAsked = 0;
function neighbours(list) {
  const box = element("div", { className: "neighbours" }, ...list.map(n => figure(`${n.label} · ${n.distance.toFixed(2)}`, tile(n.pixels, 56))));
  box.dataset.indices = list.map(n => n.index).join(" ");
  return box;
}
async function findNearest() {
  const status = document.getElementById("nearestStatus");
  const chosen = offered();
  if (!chosen.length) { status.textContent = "No finished run to search with."; return; }
  const building = chosen.filter(r => !r.nearest_ready).map(r => r.name);
  status.textContent = building.length
    ? `Encoding the 60 000 training digits with ${building.join(", ")} (once per model, about a second each)…`
    : "Searching…";
  try {
    const asked = ++nearestAsked;
    const answer = await post("/api/nearest", { digit: Array.from(grid), runs: chosen.map(r => r.name) });
    if (asked !== nearestAsked) return; // a newer search answers for the drawing now
    const pixels = row("pixels", [neighbours(answer.pixels)]);
    pixels.dataset.run = "";
    const rows = answer.runs.map(run => {
      const r = row(`${run.name}: codes`, [neighbours(run.nearest)], run.summary);
      r.dataset.run = run.name;
      return r;
    });
    document.getElementById("nearestRows").replaceChildren(pixels, ...rows);
    const built = answer.runs.filter(r => r.built_ms !== null).map(r => `${r.name} ${(r.built_ms / 1000).toFixed(1)} s`);
    status.textContent = `${answer.runs.length} models searched in ${answer.milliseconds.toFixed(1)} ms on the server` +
      (built.length ? ` (codes of the training digits built: ${built.join(", ")})` : "");
    runs.forEach(r => { if (answer.runs.some(a => a.name === r.name)) r.nearest_ready = true; });
    document.getElementById("nearest").dataset.searches = Number(document.getElementById("nearest").dataset.searches || 0) + 1;
    nearestFollows = true;
  } catch (e) { status.textContent = e.message; }
}
document.getElementById("findNearest").onclick = findNearest;
/** After a first search, the nearest digits follow the drawing. */
function insideDrawingChanged() {
  if (!nearestFollows) return;
  clearTimeout(nearestPending);
  nearestPending = setTimeout(findNearest, 300);
}

// ---- a scripted visit, for tests and screenshots: ?demo=inside ----------------------------------
started.then(async () => {
  if (new URLSearchParams(location.search).get("demo") !== "inside") return;
  await loadUnits();
  if (units) {
    // A click where a user would click: in the middle of the first live unit's tile.
    const k = [...Array(units.hidden).keys()].find(i => !units.dead.includes(i)) ?? 0;
    const [x, y, s] = cell(k), r = unitGrid.getBoundingClientRect();
    unitGrid.dispatchEvent(new MouseEvent("click", { bubbles: true, clientX: r.left + (x + s / 2) * r.width / unitGrid.width, clientY: r.top + (y + s / 2) * r.height / unitGrid.height }));
  }
  document.getElementById("interpolate").click();
  document.getElementById("findNearest").click();
});
