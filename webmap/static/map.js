/* Dialogkarta resident map: proposals from the API, the pin, the place list and the form.
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
import {foliumMap} from "./js/leaflet.js";

let map = null;
let layers = {};
let pin = null;
const markers = {};
let tilesFailed = false;

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

function serviceNode(props) {
  const node = el("div", "dk-popup");
  node.appendChild(el("h3", null, props.name));
  const kind = config.serviceKinds[props.kind];
  node.appendChild(el("p", null, kind ? kind.label : props.kind));
  if (props.data_status !== "verified") { node.appendChild(el("p", "dk-note", t("illustrativePoint"))); }
  return node;
}

function onArea(feature, layer) {
  layer.bindTooltip(() => areaNode(feature.properties), {sticky: true});
}

function onService(feature, layer) {
  const props = feature.properties;
  const kind = config.serviceKinds[props.kind] || {symbol: "•", label: props.kind};
  const symbol = el("span", "dk-service-symbol", kind.symbol);
  symbol.setAttribute("aria-hidden", "true");
  if (layer.setIcon) {
    layer.options.title = props.name + " (" + kind.label + ")";
    layer.options.alt = props.name;
    layer.setIcon(L.divIcon({html: symbol, className: "dk-service", iconSize: [30, 30], iconAnchor: [15, 15],
                             popupAnchor: [0, -12]}));
    // Leaflet names only a new icon element, and reuses the div of folium's placeholder icon.
    const icon = layer.getElement();
    if (icon) { icon.title = layer.options.title; }
  }
  layer.bindPopup(() => serviceNode(props));
}

// ------------------------------------------------------------ proposals
function proposalPopup(feature) {
  const props = feature.properties;
  const node = el("div", "dk-popup dk-proposal-popup");
  node.appendChild(el("h3", null, props.title));
  node.appendChild(el("p", "dk-meta", (config.categories[props.category] || props.category) + " · " +
                                        (config.statuses[props.status] || props.status)));
  node.appendChild(el("p", "dk-description", truncate(props.description, 280)));
  const count = el("p", "dk-support-count", t("supportCount", {count: props.support_count}));
  node.appendChild(count);
  const actions = el("p", "dk-actions");
  const link = el("a", null, t("open"));
  link.href = url("proposal", props.public_id);
  actions.appendChild(link);
  const button = el("button", "button small", t("support"));
  button.type = "button";
  button.addEventListener("click", () => {
    support(props.public_id, button, (total) => {
      props.support_count = total;
      count.textContent = t("supportCount", {count: total});
    });
  });
  actions.appendChild(button);
  node.appendChild(actions);
  return node;
}

function proposalMarker(feature) {
  const coords = feature.geometry.coordinates;
  const marker = L.marker([coords[1], coords[0]], {title: feature.properties.title, alt: feature.properties.title});
  marker.feature = feature;
  marker.bindPopup(() => proposalPopup(feature));
  markers[feature.properties.public_id] = marker;
  return marker;
}

function markReady(count) {
  // For tests and bench/map_page.py: an attribute and a performance mark, no global.
  performance.mark("dialogkarta:proposals-loaded");
  document.documentElement.setAttribute("data-proposals", "loaded");
  document.documentElement.setAttribute("data-proposal-count", String(count));
  const focus = config.focus;
  if (focus && markers[focus]) {
    // Deferred: inside chunkProgress addLayers has not finished and the cluster has no bounds yet,
    // so zoomToShowLayer threw and the whole list was reported as failed to load.
    setTimeout(() => {
      layers.proposals.zoomToShowLayer(markers[focus], () => { markers[focus].openPopup(); });
    }, 0);
  }
}

const PAGE_SIZE = 10000;  // the API's largest page

async function fetchProposals() {
  // The list comes in pages: follow each page's next link until none is left.
  const features = [];
  let next = config.urls.proposals + "?limit=" + PAGE_SIZE;
  while (next) {
    const page = await requestJSON(next);
    for (const feature of page.features) { features.push(feature); }
    const link = (page.links || []).find((candidate) => candidate.rel === "next");
    next = link ? link.href : null;
  }
  return features;
}

async function loadProposals() {
  let features;
  try {
    features = await fetchProposals();
  } catch (error) {
    notice(t("proposalsFailed"));
    document.documentElement.setAttribute("data-proposals", "failed");
    return;
  }
  const list = features.map(proposalMarker);
  const cluster = layers.proposals;
  if (list.length === 0) { markReady(0); return; }
  cluster.options.chunkProgress = (processed, total) => {
    if (processed >= total) { markReady(total); }
  };
  cluster.addLayers(list);
  if (!cluster.options.chunkedLoading) { markReady(list.length); }
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
  return data;
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
  if (props.public) {
    const marker = proposalMarker(feature);
    layers.proposals.addLayer(marker);
    layers.proposals.zoomToShowLayer(marker, () => {});
  }
  const box = $("confirmation");
  box.hidden = false;
  box.focus();
}

async function send(button) {
  button.disabled = true;
  const label = button.textContent;
  button.textContent = t("sending");
  try {
    confirmed(await requestJSON(config.urls.proposals, {method: "POST", body: payload()}));
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
    if (!$("lon").value) { formError(t("noPin")); return; }
    send(button);
  });
  $("another").addEventListener("click", () => {
    form.reset();
    $("lon").value = "";
    $("lat").value = "";
    $("confirmation").hidden = true;
    form.hidden = false;
    status($("pin-status"), "");
    $("step-place-heading").setAttribute("tabindex", "-1");
    $("step-place-heading").focus();
  });
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
  map.on("click", (event) => { placePin(event.latlng, null); });
  map.eachLayer((layer) => {
    if (layer instanceof L.TileLayer) {
      layer.on("tileerror", () => {
        if (!tilesFailed) {
          tilesFailed = true;
          notice(t("tilesFailed"));
          setTimeout(() => { notice(""); }, 8000);
        }
      });
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
  loadProposals();
}

start(foliumMap());
