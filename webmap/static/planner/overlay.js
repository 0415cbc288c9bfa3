/* Planner overlay: filters redraw the proposals, the choropleth of development areas, the heat
   map and the table together. The table comes from /planner/api/proposals a page at a time ("show
   more" follows its next link), with the total and the area counts of every match; the map's markers from /planner/api/proposals/map for the viewport (all points for a small set, the
   view's points, or grid clusters with counts; js/viewport.js). Data is written with textContent only. */
import {config} from "../js/config.js";
import {requestJSON} from "../js/http.js";
import {t} from "../js/i18n.js";
import {foliumMap} from "../js/leaflet.js";
import {clusterMarker, followViewport} from "../js/viewport.js";

const map = foliumMap(document.querySelector(".overlay-map"));
const form = document.getElementById("filters");
const tbody = document.querySelector("#proposal-table tbody");
const countEl = document.getElementById("result-count");
const panel = document.getElementById("area-panel");
const legend = document.getElementById("legend");
const heatToggle = document.getElementById("heat-toggle");
const csvLink = document.getElementById("table-csv");
const bulkIds = document.getElementById("bulk-ids");
const bulkSubmit = document.getElementById("bulk-submit");
const moreButton = document.getElementById("table-more");
const shownEl = document.getElementById("table-shown");
const labels = config.labels;
const areaNames = {};
let areaLayer = null, areaCounts = {}, features = [], mapAnswer = null, view = null, total = 0, nextUrl = null, generation = 0;
const pointLayer = L.layerGroup().addTo(map);
let heatLayer = null;
const COLORS = ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"];

function colour(count, max) {
  if (!count) { return COLORS[0]; }
  const step = Math.min(COLORS.length - 1, 1 + Math.floor((count - 1) * (COLORS.length - 1) / Math.max(max, 1)));
  return COLORS[step];
}
function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) { node.textContent = text; }
  for (const [key, value] of Object.entries(attrs || {})) { node.setAttribute(key, value); }
  return node;
}
function query() {
  const params = new URLSearchParams();
  new FormData(form).forEach((value, key) => { if (value) { params.append(key, value); } });
  return params.toString();
}
/* The filter lives in the address (shareable, and what a saved filter stores); the page opens with the
   filter the server hands it in config.query: the address's, or that of a form it refused. */
function readFilterFromAddress() {
  new URLSearchParams(config.query).forEach((value, key) => {
    const field = form.elements.namedItem(key);
    if (field && "value" in field) { field.value = value; }
  });
}
function showFilterState() {
  const current = query();
  window.history.replaceState(null, "", config.indexUrl + (current ? "?" + current : ""));
  csvLink.setAttribute("href", config.tableCsvUrl + (current ? "?" + current : ""));
  for (const input of document.querySelectorAll("input[name=query]")) { input.value = current; }
  bulkIds.textContent = "";
  for (const f of features) { bulkIds.appendChild(el("input", null, {type: "hidden", name: "public_id", value: f.properties.public_id})); }
  bulkSubmit.disabled = features.length === 0;
}
function styleAreas() {
  if (!areaLayer) { return; }
  let max = 0;
  for (const n of Object.values(areaCounts)) { max = Math.max(max, n); }
  areaLayer.eachLayer((layer) => {
    const id = layer.feature.properties.id, n = areaCounts[id] || 0;
    layer.setStyle({color: "#08306b", weight: 2, fillColor: colour(n, max), fillOpacity: 0.6});
    if (layer.getElement && layer.getElement()) { layer.getElement().setAttribute("data-count", String(n)); }
    layer.setTooltipContent(el("span", areaNames[id] + ": " + n + " " + t("count")));
  });
  legend.textContent = "";
  legend.appendChild(el("strong", t("count")));
  [0, 1, Math.ceil(max / 2), max].filter((v, i, a) => a.indexOf(v) === i).forEach((v) => {
    const item = el("span", " " + v + " ");
    const swatch = el("i", null, {"class": "swatch"});
    swatch.style.background = colour(v, max);
    item.prepend(swatch);
    legend.appendChild(item);
  });
}
/* An area's proposals are asked of the server (the table holds only the pages loaded so far); an area
   filter in the form still applies, as it did when the panel listed the table's rows. */
async function showArea(id) {
  const params = new URLSearchParams(query());
  const filterArea = params.get("area");
  params.set("area", id);
  let data;
  try {
    data = await requestJSON(config.proposalsUrl + "?" + params.toString());
  } catch (error) {
    countEl.textContent = error.message;
    return;
  }
  const inBoth = data.features.filter((f) => !filterArea || f.properties.area_ids.indexOf(filterArea) >= 0);
  panel.textContent = "";
  panel.appendChild(el("h2", t("proposalsIn", {area: areaNames[id] || id})));
  const list = el("ul", null, {"id": "area-proposals"});
  for (const f of inBoth) {
    const li = el("li");
    li.appendChild(el("a", f.properties.title, {href: f.properties.url}));
    li.appendChild(document.createTextNode(" – " + (labels.statuses[f.properties.status] || f.properties.status)));
    list.appendChild(li);
  }
  if (!list.children.length) { panel.appendChild(el("p", t("noProposals"))); }
  panel.appendChild(list);
}
function proposalUrl(publicId) { return config.proposalUrl.replace("__id__", encodeURIComponent(publicId)); }
function pointMarker(f) {
  const c = f.geometry.coordinates;
  const marker = L.circleMarker([c[1], c[0]], {radius: 7, color: f.properties.hidden ? "#888" : "#b30000",
    weight: 2, fillColor: "#ff6f59", fillOpacity: 0.9});
  marker.bindTooltip(el("span", f.properties.title));  // a node: Leaflet puts a string in as HTML
  marker.on("click", () => { window.location.href = proposalUrl(f.properties.public_id); });
  return marker;
}
function drawPoints() {
  pointLayer.clearLayers();
  const answer = mapAnswer || {mode: "points", features: []};
  for (const f of answer.features) {
    if (answer.mode === "clusters") {
      const count = f.properties.count;
      const label = count === 1 ? t("clusterOne") : t("cluster", {count});
      clusterMarker(f, label, (latlng) => { map.setView(latlng, Math.min(map.getZoom() + 2, map.getMaxZoom())); })
        .addTo(pointLayer);
    } else {
      pointMarker(f).addTo(pointLayer);
    }
  }
  document.body.setAttribute("data-map-mode", answer.mode);
  if (mapAnswer && !performance.getEntriesByName("dialogkarta:overlay-map-drawn").length) {
    performance.mark("dialogkarta:overlay-map-drawn");  // for bench/map_page.py
  }
  if (heatLayer) { map.removeLayer(heatLayer); heatLayer = null; }
  if (heatToggle.checked && L.heatLayer) {
    const weight = (f) => (answer.mode === "clusters" ? f.properties.count : 1);
    const most = answer.features.reduce((top, f) => Math.max(top, weight(f)), 1);
    heatLayer = L.heatLayer(answer.features.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0], weight(f)]),
                            {radius: 25, blur: 20, minOpacity: 0.3, max: most}).addTo(map);
  }
}
function drawTable(rows) {
  for (const f of rows) {
    const p = f.properties, tr = el("tr", null, {"data-public-id": p.public_id});
    const title = el("td");
    title.appendChild(el("a", p.title, {href: p.url}));
    tr.appendChild(title);
    tr.appendChild(el("td", labels.categories[p.category] || p.category));
    tr.appendChild(el("td", labels.statuses[p.status] || p.status));
    tr.appendChild(el("td", labels.channels[p.channel] || p.channel));
    tr.appendChild(el("td", labels.departments[p.department] || p.department || ""));
    tr.appendChild(el("td", p.area_ids.map((a) => areaNames[a] || a).join(", ")));
    tr.appendChild(el("td", p.created_at.slice(0, 10)));
    tbody.appendChild(tr);
  }
  shownEl.textContent = features.length < total ? t("shown", {shown: features.length, n: total}) : "";
  moreButton.hidden = !nextUrl;
}
function takePage(data) {
  features = features.concat(data.features);
  const next = (data.links || []).find((link) => link.rel === "next");
  nextUrl = next ? next.href : null;
  drawTable(data.features);
}
async function showMore() {
  if (!nextUrl) { return; }
  moreButton.disabled = true;
  const asked = generation;
  try {
    const data = await requestJSON(nextUrl);
    if (asked !== generation) { return; }  // the filter changed meanwhile: this page belongs to the old one
    takePage(data);
    showFilterState();
  } catch (error) {
    countEl.textContent = error.message;
  } finally {
    moreButton.disabled = false;
  }
}
async function refresh() {
  generation += 1;
  if (view) { view.reload(); }
  let data;
  try {
    data = await requestJSON(config.proposalsUrl + "?" + query());
  } catch (error) {
    countEl.textContent = error.message;  // the server's words (an invalid filter), or nothing
    return;
  }
  features = [];
  total = data.total;
  areaCounts = data.area_counts;
  countEl.textContent = t("matching", {n: data.total});
  countEl.setAttribute("data-total", String(data.total));
  tbody.textContent = "";
  takePage(data);
  styleAreas();
  showFilterState();
  if (!performance.getEntriesByName("dialogkarta:overlay-table-drawn").length) {
    performance.mark("dialogkarta:overlay-table-drawn");
  }
  document.body.setAttribute("data-overlay-ready", "1");
}
async function start() {
  let areas;
  try {
    areas = await requestJSON(config.areasUrl);
  } catch (error) {
    countEl.textContent = error.message;
    return;
  }
  for (const f of areas.features) { areaNames[f.properties.id] = f.properties.name; }
  areaLayer = L.geoJSON(areas, {
    onEachFeature: (feature, layer) => {
      layer.bindTooltip(el("span", feature.properties.name));
      layer.on("click", () => { showArea(feature.properties.id); });
    },
  }).addTo(map);
  areaLayer.bringToBack();
  map.fitBounds(areaLayer.getBounds(), {padding: [20, 20], animate: false});
  view = followViewport(map, (viewport) => config.mapUrl + "?" + viewport + "&" + query(), (answer) => {
    mapAnswer = answer;
    drawPoints();
  }, (error) => { countEl.textContent = error.message; });
  await refresh();
}

readFilterFromAddress();
form.addEventListener("change", refresh);
form.addEventListener("reset", () => { setTimeout(refresh, 0); });
heatToggle.addEventListener("change", drawPoints);
moreButton.addEventListener("click", showMore);
start();
