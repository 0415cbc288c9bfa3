/* A proposal written without a connection is kept on this device and sent when the connection returns.
 *
 * sendProposal(url, body) posts a written proposal with an Idempotency-Key: a random UUID per written
 * proposal, the same for every retry of it, so however often it is sent the server stores it once
 * (POST /api/proposals answers a retry with 200 and the same proposal). When no answer comes (no
 * connection, the answer lost on the way, or a proxy with no server behind it) the proposal is kept
 * in IndexedDB (database "dialogkarta", store "outbox") with its key, and sendProposal resolves to
 * null: the page then says offlineText("kept"), "Sparat på telefonen – skickas när du är uppkopplad".
 * Kept proposals are sent again when the browser comes back online and whenever a page with this
 * module opens; each leaves the outbox when the server has it (201, or 200 for a retry) or refuses
 * it for good (a 4xx other than 408 and 429), and #offline-status says which. A name or e-mail
 * given with it stays on the device only until then.
 *
 * The texts and URLs come from the page's #dk-offline JSON block (templates/resident/offline.html).
 * Importing the module also installs /sw.js, which keeps the map, its assets and layers for offline visits.
 */
import {RequestError, requestJSON} from "./http.js";

const block = document.getElementById("dk-offline");
const setup = block ? JSON.parse(block.textContent) : {texts: {}, urls: {}};
const DATABASE = "dialogkarta", STORE = "outbox";
const LATER = new Set([0, 408, 429, 502, 503, 504]);  // no answer, "try again later", or no server behind a proxy: keep it
let lastSent = null;  // {json, key} of the latest written proposal not yet confirmed
let flushing = null;

/** The page's offline text `name` (see webmap/offline.py), placeholders filled from `vars`. */
export function offlineText(name, vars = {}) {
  let value = setup.texts[name] || name;
  for (const [key, replacement] of Object.entries(vars)) { value = value.split(`%(${key})s`).join(String(replacement)); }
  return value;
}

function newKey() {
  if (crypto.randomUUID) { return crypto.randomUUID(); }
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// The same written proposal sent again keeps its key; anything changed in it is a new proposal.
function keyFor(body) {
  const json = JSON.stringify(body);
  if (!lastSent || lastSent.json !== json) { lastSent = {json, key: newKey()}; }
  return lastSent.key;
}

// ------------------------------------------------------------ the outbox (IndexedDB)
function request(idbRequest) {
  return new Promise((resolve, reject) => {
    idbRequest.onsuccess = () => resolve(idbRequest.result);
    idbRequest.onerror = () => reject(idbRequest.error);
  });
}

function openOutbox() {
  const opening = indexedDB.open(DATABASE, 1);
  opening.onupgradeneeded = () => { opening.result.createObjectStore(STORE, {keyPath: "key"}); };
  return request(opening);
}

async function outbox(mode, work) {
  const database = await openOutbox();
  try {
    const transaction = database.transaction(STORE, mode);
    const result = await request(work(transaction.objectStore(STORE)));
    await new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
    return result;
  } finally {
    database.close();
  }
}

const keep = (item) => outbox("readwrite", (store) => store.put(item));
const forget = (key) => outbox("readwrite", (store) => store.delete(key));
const keptItems = () => outbox("readonly", (store) => store.getAll());

// ------------------------------------------------------------ messages
function say(message, link) {
  const node = document.getElementById("offline-status");
  if (!node) { return; }
  node.textContent = message;
  if (link) {
    const anchor = document.createElement("a");
    anchor.href = link;
    anchor.textContent = offlineText("open");
    node.append(" ", anchor);
  }
  node.hidden = !message;
}

function post(item) {
  return requestJSON(item.url, {method: "POST", body: item.body, headers: {"Idempotency-Key": item.key}});
}

// ------------------------------------------------------------ sending
/** Send a written proposal; resolve to the stored Feature, or to null when it was kept for later. */
export async function sendProposal(url, body) {
  const item = {key: keyFor(body), url, body, savedAt: new Date().toISOString()};
  try {
    const feature = await post(item);
    lastSent = null;
    return feature;
  } catch (error) {
    if (!(error instanceof RequestError) || !LATER.has(error.status)) { throw error; }
    try {
      await keep(item);
    } catch (storageError) {
      throw error;  // no IndexedDB here (a private window): the page says it could not be sent
    }
    lastSent = null;
    return null;
  }
}

/** Send every kept proposal, oldest first; stop at the first that still gets no answer. */
export function flush() {
  if (!flushing) { flushing = sendKept().finally(() => { flushing = null; }); }
  return flushing;
}

async function sendKept() {
  let items;
  try {
    items = await keptItems();
  } catch (error) {
    return;  // no IndexedDB: nothing was kept
  }
  items.sort((a, b) => a.savedAt.localeCompare(b.savedAt));
  for (const [index, item] of items.entries()) {
    let feature;
    try {
      feature = await post(item);
    } catch (error) {
      if (!(error instanceof RequestError)) { throw error; }
      if (LATER.has(error.status) || error.status >= 500) {
        const waiting = items.length - index;
        say(waiting === 1 ? offlineText("kept") : offlineText("keptMany", {count: waiting}));
        return;
      }
      await forget(item.key);
      say(offlineText("refused", {title: item.body.title || "", reason: error.message || error.status}));
      continue;
    }
    await forget(item.key);
    say(offlineText("sent"), feature.properties && feature.properties.public ? feature.properties.url : null);
  }
}

function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || !setup.urls.serviceWorker) { return; }
  navigator.serviceWorker.register(setup.urls.serviceWorker, {scope: "/"}).catch(() => {});  // the map works without it
}

registerServiceWorker();
window.addEventListener("online", () => { flush(); });
flush();
