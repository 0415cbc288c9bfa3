/* The resident map's view in words, beside the map (issue #14): "I kartvyn: 12 förslag i
 * Kvarnskon–Vattenrännan, 3 besvarade." The server words it in the page's language
 * (GET /api/proposals/summary?bbox=...); it is asked again after every pan or zoom (debounced), a
 * request the map has moved past is cancelled, and the text is written with textContent. */
import {requestJSON} from "./http.js";

const DEBOUNCE_MS = 300;

function bbox(map) {
  const bounds = map.getBounds();
  const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value));
  return [clamp(bounds.getWest(), 180), clamp(bounds.getSouth(), 90), clamp(bounds.getEast(), 180), clamp(bounds.getNorth(), 90)]
    .map((value) => value.toFixed(6)).join(",");
}

/** Keep `node` saying what `map` shows, from the summary endpoint at `url`, in language `lang`. */
export function describeView(map, url, node, lang) {
  let timer = null, controller = null;
  async function update() {
    if (controller) { controller.abort(); }
    const own = controller = new AbortController();
    let answer;
    try {
      answer = await requestJSON(url + "?bbox=" + bbox(map) + "&lang=" + encodeURIComponent(lang), {signal: own.signal});
    } catch (error) {
      if (!own.signal.aborted) { node.textContent = ""; }  // no summary rather than a stale one
      return;
    }
    if (own.signal.aborted) { return; }
    controller = null;
    node.textContent = answer.text;
    node.setAttribute("data-count", String(answer.count));  // for tests
  }
  map.on("moveend", () => { clearTimeout(timer); timer = setTimeout(update, DEBOUNCE_MS); });
  update();
  return {update};
}
