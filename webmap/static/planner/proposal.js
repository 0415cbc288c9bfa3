/* The joins of one proposal, visible: the development areas it lies in and a line to the nearest
   service of each kind, labelled with metres (from #dk-config). Text goes in through DOM nodes only. */
import {config as data} from "../js/config.js";
import {foliumMap} from "../js/leaflet.js";

const holder = document.querySelector("[data-proposal-map]");
if (holder) {
  const map = foliumMap(holder);
  const text = (value) => { const span = document.createElement("span"); span.textContent = value; return span; };
  const group = L.featureGroup().addTo(map);
  L.geoJSON(data.areas, {style: {color: "#08306b", weight: 2, fillColor: "#6baed6", fillOpacity: 0.35},
    onEachFeature: (feature, layer) => { layer.bindTooltip(text(feature.properties.name)); }}).addTo(group);
  for (const n of data.nearest) {
    L.polyline([data.point, [n.lat, n.lon]], {color: "#555", weight: 1.5, dashArray: "4 4"}).addTo(group);
    L.circleMarker([n.lat, n.lon], {radius: 5, color: "#1f4e79", weight: 1, fillColor: "#fff", fillOpacity: 1})
      .bindTooltip(text(n.text)).addTo(group);
  }
  L.circleMarker(data.point, {radius: 8, color: "#b30000", weight: 2, fillColor: "#ff6f59", fillOpacity: 1})
    .bindTooltip(text(data.title)).addTo(group);
  map.fitBounds(group.getBounds(), {padding: [20, 20], maxZoom: 17, animate: false});
}
