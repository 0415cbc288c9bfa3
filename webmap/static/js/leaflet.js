/* The Leaflet map folium built inside an element. folium's inline script, which runs before our
 * modules, declares each map as a variable named like its element's id; this reads it and adds
 * nothing to the page's globals. */

/** Return the map of the first folium map element in `within` (default: the whole page). */
export function foliumMap(within = document) {
  const element = within.querySelector(".folium-map");
  const map = element && window[element.id];
  if (!map) { throw new Error("no folium map in " + (within.id || within.nodeName)); }
  return map;
}
