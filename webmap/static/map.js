/* Dialogkarta resident map: proposals from the API, the pin, the place list and the form.
 *
 * Proposals come from the map endpoint for the viewport (js/viewport.js): a small locality gets
 * them all at once and Leaflet.markercluster groups them here; a large one gets the points of the
 * view, or the server's grid clusters with counts, again after every pan and zoom. A point carries
 * only what its marker needs; its popup fetches the proposal itself when opened.
 *
 * folium builds the map and its layers (webmap/map.py) in the page's inline script, which runs
 * while the page is parsed; this module runs after that and finds the map (js/leaflet.js) and its
 * layers, named on the map element (data-layers: {"boundary", "areas", "services", "proposals"}
 * -> folium's variable names); start() binds tooltips, popups and symbols to them. Everything a
 * resident wrote is put into the page with textContent, never innerHTML: popups, tooltips and
 * lists are built as DOM nodes. Texts and labels come, translated, from the #dk-config JSON.
 */
import {config} from "./js/config.js";
import {RequestError, requestJSON} from "./js/http.js";
import {t} from "./js/i18n.js";
import {photoChosen, postProposal} from "./js/photo.js";
import {foliumMap} from "./js/leaflet.js";
import {clusterMarker, followViewport} from "./js/viewport.js";
import {describeView} from "./js/view_summary.js";
import {setupSimilar} from "./js/similar.js";
import {offlineText, sendProposal} from "./js/offline.js";
import {markSupported, rememberSupport} from "./js/supports.js";
import {placePresetPin, presetFields} from "./js/workbook.js";
import {pointOf, restartShape, setupShapes, shapeMode, shapeSent, withShape} from "./js/shapes.js";

let map = null;
let layers = {};
let pin = null;
const markers = {};
const gridLayer = L.layerGroup();  // the server's clusters, shown while the proposals layer is
let ready = false;
const KEPT_MARKERS = 10000;
let tilesFailed = false;
let refreshSimilar = () => {};  // set by setupSimilar once the form is ready

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) { node.className = className; }
  if (text !== undefined && text !== null) { node.textContent = String(text); }
  return node;
}

function $(id) { return document.getElementById(id); }

function url(name, id) { return config.urls[name].replace("__id__", encodeURIComponent(id)); }

function truncate(text, length) {
  text = text || "";
  return text.length > length ? text.slice(0, length - 1) + "…" : text;
}

// ------------------------------------------------------------ geometry
function inRing(lon, lat, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
    if ((yi > lat) !== (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) { inside = !inside; }
  }
  return inside;
}

function inBoundary(lon, lat) {
  const geometry = config.boundary;
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  return polygons.some((rings) => inRing(lon, lat, rings[0]) && !rings.slice(1).some((hole) => inRing(lon, lat, hole)));
}

// ------------------------------------------------------------ layers built by folium
function areaNode(props) {
  const node = el("div", "dk-tooltip");
  node.appendChild(el("strong", null, props.name));
  const status = config.areaStatus[props.status];
  node.appendChild(el("div", null, status ? status.label : props.status));
  if (props.data_status !== "verified") { node.appendChild(el("div", "dk-note", t("illustrative"))); }
  return node;
}

function onArea(feature, layer) {
  layer.bindTooltip(() => areaNode(feature.properties), {sticky: true});
  // The shape is a tab stop (its tooltip opens on focus): give it a name, as the tooltip says it.
  const shape = layer.getElement && layer.getElement();
  if (shape) {
    const props = feature.properties, status = config.areaStatus[props.status];
    shape.setAttribute("role", "img");
    shape.setAttribute("aria-label", t("areaLabel", {name: props.name, status: status ? status.label : props.status}) +
                       (props.data_status !== "verified" ? " (" + t("illustrative") + ")" : ""));
  }
}

function onService(feature, layer) {
  const props = feature.properties;
  const kind = config.serviceKinds[props.kind] || {symbol: "•", label: props.kind};
  const symbol = el("span", "dk-service-symbol", kind.symbol);
  symbol.setAttribute("aria-hidden", "true");
  // A picture, not a control (webmap/map.py): no popup, no tab stop, and a tap on it places the pin there.
  if (layer.setIcon) { layer.setIcon(L.divIcon({html: symbol, className: "dk-service", iconSize: [30, 30], iconAnchor: [15, 15]})); }
}

// The service drawn under a tap, if any: the pin's status then names it, as its popup did before.
function serviceAt(containerPoint) {
  let found = null;
  layers.services.eachLayer((layer) => {
    if (!found && layer.getLatLng && map.latLngToContainerPoint(layer.getLatLng()).distanceTo(containerPoint) <= 15) {
      found = layer.feature.properties.name;
    }
  });
  return found;
}

// ------------------------------------------------------------ proposals
function proposalPopup(feature) {
  const props = feature.properties;
  const node = el("div", "dk-popup dk-proposal-popup");
  node.appendChild(el("h3", null, props.title));
  node.appendChild(el("p", "dk-meta", (config.categories[props.category] || props.category) + " · " +
                                        (config.statuses[props.status] || props.status)));
  if (props.description === undefined) {  // a map point: the rest comes with the proposal itself
    requestJSON(url("item", props.public_id)).then((item) => {
      Object.assign(props, item.properties);
      popupDetails(node, props);
    }, () => { node.appendChild(el("p", "dk-note", t("proposalsFailed"))); });
  } else {
    popupDetails(node, props);
  }
  return node;
}

function popupDetails(node, props) {
  node.appendChild(el("p", "dk-description", truncate(props.description, 280)));
  const count = el("p", "dk-support-count", t("supportCount", {count: props.support_count}));
  node.appendChild(count);
  const actions = el("p", "dk-actions");
  const link = el("a", null, t("open"));
  link.href = url("proposal", props.public_id);
  actions.appendChild(link);
  const button = el("button", "button small", t("support"));
  button.type = "button";
  markSupported(button, props.public_id, t("supported"));
  button.addEventListener("click", () => {
    support(props.public_id, button, (total) => {
      props.support_count = total;
      count.textContent = t("supportCount", {count: total});
    });
  });
  actions.appendChild(button);
  node.appendChild(actions);
}

function proposalMarker(feature) {
  const coords = feature.geometry.coordinates;
  const marker = L.marker([coords[1], coords[0]], {title: feature.properties.title, alt: feature.properties.title});
  marker.feature = feature;
  marker.bindPopup(() => proposalPopup(feature));
  markers[feature.properties.public_id] = marker;
  return marker;
}

let focusPending = Boolean(config.focus);
let focusJumped = false;  // once: in a dense spot the proposal can stay inside a grid cluster

function openFocus(answer) {
  const focus = config.focus;
  if (!focusPending) { return; }
  if (markers[focus]) {
    focusPending = false;
    // Deferred: inside chunkProgress addLayers has not finished and the cluster has no bounds yet,
    // so zoomToShowLayer threw and the whole list was reported as failed to load.
    setTimeout(() => {
      layers.proposals.zoomToShowLayer(markers[focus], () => { markers[focus].openPopup(); });
    }, 0);
  } else if (answer.complete) {
    focusPending = false;  // unknown or hidden: the map stays as it is
  } else {
    focusPending = false;
    if (!focusJumped) { goToFocus(); }  // a large locality: the proposal may lie outside this view
  }
}

async function goToFocus() {
  let item;
  try {
    item = await requestJSON(url("item", config.focus));
  } catch (error) {
    return;  // unknown or hidden: the map stays as it is
  }
  const [lon, lat] = pointOf(item);  // a line or an area: a vertex of it
  focusPending = focusJumped = true;
  map.setView([lat, lon], Math.max(map.getZoom(), 18), {animate: false});  // the moveend loads that view
}

function markReady(answer) {
  // For tests and bench/map_page.py: attributes and a performance mark, no global.
  const root = document.documentElement;
  root.setAttribute("data-proposal-count", String(answer.complete ? answer.total : answer.numberMatched));
  root.setAttribute("data-map-mode", answer.mode);
  summarise(answer);
  if (!ready) {
    ready = true;
    performance.mark("dialogkarta:proposals-loaded");
    root.setAttribute("data-proposals", "loaded");
  }
  openFocus(answer);
}

function summarise(answer) {
  const summary = $("map-summary");
  if (answer.complete) {
    summary.textContent = t("summaryAll", {count: answer.total});
  } else if (answer.mode === "points") {
    summary.textContent = t("summaryView", {count: answer.numberMatched});
  } else {
    summary.textContent = t("summaryClusters", {count: answer.numberMatched, groups: answer.features.length});
  }
}

function showPoints(answer) {
  gridLayer.clearLayers();
  const cluster = layers.proposals;
  const fresh = answer.features.filter((feature) => !markers[feature.properties.public_id]).map(proposalMarker);
  if (Object.keys(markers).length > KEPT_MARKERS) {
    // Points already drawn stay while the map zooms in and pans nearby (re-clustering them would
    // close an open popup); only past this many are those outside the view dropped.
    const wanted = new Set(answer.features.map((feature) => feature.properties.public_id));
    const stale = Object.keys(markers).filter((id) => !wanted.has(id));
    cluster.removeLayers(stale.map((id) => markers[id]));
    for (const id of stale) { delete markers[id]; }
  }
  if (!fresh.length || !cluster.options.chunkedLoading) {
    cluster.addLayers(fresh);
    markReady(answer);
    return;
  }
  cluster.options.chunkProgress = (processed, total) => {
    if (processed >= total) { markReady(answer); }
  };
  cluster.addLayers(fresh);
}

function showClusters(answer) {
  layers.proposals.clearLayers();
  for (const id of Object.keys(markers)) { delete markers[id]; }
  gridLayer.clearLayers();
  for (const feature of answer.features) {
    const count = feature.properties.count;
    const label = count === 1 ? t("clusterOne") : t("cluster", {count});
    gridLayer.addLayer(clusterMarker(feature, label, (latlng) => {
      map.setView(latlng, Math.min(map.getZoom() + 2, map.getMaxZoom()));
    }));
  }
  markReady(answer);
}

async function loadProposals() {
  map.addLayer(gridLayer);
  map.on("overlayadd", (event) => { if (event.layer === layers.proposals) { map.addLayer(gridLayer); } });
  map.on("overlayremove", (event) => { if (event.layer === layers.proposals) { map.removeLayer(gridLayer); } });
  const view = followViewport(map, (query) => config.urls.map + "?" + query, (answer) => {
    if (answer.mode === "clusters") { showClusters(answer); } else { showPoints(answer); }
  }, () => {
    notice(t("proposalsFailed"));
    if (!ready) { document.documentElement.setAttribute("data-proposals", "failed"); }
  });
  await view.load();
}

async function support(publicId, button, done) {
  button.disabled = true;
  let reply;
  try {
    reply = await requestJSON(url("support", publicId), {method: "POST", body: {}});
  } catch (error) {
    button.disabled = false;
    status($("pin-status"), error.message || t("sendFailed"));
    return;
  }
  button.textContent = t("supported");
  button.setAttribute("aria-pressed", "true");
  rememberSupport(publicId);
  status($("pin-status"), reply.message);
  if (markers[publicId]) { markers[publicId].feature.properties.support_count = reply.support_count; }
  if (done) { done(reply.support_count); }
}

// ------------------------------------------------------------ messages
function status(node, text) { node.textContent = text; node.hidden = !text; }

function notice(text) { status($("map-notice"), text); }

function highlightBoundary() {
  const boundary = layers.boundary;
  boundary.setStyle({color: "#c00000", weight: 5, dashArray: null});
  map.fitBounds(boundary.getBounds(), {padding: [10, 10]});
  setTimeout(() => { boundary.setStyle({color: "#222222", weight: 3, dashArray: "10 6"}); }, 4000);
}

// ------------------------------------------------------------ the pin
function pinIcon() {
  return L.divIcon({className: "dk-pin", html: '<span class="dk-pin-head"></span>', iconSize: [44, 44],
                    iconAnchor: [22, 44], popupAnchor: [0, -40]});
}

function placePin(latlng, label) {
  if (!pin) {
    pin = L.marker(latlng, {draggable: true, icon: pinIcon(), title: t("yourPin"), alt: t("yourPin"),
                            zIndexOffset: 1000, autoPan: true});
    pin.on("dragend", () => { pinMoved(pin.getLatLng(), null); });
    pin.addTo(map);
  } else {
    pin.setLatLng(latlng);
    if (!map.hasLayer(pin)) { pin.addTo(map); }
  }
  pinMoved(latlng, label);
}

function pinMoved(latlng, label) {
  const lon = Math.round(latlng.lng * 1e7) / 1e7, lat = Math.round(latlng.lat * 1e7) / 1e7;
  $("lon").value = lon;
  $("lat").value = lat;
  $("form-error").hidden = true;
  if (!inBoundary(lon, lat)) {
    status($("pin-status"), t("outside", {locality: config.locality}));
    highlightBoundary();
  } else {
    status($("pin-status"), label ? t("placedAt", {place: label}) + " " + t("moveHint") : t("placed"));
  }
  if (!map.getBounds().pad(-0.1).contains(latlng)) { map.panTo(latlng); }
  $("to-form").hidden = false;
  loadNearby();
  refreshSimilar();
}

// ------------------------------------------------------------ a line or an area (js/shapes.js)
function shapeDrawn(latlng) {
  $("lon").value = Math.round(latlng.lng * 1e7) / 1e7;  // for the proposals nearby; the shape itself is sent
  $("lat").value = Math.round(latlng.lat * 1e7) / 1e7;
  $("form-error").hidden = true;
  status($("pin-status"), "");
  $("to-form").hidden = false;
  loadNearby();
  refreshSimilar();
}

function shapeCleared(mode) {
  $("lon").value = "";
  $("lat").value = "";
  if (pin && mode !== "point") { map.removeLayer(pin); }
  status($("pin-status"), "");
}

// ------------------------------------------------------------ nearby first
async function loadNearby() {
  const lon = $("lon").value, lat = $("lat").value;
  if (!lon || !lat) { return; }
  let query = "?lon=" + encodeURIComponent(lon) + "&lat=" + encodeURIComponent(lat);
  const category = $("category").value;
  if (category) { query += "&category=" + encodeURIComponent(category); }
  let collection;
  try {
    collection = await requestJSON(config.urls.nearby + query);
  } catch (error) {
    collection = {features: []};
  }
  renderNearby(collection);
}

function nearbyMeta(props, supportCount) {
  return (config.categories[props.category] || props.category) + " · " +
    t("distance", {distance: Math.round(props.distance_m)}) + " · " + t("supportCount", {count: supportCount});
}

function renderNearby(collection) {
  const section = $("nearby"), list = $("nearby-list");
  list.textContent = "";
  section.hidden = false;
  if (!collection.features.length) {
    $("nearby-intro").textContent = t("nearbyNone");
    return;
  }
  $("nearby-intro").textContent = t("nearbyIntro");
  for (const feature of collection.features) {
    const props = feature.properties;
    const item = el("li", "nearby-item");
    const title = el("a", "nearby-title", props.title);
    title.href = url("proposal", props.public_id);
    item.appendChild(title);
    item.appendChild(el("span", "nearby-meta", nearbyMeta(props, props.support_count)));
    item.appendChild(el("p", "nearby-description", truncate(props.description, 160)));
    const button = el("button", "button secondary", t("supportInstead"));
    button.type = "button";
    markSupported(button, props.public_id, t("supported"));
    button.addEventListener("click", () => {
      support(props.public_id, button, (total) => {
        item.querySelector(".nearby-meta").textContent = nearbyMeta(props, total);
      });
    });
    item.appendChild(button);
    list.appendChild(item);
  }
}

// ------------------------------------------------------------ place list and location
function fold(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

function setupPlaces() {
  const input = $("place-filter"), items = Array.from(document.querySelectorAll("#place-list li"));
  const skip = document.querySelector('a[href="#place-filter"]');
  if (skip) {
    skip.addEventListener("click", (event) => { event.preventDefault(); input.focus(); });
  }
  input.addEventListener("input", () => {
    const query = fold(input.value.trim());
    let shown = 0;
    for (const item of items) {
      const match = !query || fold(item.textContent).indexOf(query) !== -1;
      item.hidden = !match;
      if (match) { shown += 1; }
    }
    $("place-count").textContent = shown === 1 ? t("placesCountOne") : t("placesCount", {count: shown});
  });
  // Arrow keys move between the search field and the visible places, as in a listbox.
  function visibleButtons() {
    return items.filter((item) => !item.hidden).map((item) => item.querySelector("button"));
  }
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && visibleButtons().length) { event.preventDefault(); visibleButtons()[0].focus(); }
  });
  $("place-list").addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
    const buttons = visibleButtons(), at = buttons.indexOf(document.activeElement);
    if (at === -1) { return; }
    event.preventDefault();
    if (event.key === "ArrowUp" && at === 0) { input.focus(); return; }
    buttons[Math.min(buttons.length - 1, Math.max(0, at + (event.key === "ArrowDown" ? 1 : -1)))].focus();
  });
  for (const item of items) {
    const button = item.querySelector("button");
    button.addEventListener("click", () => {
      const latlng = L.latLng(parseFloat(button.dataset.lat), parseFloat(button.dataset.lon));
      map.setView(latlng, Math.max(map.getZoom(), 16));
      placePin(latlng, button.dataset.name);
      $("step-describe-heading").focus();
    });
  }
}

function setupLocate() {
  const button = $("locate");
  const out = el("p", "locate-status");
  out.id = "locate-status";
  out.setAttribute("role", "status");
  button.insertAdjacentElement("afterend", out);
  button.addEventListener("click", () => {
    if (!navigator.geolocation) { status(out, t("locationUnsupported")); return; }
    status(out, t("locating"));
    navigator.geolocation.getCurrentPosition((position) => {
      const lon = position.coords.longitude, lat = position.coords.latitude;
      if (!inBoundary(lon, lat)) {
        status(out, t("locationOutside", {locality: config.locality}));
        highlightBoundary();
        return;
      }
      status(out, "");
      const latlng = L.latLng(lat, lon);
      map.setView(latlng, Math.max(map.getZoom(), 17));
      placePin(latlng, t("myPosition"));
      $("step-describe-heading").focus();
    }, () => {
      status(out, t("locationFailed"));
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  });
}

// ------------------------------------------------------------ the form
function formError(message, field) {
  const box = $("form-error");
  box.textContent = message;
  box.hidden = false;
  for (const node of document.querySelectorAll("#proposal-form [aria-invalid]")) {
    node.removeAttribute("aria-invalid");
  }
  const input = field && $(field);
  if (input && input.type !== "hidden") {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-errormessage", "form-error");
    input.focus();
  } else {
    box.setAttribute("tabindex", "-1");
    box.focus();
  }
}

function payload() {
  const data = {
    lon: parseFloat($("lon").value), lat: parseFloat($("lat").value), category: $("category").value,
    title: $("title").value, description: $("description").value, consent: $("consent").checked,
  };
  for (const field of ["name", "email", "website"]) {
    const value = $(field).value.trim();
    if (value) { data[field] = value; }
  }
  return Object.assign(withShape(data), presetFields());  // a line or an area: its geometry instead of lon/lat
}

function confirmed(feature) {
  const props = feature.properties;
  $("proposal-form").hidden = true;
  $("nearby").hidden = true;
  $("confirmation-heading").textContent = props.public ? t("thanks") : t("held");
  $("confirmation-summary").textContent = props.summary;
  const link = $("confirmation-link");
  link.href = props.url;
  link.textContent = props.url;
  link.parentNode.hidden = !props.public;  // a proposal held for review has no public page yet
  status($("pin-status"), "");
  $("to-form").hidden = true;
  if (pin) { map.removeLayer(pin); }
  if (props.public && feature.geometry.type === "Point") {
    const marker = proposalMarker(feature);
    layers.proposals.addLayer(marker);
    layers.proposals.zoomToShowLayer(marker, () => {});
  }
  shapeSent(props.public ? feature : null);
  const box = $("confirmation");
  box.hidden = false;
  box.focus();
}

// Kept on this device until the connection returns; #offline-status says when it has been sent.
function keptOnDevice() {
  $("proposal-form").hidden = true;
  $("nearby").hidden = true;
  $("confirmation-heading").textContent = offlineText("kept");
  $("confirmation-summary").textContent = "";
  $("confirmation-link").parentNode.hidden = true;
  status($("pin-status"), "");
  $("to-form").hidden = true;
  if (pin) { map.removeLayer(pin); }
  $("confirmation").hidden = false;
  $("confirmation").focus();
}

async function send(button) {
  button.disabled = true;
  const label = button.textContent;
  button.textContent = t("sending");
  try {
    // With a photo the form goes as multipart and only online (js/photo.js); without one it can wait offline.
    const feature = photoChosen() ? await postProposal(config.urls.proposals, payload())
      : await sendProposal(config.urls.proposals, payload());  // null: kept offline (js/offline.js)
    if (feature) { confirmed(feature); } else { keptOnDevice(); }
  } catch (error) {
    if (!(error instanceof RequestError)) { throw error; }  // a bug here, not a failed request
    formError(error.message || t("sendFailed"), error.field);
    if (error.code === "outside_locality" || error.code === "coordinates_swapped") { highlightBoundary(); }
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

function setupForm() {
  const form = $("proposal-form"), button = $("submit");
  $("category").addEventListener("change", loadNearby);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!$("lon").value) { formError(t(shapeMode() === "point" ? "noPin" : "noShape")); return; }
    send(button);
  });
  $("another").addEventListener("click", () => {
    form.reset();
    $("lon").value = "";
    $("lat").value = "";
    $("confirmation").hidden = true;
    form.hidden = false;
    restartShape();
    status($("pin-status"), "");
    $("step-place-heading").setAttribute("tabindex", "-1");
    $("step-place-heading").focus();
  });
}

function tileFailed() {
  if (!tilesFailed) {
    tilesFailed = true;
    notice(t("tilesFailed"));
    setTimeout(() => { notice(""); }, 8000);
  }
}

// The attribution lines can wrap across the whole map: lift the scale bar above them.
function keepScaleVisible() {
  const container = map.getContainer();
  const attribution = container.querySelector(".leaflet-control-attribution");
  const bottomLeft = container.querySelector(".leaflet-bottom.leaflet-left");
  if (!attribution || !bottomLeft) { return; }
  const wide = attribution.offsetWidth > container.clientWidth / 2;
  bottomLeft.style.bottom = wide ? attribution.offsetHeight + "px" : "";
}

// ------------------------------------------------------------ start
function start(leafletMap) {
  map = leafletMap;
  // folium declared the layers as variables of its inline script, too: read here, never added to.
  layers = Object.fromEntries(Object.entries(JSON.parse(map.getContainer().dataset.layers))
    .map(([role, name]) => [role, window[name]]));
  layers.areas.eachLayer((layer) => onArea(layer.feature, layer));
  layers.services.eachLayer((layer) => onService(layer.feature, layer));
  map.getContainer().setAttribute("aria-label", document.querySelector(".map-pane").getAttribute("aria-label"));
  map.invalidateSize();  // the container got its final size from our CSS after Leaflet measured it
  if (!config.focus) { map.fitBounds(layers.boundary.getBounds(), {padding: [8, 8], animate: false}); }
  keepScaleVisible();
  map.on("resize", keepScaleVisible);
  map.on("click", (event) => {
    if (shapeMode() === "point") { placePin(event.latlng, serviceAt(event.containerPoint)); }  // else a vertex (js/shapes.js)
  });
  map.eachLayer((layer) => {
    if (layer instanceof L.TileLayer) {
      layer.on("tileerror", tileFailed);
      // The first tiles were asked for by folium's script, before this module ran: some may have failed already.
      const images = layer.getContainer() ? Array.from(layer.getContainer().querySelectorAll("img")) : [];
      if (images.some((image) => image.complete && !image.naturalWidth)) { tileFailed(); }
    }
  });
  $("to-form").addEventListener("click", (event) => {
    event.preventDefault();
    $("step-describe-heading").scrollIntoView();
    $("step-describe-heading").focus();
  });
  setupPlaces();
  setupLocate();
  setupForm();
  refreshSimilar = setupSimilar(support);
  setupShapes(map, {drawn: shapeDrawn, cleared: shapeCleared, popup: proposalPopup});
  placePresetPin(map, placePin);
  loadProposals();
  describeView(map, config.urls.summary, $("view-summary"), config.lang);
}

start(foliumMap());
