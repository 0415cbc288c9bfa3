/* Choose a position by clicking the map: fills the #lat and #lon inputs and shows a marker;
   typing coordinates moves the marker. */
import {foliumMap} from "../js/leaflet.js";

const holder = document.querySelector("[data-pick-map]");
if (holder) {
  const map = foliumMap(holder);
  const lat = document.getElementById("lat"), lon = document.getElementById("lon");
  let marker = null;
  const place = (latlng) => {
    if (marker) { marker.setLatLng(latlng); } else {
      marker = L.circleMarker(latlng, {radius: 9, color: "#b30000", weight: 3, fillColor: "#ff6f59", fillOpacity: 0.9}).addTo(map);
    }
  };
  const fromInputs = () => {
    const a = parseFloat(lat.value.replace(",", ".")), b = parseFloat(lon.value.replace(",", "."));
    if (isFinite(a) && isFinite(b)) { place([a, b]); }
  };
  map.on("click", (event) => {
    lat.value = event.latlng.lat.toFixed(6);
    lon.value = event.latlng.lng.toFixed(6);
    place(event.latlng);
  });
  lat.addEventListener("change", fromInputs);
  lon.addEventListener("change", fromInputs);
  fromInputs();
}
