/* The survey page (/s/<slug>): a map per map question drawn with Leaflet-Geoman, the keyboard path
 * (places from the list, in order, for lines and areas), one question per screen on a phone, this
 * browser's earlier answers filled in, and the answers sent to /api/surveys/<slug>/responses.
 * Leaflet (L) and Geoman (L.PM) are classic scripts loaded before this module. */
import {config} from "./js/config.js";
import {t} from "./js/i18n.js";
import {RequestError, requestJSON} from "./js/http.js";

const PHONE = window.matchMedia("(max-width: 40rem)");
const form = document.getElementById("survey-form");
const questions = Array.from(document.querySelectorAll(".question"));
const drawings = {};  // question id -> {question, map, layers: [{layer, comment}], pending: [latlng]}
let current = 0;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) { node.className = className; }
  if (text !== undefined) { node.textContent = text; }
  return node;
}

function metres(latlngs) {
  let sum = 0;
  for (let i = 1; i < latlngs.length; i += 1) { sum += latlngs[i - 1].distanceTo(latlngs[i]); }
  return Math.round(sum);
}

// Area on a local equirectangular projection: good to a few per cent over a locality, enough for a label.
function squareMetres(latlngs) {
  const R = 6371008.8, lat0 = latlngs[0].lat * Math.PI / 180;
  const xy = latlngs.map((p) => [R * p.lng * Math.PI / 180 * Math.cos(lat0), R * p.lat * Math.PI / 180]);
  let twice = 0;
  for (let i = 0; i < xy.length; i += 1) {
    const [x1, y1] = xy[i], [x2, y2] = xy[(i + 1) % xy.length];
    twice += x1 * y2 - x2 * y1;
  }
  return Math.round(Math.abs(twice) / 2);
}

function vertices(layer) {
  if (layer instanceof L.Marker) { return [layer.getLatLng()]; }
  const latlngs = layer.getLatLngs();
  return Array.isArray(latlngs[0]) ? latlngs[0] : latlngs;
}

const number = new Intl.NumberFormat(config.lang);

function describe(geometry, n, layer) {
  const points = vertices(layer);
  if (geometry === "point") { return t("point", {n}); }
  if (geometry === "line") { return t("line", {n, points: points.length, length: number.format(metres(points))}); }
  return t("polygon", {n, points: points.length, area: number.format(squareMetres(points))});
}

// ------------------------------------------------------------------ maps
const contextStyle = {color: "#555", weight: 2, dashArray: "6 4", fill: false, interactive: false, pmIgnore: true};
const areaStyle = {color: "#7b5ea7", weight: 1, fillOpacity: 0.08, interactive: false, pmIgnore: true};

function setupMap(question) {
  const container = document.getElementById(`map-${question.id}`);
  const map = L.map(container, {center: config.map.center, zoom: config.map.zoom, minZoom: config.map.minZoom,
                                zoomSnap: 0.5});
  container.setAttribute("aria-label", t("mapLabel"));
  L.geoJSON(config.boundary, {style: () => contextStyle, pmIgnore: true}).addTo(map);
  for (const area of config.areas) {
    L.geoJSON(area.geometry, {style: () => areaStyle, pmIgnore: true}).addTo(map);
  }
  map.pm.setLang(config.lang === "sv" ? "sv" : "en");
  map.pm.addControls({
    position: "topleft",
    drawMarker: question.geometry === "point",
    drawPolyline: question.geometry === "line",
    drawPolygon: question.geometry === "polygon",
    drawCircleMarker: false, drawRectangle: false, drawCircle: false, drawText: false,
    cutPolygon: false, rotateMode: false, dragMode: false, editMode: question.geometry !== "point",
    removalMode: true,
  });
  // Geoman names its buttons only in a title on their container: give the links themselves a name and a role.
  for (const link of container.querySelectorAll(".leaflet-buttons-control-button")) {
    link.setAttribute("role", "button");
    link.setAttribute("aria-label", link.closest("[title]")?.title || "");
  }
  const drawing = {question, map, layers: [], pending: []};
  drawings[question.id] = drawing;
  map.on("pm:create", (event) => { add(drawing, event.layer); });
  map.on("pm:remove", (event) => { forget(drawing, event.layer); });
  map.on("pm:edit", () => { render(drawing); });
  return drawing;
}

function add(drawing, layer, comment = "") {
  if (!drawing.map.hasLayer(layer)) { layer.addTo(drawing.map); }
  layer.on("pm:edit", () => { render(drawing); });
  drawing.layers.push({layer, comment});
  render(drawing);
}

function forget(drawing, layer) {
  drawing.layers = drawing.layers.filter((item) => item.layer !== layer);
  render(drawing);
}

function render(drawing) {
  const {question, map} = drawing;
  const list = document.getElementById(`drawn-${question.id}`);
  list.replaceChildren();
  drawing.layers.forEach((item, index) => {
    const row = el("li", "drawn");
    row.append(el("span", "drawn-label", describe(question.geometry, index + 1, item.layer)));
    if (question.comment) {
      const id = `comment-${question.id}-${index}`;
      const label = el("label", null, t("comment"));
      label.htmlFor = id;
      const input = el("input");
      Object.assign(input, {type: "text", id, maxLength: 500, value: item.comment});
      input.addEventListener("input", () => { item.comment = input.value; });
      row.append(label, input);
    }
    const remove = el("button", "button secondary small", t("remove"));
    remove.type = "button";
    remove.addEventListener("click", () => { map.removeLayer(item.layer); forget(drawing, item.layer); });
    row.append(remove);
    list.append(row);
  });
  const full = drawing.layers.length >= question.max;
  const shape = {point: "Marker", line: "Line", polygon: "Polygon"}[question.geometry];
  map.pm.Toolbar.setButtonDisabled(`draw${shape === "Line" ? "Polyline" : shape}`, full);
  if (full) {
    map.pm.disableDraw();
    list.append(el("li", "hint", t("maxReached", {max: question.max})));
  }
}

// The keyboard path: a place from the list is a point, or the next vertex of a line or an area.
function addPlace(drawing) {
  const {question, map} = drawing;
  if (drawing.layers.length >= question.max) { return; }
  const [lon, lat] = document.getElementById(`pick-${question.id}`).value.split(",").map(parseFloat);
  const latlng = L.latLng(lat, lon);
  if (question.geometry === "point") {
    add(drawing, L.marker(latlng));
    map.setView(latlng, Math.max(map.getZoom(), 16));
    return;
  }
  drawing.pending.push(latlng);
  if (!drawing.preview) { drawing.preview = L.polyline([], {dashArray: "4 4", pmIgnore: true}).addTo(map); }
  drawing.preview.setLatLngs(drawing.pending);
  document.getElementById(`pending-${question.id}`).textContent = t("pending", {count: drawing.pending.length});
}

function finishShape(drawing) {
  const {question, map} = drawing;
  const pending = document.getElementById(`pending-${question.id}`);
  const needed = question.geometry === "line" ? 2 : 3;
  if (drawing.pending.length < needed) {
    pending.textContent = t(question.geometry === "line" ? "tooFewLine" : "tooFewPolygon");
    return;
  }
  const layer = question.geometry === "line" ? L.polyline(drawing.pending) : L.polygon(drawing.pending);
  drawing.pending = [];
  if (drawing.preview) { map.removeLayer(drawing.preview); drawing.preview = null; }
  pending.textContent = "";
  add(drawing, layer);
  map.fitBounds(layer.getBounds(), {maxZoom: 17});
}

// ------------------------------------------------------------------ answers
function geometryOf(layer) {
  return layer.toGeoJSON().geometry;
}

function consented() {
  const box = document.getElementById("consent");
  return Boolean(box && box.checked);
}

// Background questions can be answered only after the consent is ticked; unticking it clears nothing but sends nothing.
function setupConsent() {
  const box = document.getElementById("consent");
  if (!box) { return; }
  const sync = () => {
    for (const fieldset of form.querySelectorAll("fieldset.background")) { fieldset.disabled = !box.checked; }
  };
  box.addEventListener("change", sync);
  sync();
}

function answers() {
  const result = {};
  for (const question of config.questions) {
    if (question.background && !consented()) { continue; }
    if (question.type === "map") {
      const drawn = drawings[question.id].layers.map((item) => (
        question.comment && item.comment.trim() ? {geometry: geometryOf(item.layer), comment: item.comment.trim()}
          : geometryOf(item.layer)));
      if (drawn.length) { result[question.id] = drawn; }
    } else if (question.type === "text") {
      const value = form.elements[question.id].value.trim();
      if (value) { result[question.id] = value; }
    } else {
      const checked = Array.from(form.querySelectorAll(`input[name="${question.id}"]:checked`)).map((input) => input.value);
      if (question.type === "scale" && checked.length) { result[question.id] = parseInt(checked[0], 10); }
      if (question.type === "choice" && checked.length) { result[question.id] = question.multiple ? checked : checked[0]; }
    }
  }
  return result;
}

function fill(earlier) {
  for (const question of config.questions) {
    const value = earlier[question.id];
    if (value === undefined) { continue; }
    if (question.background) {
      const box = document.getElementById("consent");
      box.checked = true;
      box.dispatchEvent(new Event("change"));
    }
    if (question.type === "map") {
      const drawing = drawings[question.id];
      for (const item of value) {
        const geometry = item.geometry || item;
        L.geoJSON(geometry, {pmIgnore: false}).eachLayer((layer) => { add(drawing, layer, item.comment || ""); });
      }
    } else if (question.type === "text") {
      form.elements[question.id].value = value;
    } else {
      for (const chosen of [].concat(value)) {
        const input = form.querySelector(`input[name="${question.id}"][value="${CSS.escape(String(chosen))}"]`);
        if (input) { input.checked = true; }
      }
    }
  }
}

function showError(questionId, message) {
  for (const node of form.querySelectorAll(".question .form-error")) { node.hidden = true; node.textContent = ""; }
  const index = questions.findIndex((item) => item.dataset.question === questionId);
  if (index === -1) { return false; }
  const node = document.getElementById(`err-${questionId}`);
  node.textContent = message;
  node.hidden = false;
  show(index);
  questions[index].querySelector("legend").scrollIntoView({block: "center"});
  return true;
}

async function send(event) {
  event.preventDefault();
  const status = document.getElementById("survey-status"), button = document.getElementById("survey-submit");
  status.textContent = t("sending");
  button.disabled = true;
  try {
    const reply = await requestJSON(config.urls.responses, {method: "POST", body: {answers: answers(), consent: consented()}});
    const lines = [t(reply.updated ? "updated" : "saved")];
    for (const repair of reply.repairs || []) { lines.push(t("repaired", {reason: repair.reason})); }
    status.textContent = lines.join(" ");
    for (const node of form.querySelectorAll(".question .form-error")) { node.hidden = true; }
  } catch (error) {
    const message = error instanceof RequestError && error.message ? error.message : t("failed");
    if (!(error instanceof RequestError && error.field && showError(error.field, message))) {
      status.textContent = message;
    } else {
      status.textContent = "";
    }
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------ one question per screen on a phone
function show(index) {
  current = Math.max(0, Math.min(questions.length - 1, index));
  const paged = PHONE.matches;
  const progress = document.getElementById("survey-progress");
  questions.forEach((item, i) => {
    item.hidden = paged && i !== current;
    item.querySelector(".survey-nav").hidden = !paged;
  });
  document.querySelector(".survey-send").hidden = paged && current !== questions.length - 1;
  progress.hidden = !paged;
  progress.textContent = paged ? t("questionOf", {n: current + 1, count: questions.length}) : "";
  for (const drawing of Object.values(drawings)) {
    const shown = drawing.map.getContainer().offsetWidth > 0;
    drawing.map.invalidateSize({pan: false});
    // A map made inside a hidden question has no size; the first time it is seen it starts at the locality.
    if (shown && !drawing.seen) {
      drawing.seen = true;
      if (drawing.layers.length) {
        drawing.map.fitBounds(L.featureGroup(drawing.layers.map((item) => item.layer)).getBounds(), {maxZoom: 17});
      } else {
        drawing.map.setView(config.map.center, config.map.zoom, {animate: false});
      }
    }
  }
}

function move(step) {
  show(current + step);
  questions[current].querySelector("legend").setAttribute("tabindex", "-1");
  questions[current].querySelector("legend").focus();
}

async function start() {
  for (const question of config.questions) {
    if (question.type === "map") { setupMap(question); }
  }
  form.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) { return; }
    if (button.classList.contains("add-place")) { addPlace(drawings[button.dataset.question]); }
    if (button.classList.contains("finish-shape")) { finishShape(drawings[button.dataset.question]); }
    if (button.classList.contains("next")) { move(1); }
    if (button.classList.contains("previous")) { move(-1); }
  });
  form.addEventListener("submit", send);
  setupConsent();
  PHONE.addEventListener("change", () => show(current));
  show(0);
  try {
    const earlier = await requestJSON(config.urls.mine);
    fill(earlier.answers || {});
  } catch (error) {
    if (!(error instanceof RequestError && error.status === 404)) { throw error; }
  }
  form.dataset.ready = "true";
}

start();
