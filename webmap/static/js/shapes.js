/* Proposals as lines and areas on the resident map: "Punkt / Linje / Område", drawing, and the shapes sent.
 *
 * A point is the pin, as before (map.js). A line (a missing footpath) or an area (a park) is drawn
 * with Leaflet-Geoman, the survey pages' tool, loaded from our vendored copy only when a resident
 * first chooses Linje or Område (a classic script after Leaflet, as the survey page loads it). The
 * drawn shape is sent as `geometry` instead of lon/lat; the server checks it (inside the locality,
 * vertex limits, self-crossings repaired). The public line and area proposals are drawn from
 * /api/proposals/shapes; their popups are map.js's, built with textContent like the points'.
 * Keyboard users propose points from the place list; drawing needs a finger or a mouse. */
import {config} from "./config.js";
import {requestJSON} from "./http.js";
import {t} from "./i18n.js";

const LINE_STYLE = {color: "#1f78b4", weight: 6, opacity: 0.85, className: "dk-shape dk-shape-line"};
const AREA_STYLE = {color: "#1f78b4", weight: 3, fillOpacity: 0.2, className: "dk-shape dk-shape-area"};
const DRAW_NAMES = {line: "Line", area: "Polygon"};

let map = null;
let mode = "point";
let drawn = null;  // the layer the resident drew, until it is sent
let geoman = null;  // the promise of the drawing tool's script
let toolReady = false;
let hooks = {};
const shown = L.featureGroup();  // the public line and area proposals

function $(id) { return document.getElementById(id); }

function say(text) {
  const node = $("shape-status");
  node.textContent = text || "";
  node.hidden = !text;
}

function loadGeoman() {
  if (!geoman) {
    geoman = new Promise((resolve, reject) => {
      const style = document.createElement("link");
      style.rel = "stylesheet";
      style.href = config.geoman.css;
      document.head.appendChild(style);
      const script = document.createElement("script");
      script.src = config.geoman.js;
      script.onload = () => { resolve(); };
      script.onerror = () => { geoman = null; reject(new Error("geoman")); };
      document.head.appendChild(script);
    });
  }
  return geoman;
}

function vertexCount(layer) {
  const latlngs = layer.getLatLngs();
  return mode === "line" ? latlngs.length : latlngs[0].length;
}

function onCreate(event) {
  if (drawn) { map.removeLayer(drawn); }
  drawn = event.layer;
  drawn.on("pm:edit", () => { placed(); });
  placed();
}

function placed() {
  say(t(mode === "line" ? "lineDrawn" : "areaDrawn", {count: vertexCount(drawn)}));
  $("shape-redraw").hidden = false;
  setDrawing(false);
  hooks.drawn(drawn.getCenter());
}

function setDrawing(on) {
  map.getContainer().classList.toggle("dk-drawing", on);
  document.documentElement.setAttribute("data-drawing", on ? mode : "");
}

async function startDrawing() {
  try {
    await loadGeoman();
  } catch (error) {
    say(t("drawingFailed"));
    return;
  }
  if (mode === "point") { return; }  // the resident chose Punkt again while the tool loaded
  if (!toolReady) {
    if (!map.pm) { L.PM.reInitLayer(map); }  // the map was made before the tool was loaded
    map.pm.setLang(config.lang === "sv" ? "sv" : "en");
    map.on("pm:create", onCreate);
    toolReady = true;
  }
  map.pm.disableDraw();
  map.pm.enableDraw(DRAW_NAMES[mode], {continueDrawing: false, snappable: false,
                                       pathOptions: mode === "line" ? LINE_STYLE : AREA_STYLE});
  say(t(mode === "line" ? "drawLine" : "drawArea"));
  setDrawing(true);
  const box = map.getContainer().getBoundingClientRect();
  if (box.bottom < 0 || box.top > window.innerHeight) { map.getContainer().scrollIntoView({block: "start"}); }  // a phone: to the map
}

function clearDrawn() {
  if (drawn) { map.removeLayer(drawn); drawn = null; }
  $("shape-redraw").hidden = true;
}

function choose(value) {
  mode = value;
  clearDrawn();
  if (map.pm) { map.pm.disableDraw(); }
  setDrawing(false);
  hooks.cleared(mode);
  if (mode === "point") { say(""); return; }
  startDrawing();
}

/** "point", "line" or "area": what the resident is proposing now. */
export function shapeMode() { return mode; }

/** The proposal's body with the drawn line or area instead of lon/lat (a point's body is left as it is). */
export function withShape(data) {
  if (mode === "point" || !drawn) { return data; }
  const {lon, lat, ...rest} = data;  // eslint-disable-line no-unused-vars
  return Object.assign(rest, {geometry: drawn.toGeoJSON(7).geometry});
}

/** After a proposal is sent: forget the drawing, and draw a line or area proposal among the others. */
export function shapeSent(feature) {
  clearDrawn();
  say("");
  if (feature && feature.geometry.type !== "Point") { addShapes([feature]); }
}

/** Start again (another proposal): a line or an area is drawn anew. */
export function restartShape() {
  clearDrawn();
  if (mode !== "point") { startDrawing(); }
}

/** A point of an item's geometry to centre the map on: the point itself, or the first vertex of a line or area. */
export function pointOf(feature) {
  const geometry = feature.geometry;
  if (geometry.type === "Point") { return geometry.coordinates; }
  return geometry.type === "LineString" ? geometry.coordinates[0] : geometry.coordinates[0][0];
}

function addShapes(features) {
  L.geoJSON({type: "FeatureCollection", features}, {
    style: (feature) => (feature.geometry.type === "LineString" ? LINE_STYLE : AREA_STYLE),
    bubblingMouseEvents: false,
    pmIgnore: true,
    onEachFeature: (feature, layer) => { layer.bindPopup(() => hooks.popup(feature)); },
  }).eachLayer((layer) => { shown.addLayer(layer); });
}

async function loadShapes() {
  let collection;
  try {
    collection = await requestJSON(config.urls.shapes);
  } catch (error) {
    return;  // the points are on the map anyway
  }
  addShapes(collection.features);
  document.documentElement.setAttribute("data-shapes", String(collection.features.length));
}

/** Bind the choice and the drawing to `leafletMap`; `drawn(latlng)` when a shape is drawn, `cleared(mode)` on a new choice,
 * `popup(feature)` builds a shape's popup. */
export function setupShapes(leafletMap, callbacks) {
  map = leafletMap;
  hooks = callbacks;
  shown.addTo(map);
  for (const input of document.querySelectorAll("#shape-choice input[name=shape]")) {
    input.addEventListener("change", () => { if (input.checked) { choose(input.value); } });
  }
  $("shape-redraw").addEventListener("click", () => { restartShape(); hooks.cleared(mode); });
  loadShapes();
}
