// The headsnet viewer page: a PLY head, a compiled dataset's rows, or a trained model's heads, in
// three.js with orbit controls. Served by src/view/server.ts; the pictures `headsnet render` writes
// use the same views, colours and background (src/view/raster.ts).
//
// window.headsnetView reports what is on screen (tests read it): ready, error, kind, panels
// [{label, points, triangles, icosphereVertices}], generatedId, generations.

import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

const state = (window.headsnetView = {
  ready: false, error: null, kind: null, panels: [], generatedId: null, generations: 0,
  colorMode: "rgb", showIcosphere: false, surface: true, view: null, selected: null,
});

// Colours are data: pass them to the screen unchanged.
THREE.ColorManagement.enabled = false;

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const FOV = 30;

let info, icosphere = null;
let panels = [];
const canvas = $("view");
const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
renderer.outputColorSpace = THREE.LinearSRGBColorSpace;
renderer.setPixelRatio(window.devicePixelRatio || 1);
const camera = new THREE.PerspectiveCamera(FOV, 1, 0.01, 100);
camera.up.set(0, 0, 1);
const controls = new OrbitControls(camera, canvas);
controls.addEventListener("change", () => render());
window.addEventListener("resize", () => render());

function fail(error) {
  state.error = String(error && error.message ? error.message : error);
  $("error").textContent = state.error;
  $("status").textContent = "";
  console.error(error);
}

function status(text) {
  $("status").textContent = text;
}

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response;
}

/** The server's binary cloud: "HSN1", count, flags (1 index, 2 faces), triangles, arrays. */
async function fetchCloud(url) {
  const buffer = await (await fetchOk(url)).arrayBuffer();
  const head = new Uint32Array(buffer, 0, 4);
  if (head[0] !== 0x314e5348) throw new Error(`${url}: not a headsnet cloud`);
  const n = head[1], flags = head[2], triangles = head[3];
  let at = 16;
  const positions = new Float32Array(buffer, at, n * 3); at += n * 12;
  const colors = new Float32Array(buffer, at, n * 3); at += n * 12;
  let index = null, faces = null;
  if (flags & 1) { index = new Uint32Array(buffer, at, n); at += n * 4; }
  if (flags & 2) faces = new Uint32Array(buffer, at, triangles * 3);
  return { count: n, positions, colors, index, faces };
}

async function loadIcosphere() {
  if (!icosphere) icosphere = new Float32Array(await (await fetchOk("/api/icosphere")).arrayBuffer());
  return icosphere;
}

/** Same as indexColor in src/view/raster.ts. */
function indexColors(cloud) {
  const out = new Float32Array(cloud.count * 3);
  for (let r = 0; r < cloud.count; r++) {
    const i = cloud.index[r];
    const k = 0.6 + 0.4 * ((i * 0.6180339887498949) % 1);
    for (let c = 0; c < 3; c++) out[r * 3 + c] = (0.5 + 0.5 * icosphere[i * 3 + c]) * k;
  }
  return out;
}

function colorsFor(cloud) {
  return state.colorMode === "index" && cloud.index && icosphere ? indexColors(cloud) : cloud.colors;
}

function makePanel(cloud, label) {
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.BufferAttribute(cloud.positions, 3));
  geometry.setAttribute("color", new THREE.BufferAttribute(new Float32Array(colorsFor(cloud)), 3));
  geometry.computeBoundingBox();
  const centre = geometry.boundingBox.getCenter(new THREE.Vector3());
  let radius = 0;
  const p = cloud.positions;
  for (let i = 0; i < p.length; i += 3) {
    const d = Math.hypot(p[i] - centre.x, p[i + 1] - centre.y, p[i + 2] - centre.z);
    if (d > radius) radius = d;
  }
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(bgColor());
  const group = new THREE.Group();
  group.position.copy(centre).multiplyScalar(-1);
  scene.add(group);
  const points = new THREE.Points(geometry, new THREE.PointsMaterial({ size: 2, sizeAttenuation: false, vertexColors: true, map: disc(), alphaTest: 0.5 }));
  group.add(points);
  let mesh = null;
  if (cloud.faces && cloud.faces.length) {
    const surface = new THREE.BufferGeometry();
    surface.setAttribute("position", geometry.getAttribute("position"));
    surface.setAttribute("color", geometry.getAttribute("color"));
    surface.setIndex(new THREE.BufferAttribute(cloud.faces, 1));
    surface.computeVertexNormals();
    mesh = new THREE.Mesh(surface, new THREE.MeshLambertMaterial({ vertexColors: true, side: THREE.DoubleSide }));
    group.add(mesh);
  }
  scene.add(new THREE.AmbientLight(0xffffff, 0.3 * Math.PI));
  const light = new THREE.DirectionalLight(0xffffff, 0.7 * Math.PI);
  scene.add(light);
  const panel = { cloud, label, scene, group, points, mesh, light, traces: null, centre, radius };
  updatePanel(panel);
  return panel;
}

/** Colours, surface or points, and each row's icosphere vertex, as the toggles say. */
function updatePanel(panel) {
  const colors = panel.points.geometry.getAttribute("color");
  colors.array.set(colorsFor(panel.cloud));
  colors.needsUpdate = true;
  const surface = Boolean(panel.mesh) && state.surface;
  if (panel.mesh) panel.mesh.visible = surface;
  panel.points.visible = !surface;
  if (panel.traces) {
    panel.group.remove(panel.traces);
    panel.traces.traverse((o) => { if (o.geometry) o.geometry.dispose(); if (o.material) o.material.dispose(); });
    panel.traces = null;
  }
  if (state.showIcosphere && panel.cloud.index && icosphere) panel.traces = makeTraces(panel.cloud);
  if (panel.traces) panel.group.add(panel.traces);
}

/** The icosphere vertices a cloud's rows use, and a line from (a sample of) rows to their vertex. */
function makeTraces(cloud) {
  const group = new THREE.Group();
  const used = [...new Set(cloud.index)];
  const vertexPositions = new Float32Array(used.length * 3), vertexColors = new Float32Array(used.length * 3);
  used.forEach((i, k) => {
    for (let c = 0; c < 3; c++) vertexPositions[k * 3 + c] = icosphere[i * 3 + c];
  });
  vertexColors.set(indexColors({ count: used.length, index: Uint32Array.from(used) }));
  const vg = new THREE.BufferGeometry();
  vg.setAttribute("position", new THREE.BufferAttribute(vertexPositions, 3));
  vg.setAttribute("color", new THREE.BufferAttribute(vertexColors, 3));
  group.add(new THREE.Points(vg, new THREE.PointsMaterial({ size: 3, sizeAttenuation: false, vertexColors: true, map: disc(), alphaTest: 0.5 })));
  const stride = Math.max(1, Math.ceil(cloud.count / 4000));
  const lines = Math.ceil(cloud.count / stride);
  const lp = new Float32Array(lines * 6), lc = new Float32Array(lines * 6);
  const rowColors = indexColors(cloud);
  for (let k = 0, r = 0; r < cloud.count; r += stride, k++) {
    const i = cloud.index[r];
    for (let c = 0; c < 3; c++) {
      lp[k * 6 + c] = cloud.positions[r * 3 + c];
      lp[k * 6 + 3 + c] = icosphere[i * 3 + c];
      lc[k * 6 + c] = lc[k * 6 + 3 + c] = rowColors[r * 3 + c];
    }
  }
  const lg = new THREE.BufferGeometry();
  lg.setAttribute("position", new THREE.BufferAttribute(lp, 3));
  lg.setAttribute("color", new THREE.BufferAttribute(lc, 3));
  group.add(new THREE.LineSegments(lg, new THREE.LineBasicMaterial({ vertexColors: true, transparent: true, opacity: 0.3 })));
  group.userData = { vertices: used.length, lines };
  return group;
}

let discTexture = null;

/** Round point sprites. */
function disc() {
  if (!discTexture) {
    const c = document.createElement("canvas");
    c.width = c.height = 32;
    const g = c.getContext("2d");
    g.fillStyle = "#fff";
    g.beginPath();
    g.arc(16, 16, 15, 0, 2 * Math.PI);
    g.fill();
    discTexture = new THREE.CanvasTexture(c);
  }
  return discTexture;
}

function bgColor() {
  const [r, g, b] = info.background;
  return (r << 16) | (g << 8) | b;
}

function setPanels(next) {
  for (const p of panels) {
    p.scene.traverse((o) => { if (o.geometry) o.geometry.dispose(); if (o.material) o.material.dispose(); });
  }
  panels = next;
  state.panels = panels.map((p) => ({
    label: p.label,
    points: p.points.geometry.getAttribute("position").count,
    triangles: p.mesh ? p.mesh.geometry.index.count / 3 : 0,
    icosphereVertices: p.traces ? p.traces.userData.vertices : 0,
  }));
  $("labels").innerHTML = "";
  if (panels.length > 1) {
    for (const p of panels) {
      const div = document.createElement("div");
      div.textContent = p.label;
      $("labels").appendChild(div);
    }
  }
  // The first panels place the camera; later ones keep the user's.
  if (state.view === null) setView(params.get("view") || info.view);
  else render();
}

function refreshPanels() {
  for (const p of panels) updatePanel(p);
  setPanels(panels);
}

function sceneRadius() {
  return Math.max(1e-3, ...panels.map((p) => p.radius));
}

function setView(name) {
  const d = info.views[name] || info.views["three-quarter"];
  state.view = name;
  // Fit the head's bounding sphere in the narrower of the panel's two fields of view.
  const aspect = canvas.clientWidth / Math.max(1, panels.length) / Math.max(1, canvas.clientHeight);
  const half = Math.atan(Math.min(1, aspect) * Math.tan((FOV / 2) * Math.PI / 180));
  const distance = (sceneRadius() / Math.sin(half)) * 1.05;
  camera.position.set(d[0] * distance, d[1] * distance, d[2] * distance);
  controls.target.set(0, 0, 0);
  controls.update();
  render();
}

function render() {
  if (!info) return;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  const size = renderer.getSize(new THREE.Vector2());
  if (size.x !== width || size.y !== height) renderer.setSize(width, height, false);
  renderer.setScissorTest(false);
  renderer.setClearColor(bgColor());
  renderer.clear();
  if (!panels.length) return;
  renderer.setScissorTest(true);
  const panelWidth = width / panels.length;
  const R = sceneRadius();
  const distance = camera.position.distanceTo(controls.target);
  const pixelsPerUnit = height / 2 / (distance * Math.tan((FOV / 2) * Math.PI / 180));
  camera.aspect = panelWidth / height;
  camera.updateProjectionMatrix();
  panels.forEach((p, k) => {
    // A splat big enough that a surface sampled by this many points reads as closed.
    p.points.material.size = Math.min(24, Math.max(2, R * pixelsPerUnit * Math.sqrt(2 / Math.max(1, p.cloud.count)) * 2.8));
    p.light.position.copy(camera.position).add(camera.up.clone().multiplyScalar(0.35 * distance));
    renderer.setViewport(k * panelWidth, 0, panelWidth, height);
    renderer.setScissor(k * panelWidth, 0, panelWidth, height);
    renderer.render(p.scene, camera);
  });
}

// ---------------------------------------------------------------------------------------------
// The side panel

function factsTable(rows) {
  const table = document.createElement("table");
  for (const [k, v] of rows) {
    const tr = table.insertRow();
    tr.insertCell().textContent = k;
    tr.insertCell().textContent = v;
  }
  return table;
}

function setFacts(title, rows, extra) {
  const facts = $("facts");
  facts.innerHTML = "";
  const h = document.createElement("h2");
  h.textContent = title;
  facts.appendChild(h);
  facts.appendChild(factsTable(rows));
  if (extra) facts.appendChild(extra);
}

const f4 = (v) => v.map((x) => x.toFixed(4)).join(", ");

function checkbox(id, text, checked, onChange) {
  const label = document.createElement("label");
  const input = document.createElement("input");
  input.type = "checkbox";
  input.id = id;
  input.checked = checked;
  input.addEventListener("change", () => onChange(input.checked));
  label.append(input, " " + text);
  return label;
}

function displayControls(hasFaces, hasIndex) {
  const box = document.createElement("div");
  const h = document.createElement("h2");
  h.textContent = "Display";
  box.appendChild(h);
  if (hasFaces) {
    box.appendChild(checkbox("surface", "draw the mesh surface (off: its vertices as points)", state.surface, (on) => { state.surface = on; refreshPanels(); }));
  }
  if (hasIndex) {
    box.appendChild(checkbox("color-index", "colour by icosphere index (vertex direction, one shade per vertex)", state.colorMode === "index", async (on) => {
      state.colorMode = on ? "index" : "rgb";
      if (on) await loadIcosphere();
      refreshPanels();
    }));
    box.appendChild(checkbox("show-icosphere", "show each row's icosphere vertex (and a line to it)", state.showIcosphere, async (on) => {
      state.showIcosphere = on;
      if (on) await loadIcosphere();
      refreshPanels();
    }));
  }
  return box;
}

async function showPly() {
  const cloud = await fetchCloud("/api/cloud");
  const f = info.facts;
  state.surface = params.get("surface") !== "0";
  setPanels([makePanel(cloud, f.file)]);
  const extra = document.createElement("div");
  // What the input is and what compile makes of it; what compile would warn about.
  for (const [text, className] of [...f.notes.map((n) => [n, "note"]), ...f.warnings.map((w) => [`warning: ${w}`, "warning"])]) {
    const p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    extra.appendChild(p);
  }
  const header = document.createElement("pre");
  header.textContent = [`format ${f.format} ${f.version}`, ...f.comments.map((c) => `comment ${c}`),
    ...f.elements.flatMap((e) => [`element ${e.name} ${e.count}`, ...e.properties.map((p) => `  property ${p}`)])].join("\n");
  extra.appendChild(header);
  const splats = f.kind === "gaussian splats";
  setFacts(splats ? "3D Gaussian splats" : f.kind === "point cloud" ? "PLY point cloud" : "PLY file", [
    ["file", f.file], ["bytes", f.bytes.toLocaleString("en-US")], [splats ? "splats" : "vertices", f.vertices.toLocaleString("en-US")],
    ...(f.points !== f.vertices ? [["points drawn", `${f.points.toLocaleString("en-US")} (compile's rows)`]] : []),
    ["faces", f.faces ? f.faces.toLocaleString("en-US") + " triangles" : splats ? "none" : "none (a point cloud)"],
    ["normals", { file: "yes", computed: "computed from the faces", none: splats ? "not used (splats are points)" : "none" }[f.normals]],
    ["colours", splats ? "from f_dc (0.5 + 0.28209479·f_dc)" : f.hasColors ? "yes" : `none (drawn as ${f.shownColor.join(",")}; compile needs --default-color)`],
    ...(f.splats ? [["opacity", f.splats.opacity ? `${f.splats.opacity.min.toFixed(4)} to ${f.splats.opacity.max.toFixed(4)}${f.splats.transparent ? `; ${f.splats.transparent.toLocaleString("en-US")} below --min-opacity left out` : ""}` : "none"]] : []),
    ["bounding box", `[${f4(f.bounds.min)}] to [${f4(f.bounds.max)}]`], ["max |v|", f.bounds.maxRadius.toFixed(4)],
    ["icosphere", `${f.icosphere.vertices} vertices (${f.icosphere.source}), ${f.indicesUsed} used`],
  ], extra);
  $("controls").appendChild(displayControls(cloud.faces && cloud.faces.length > 0, true));
}

async function showDataset() {
  const select = document.createElement("select");
  select.id = "model";
  info.models.forEach((m, k) => select.add(new Option(`${m.path} (id ${m.id.toFixed(6)}, ${m.rows.toLocaleString("en-US")} rows)`, String(k))));
  const pick = async (k) => {
    state.ready = false;
    status(`loading ${info.models[k].path}…`);
    const cloud = await fetchCloud(`/api/cloud?model=${k}`);
    state.selected = k;
    select.value = String(k);
    const panel = makePanel(cloud, `${info.models[k].path} (id ${info.models[k].id})`);
    setPanels([panel]);
    const m = info.models[k], d = info.facts;
    setFacts("Model", [
      ["path", m.path], ["id", String(m.id)], ["rows", `${m.rows.toLocaleString("en-US")} (from row ${m.firstRow.toLocaleString("en-US")})`],
      ["icosphere vertices used", `${new Set(cloud.index).size} of ${info.icosphere.count} (${info.icosphere.source})`],
      ["dataset", `${d.rows.toLocaleString("en-US")} rows, ${d.models} models${d.failed ? `, ${d.failed} failed` : ""}`],
      ["options", Object.entries(d.options).map(([k2, v]) => `${k2} ${v}`).join(", ")],
      ["columns", `x: ${d.columns.x.join(" ")}; y: ${d.columns.y.join(" ")}`],
    ]);
    status("");
    state.ready = true;
  };
  select.addEventListener("change", () => pick(Number(select.value)).catch(fail));
  const label = document.createElement("h2");
  label.textContent = `Model (${info.models.length})`;
  $("controls").append(label, select, displayControls(false, true));
  const wanted = params.get("model");
  await pick(wanted !== null ? Number(wanted) : info.selected);
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.appendChild(s);
  });
}

function nearestModel(id) {
  let best = 0;
  info.models.forEach((m, k) => { if (Math.abs(m.id - id) < Math.abs(info.models[best].id - id)) best = k; });
  return best;
}

async function showModel() {
  status("loading TensorFlow.js…");
  if (!window.tf) await loadScript("/vendor/tf.min.js");
  const tf = window.tf;
  await tf.ready();
  status("loading the model…");
  const model = await tf.loadLayersModel(info.model.url);
  const n = info.icosphere.count;
  const width = info.encoding.inputs;
  const inputShape = model.inputs[0].shape;
  const modelWidth = inputShape[inputShape.length - 1];
  const outShape = model.outputs[0].shape;
  const outWidth = outShape[outShape.length - 1];
  if (modelWidth !== width) throw new Error(`the model takes ${modelWidth} inputs; its encoding (${info.encoding.text}) makes ${width}`);
  if (outWidth !== 6 && outWidth !== 3) throw new Error(`the model gives ${outWidth} outputs; expected 6 ([x, y, z, r, g, b]) or 3`);
  const faces = info.faces ? new Uint32Array(await (await fetchOk("/api/faces")).arrayBuffer()) : null;

  // The input rows come from the server (src/train/heads.ts: what sample and render feed), so the
  // page's heads are theirs whatever the encoding.
  async function generate(id) {
    const rows = new Float32Array(await (await fetchOk(`/api/inputs?id=${id}`)).arrayBuffer());
    const output = tf.tidy(() => model.predict(tf.tensor2d(rows, [n, width])));
    const values = await output.data();
    output.dispose();
    const positions = new Float32Array(n * 3), colors = new Float32Array(n * 3), index = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) {
        positions[i * 3 + c] = values[i * outWidth + c];
        colors[i * 3 + c] = outWidth === 6 ? Math.min(1, Math.max(0, values[i * outWidth + 3 + c])) : 0.8;
      }
      index[i] = i;
    }
    return { count: n, positions, colors, index, faces };
  }

  let training = null, trainingIndex = -1;
  let running = false, pending = null;
  const idText = document.createElement("div");
  const slider = document.createElement("input");
  slider.type = "range";
  slider.id = "id";
  slider.min = "0";
  slider.max = "1";
  slider.step = "0.0001";
  const show = async (id) => {
    if (running) { pending = id; return; }
    running = true;
    state.ready = false;
    try {
      status(`generating id ${id}…`);
      const generated = await generate(id);
      const next = [makePanel(generated, `generated, id ${id}`)];
      if (info.models.length) {
        const k = nearestModel(id);
        if (k !== trainingIndex) {
          training = await fetchCloud(`/api/cloud?model=${k}`);
          trainingIndex = k;
        }
        next.push(makePanel(training, `training head ${info.models[k].path} (id ${info.models[k].id})`));
      }
      setPanels(next);
      idText.textContent = `id ${id}` + (info.models.length ? `; nearest training head: ${info.models[trainingIndex].path} (id ${info.models[trainingIndex].id})` : "");
      state.generatedId = id;
      state.generations++;
      status("");
    } finally {
      running = false;
    }
    if (pending !== null) {
      const again = pending;
      pending = null;
      await show(again);
    } else state.ready = true;
  };
  slider.addEventListener("input", () => show(Number(slider.value)).catch(fail));
  const h = document.createElement("h2");
  h.textContent = "Model id";
  $("controls").append(h, slider, idText, displayControls(Boolean(faces), true));
  const start = params.has("id") ? Number(params.get("id")) : info.id;
  slider.value = String(start);
  setFacts("Trained model", [
    ["directory", info.title], ["inputs", `${width}: ${info.encoding.text}`], ["outputs", String(outWidth)],
    ["weights", info.model.files.join(", ")], ["backend", tf.getBackend()],
    ["icosphere", `${n} vertices: one generated point each${faces ? `, ${(faces.length / 3).toLocaleString("en-US")} triangles` : ""}`],
    ["training data", info.dataset ? `${info.dataset.dir} (${info.models.length} heads)` : "unknown (pass --data DIR to compare)"],
  ]);
  await show(start);
}

async function main() {
  info = await (await fetchOk("/api/info")).json();
  state.kind = info.kind;
  document.title = `headsnet view: ${info.title}`;
  $("title").textContent = { ply: "PLY head", dataset: "Compiled dataset", model: "Trained model" }[info.kind];
  $("subtitle").textContent = info.title;
  state.colorMode = (params.get("color") || info.color) === "index" ? "index" : "rgb";
  state.showIcosphere = params.get("icosphere") === "1";
  if (state.colorMode === "index" || state.showIcosphere) await loadIcosphere();
  for (const b of document.querySelectorAll("button[data-view]")) b.addEventListener("click", () => setView(b.dataset.view));
  if (info.kind === "ply") await showPly();
  else if (info.kind === "dataset") await showDataset();
  else await showModel();
  status("");
  state.ready = true;
}

main().catch(fail);
