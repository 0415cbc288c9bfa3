/* Proposals for what a map shows: ask the server's map endpoint for the viewport, and draw its clusters.
 *
 * followViewport(map, urlFor, onAnswer) asks `urlFor(query)` for the current bounds (with a margin)
 * and zoom, then again after every pan or zoom (debounced), cancelling a request the map has moved
 * past. When an answer says `complete` (every proposal is in it), the map stops asking: a small
 * locality loads once, as a plain list. clusterMarker draws one grid cluster as a keyboard-reachable
 * marker named by its count ("120 förslag") that zooms in when chosen. */
import {requestJSON} from "./http.js";

const DEBOUNCE_MS = 200;
const MARGIN = 0.25;  // of the view's size on each side: a short pan stays within what was fetched

function clampedBounds(map) {
  const bounds = map.getBounds().pad(MARGIN);
  const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value));
  return [clamp(bounds.getWest(), 180), clamp(bounds.getSouth(), 90), clamp(bounds.getEast(), 180), clamp(bounds.getNorth(), 90)];
}

export function viewQuery(map) {
  const bbox = clampedBounds(map).map((value) => value.toFixed(6)).join(",");
  return "bbox=" + bbox + "&zoom=" + Math.round(map.getZoom());
}

export function followViewport(map, urlFor, onAnswer, onError) {
  let timer = null, controller = null, complete = false;
  async function load() {
    if (controller) { controller.abort(); }
    const own = controller = new AbortController();
    let answer;
    try {
      answer = await requestJSON(urlFor(viewQuery(map)), {signal: own.signal});
    } catch (error) {
      if (!own.signal.aborted) { onError(error); }
      return;
    }
    if (own.signal.aborted) { return; }
    controller = null;
    complete = Boolean(answer.complete);
    onAnswer(answer);
  }
  function schedule() {
    if (complete) { return; }
    clearTimeout(timer);
    timer = setTimeout(load, DEBOUNCE_MS);
  }
  map.on("moveend", schedule);  // a zoom ends with a moveend too
  return {
    load,
    reload() { complete = false; clearTimeout(timer); return load(); },
  };
}

export function clusterMarker(feature, label, onChoose) {
  const count = feature.properties.count;
  const [lon, lat] = feature.geometry.coordinates;
  const size = count < 100 ? "small" : count < 1000 ? "medium" : "large";
  const inner = document.createElement("div");
  const number = document.createElement("span");
  number.textContent = String(count);
  inner.appendChild(number);
  const icon = L.divIcon({html: inner, className: "marker-cluster marker-cluster-" + size + " dk-grid-cluster",
                          iconSize: [40, 40]});
  const marker = L.marker([lat, lon], {icon, title: label, keyboard: true, riseOnHover: true});
  marker.on("add", () => {
    const node = marker.getElement();
    node.setAttribute("aria-label", label);
    node.setAttribute("role", "button");
    node.setAttribute("data-count", String(count));
  });
  marker.on("click", () => { onChoose(L.latLng(lat, lon)); });
  marker.on("keypress", (event) => {  // Leaflet makes the marker focusable, but only a popup listens for Enter
    if (event.originalEvent.key === "Enter" || event.originalEvent.key === " ") { onChoose(L.latLng(lat, lon)); }
  });
  return marker;
}
