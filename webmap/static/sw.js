const OFFLINE = {"version": "dev", "precache": []};
/* Dialogkarta's service worker: after one visit the resident map opens without a connection.
 *
 * Served at /sw.js by webmap/offline.py, which fills in the first line: OFFLINE.version, a hash of
 * the URLs install keeps (they carry the assets' fingerprints), names this release's cache, and
 * OFFLINE.precache lists them: the map page, the manifest, our resident scripts, styles and icons,
 * the vendored Leaflet files, and the map's proposals for the whole locality.
 *
 * Kept, and how it is answered:
 * - fingerprinted assets (/static/<hash>/…, /vendor/<name>/<hash>/…): from the cache, else fetched
 *   and kept (the planner's scripts under /static/<hash>/planner/ excepted);
 * - the map page (/), the manifest and the public layers and proposals (/api/layers…,
 *   /api/proposals/map): from the network, and the answer kept (one per path: the latest); without
 *   a connection, the kept answer.
 * Never kept: everything else — planner pages and staff data, other pages, this browser's own
 * answers (/api/proposals/supported) — and no answer that is not a plain 200, says no-store or was
 * redirected. Only GET requests are looked at: a POST and its answer pass by untouched (a proposal
 * written offline waits in IndexedDB, see js/offline.js, not here).
 * A new release is a new script: its worker keeps its URLs under its own cache name, takes over at
 * once and deletes every older Dialogkarta cache. No eval, no inline code: the CSP applies here too.
 */
const PREFIX = "dialogkarta-";
const CACHE = PREFIX + OFFLINE.version;
const FINGERPRINTED = /^\/(?:static\/[0-9a-f]{16}\/(?!planner\/)|vendor\/[a-z]+\/[^/]+\/)/;  // not the staff's scripts
const LATEST = [/^\/$/, /^\/manifest\.webmanifest$/, /^\/api\/layers(?:\/[^/]+)?$/, /^\/api\/proposals\/map$/];
const MATCH = {ignoreVary: true};

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

async function precache() {
  const cache = await caches.open(CACHE);
  await Promise.all(OFFLINE.precache.map(async (address) => {
    const url = new URL(address, self.location.origin);
    const response = await fetch(url, {credentials: "same-origin"});
    if (!keepable(response)) { throw new Error("cannot keep " + address + ": " + response.status); }
    await cache.put(isLatest(url) ? url.origin + url.pathname : url.href, response);
  }));
}

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name.startsWith(PREFIX) && name !== CACHE)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") { return; }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (FINGERPRINTED.test(url.pathname)) {
    event.respondWith(cacheFirst(request));
  } else if (isLatest(url)) {
    event.respondWith(networkFirst(request, url.origin + url.pathname, keptQuery(url)));
  }
});

function isLatest(url) { return LATEST.some((rule) => rule.test(url.pathname)); }

// The map page with ?p=<id> opens on that proposal: not the copy to keep (offline, the kept one opens).
function keptQuery(url) {
  return url.pathname !== "/" || Array.from(url.searchParams.keys()).every((name) => name === "lang");
}

function keepable(response) {
  return response.status === 200 && response.type === "basic" && !response.redirected &&
    !/no-store/i.test(response.headers.get("Cache-Control") || "");
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request, MATCH);
  if (kept) { return kept; }
  const response = await fetch(request);
  if (keepable(response)) { await cache.put(request, response.clone()); }
  return response;
}

async function networkFirst(request, key, keep) {
  const cache = await caches.open(CACHE);
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const kept = await cache.match(key, MATCH);
    if (kept) { return kept; }
    throw error;
  }
  if (keep && keepable(response)) { await cache.put(key, response.clone()); }
  return response;
}
