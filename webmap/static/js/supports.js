/* What this browser has supported, so a support button says "Du stöder detta" after a reload too.
 *
 * Asked once per page from GET /api/proposals/supported, which answers from this browser's own
 * token cookie (the server already keeps one support per token; nothing new is stored). The URL
 * comes from the page's #dk-offline block. Without an answer (offline) buttons simply stay as they are.
 */
import {requestJSON} from "./http.js";

const block = document.getElementById("dk-offline");
const url = block ? JSON.parse(block.textContent).urls.supported : null;
const supported = new Set();
const loaded = url ? requestJSON(url).then((reply) => {
  for (const id of reply.supported || []) { supported.add(id); }
}, () => {}) : Promise.resolve();

/** Show `button` as pressed, with `label`, once it is known that this browser supported `publicId`. */
export function markSupported(button, publicId, label) {
  loaded.then(() => {
    if (!supported.has(publicId)) { return; }
    button.textContent = label;
    button.setAttribute("aria-pressed", "true");
  });
}

/** Note a support just given, for buttons drawn later in this page. */
export function rememberSupport(publicId) {
  supported.add(publicId);
}
