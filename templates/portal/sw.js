{% autoescape off %}/* The client portal's service worker (served as /sw.js by apps.portal.views.service_worker).
 *
 * - Static files (/static/): cache first. In production their names carry a content hash, so a
 *   cached copy is never stale; in development the copy is refreshed in the background.
 * - Pages under /portal/: network first; when the network fails, the offline page. Portal pages
 *   hold personal data, so they are never stored: the offline page (which holds none) is the only
 *   page in the cache.
 * - Everything else (the API, allauth, the staff pages, any POST) is left to the browser.
 */
"use strict";

const VERSION = "{{ version }}";
const CACHE_PREFIX = "portal-";
const STATIC_CACHE = `${CACHE_PREFIX}static-${VERSION}`;
const PAGES_CACHE = `${CACHE_PREFIX}pages-${VERSION}`;
const OFFLINE_URL = {{ offline_url }};
const PORTAL_PREFIX = {{ portal_prefix }};
const STATIC_PREFIX = {{ static_prefix }};
const PRECACHE = {{ precache }};
const STATIC_NAMES_HASHED = {{ static_names_hashed }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const pages = await caches.open(PAGES_CACHE);
      // No cookies: the offline page is the same for everyone, and must stay so.
      await pages.add(new Request(OFFLINE_URL, { credentials: "omit", cache: "reload" }));
      const assets = await caches.open(STATIC_CACHE);
      await assets.addAll(PRECACHE.filter((url) => url !== OFFLINE_URL));
      await self.skipWaiting();
    })()
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const keep = new Set([STATIC_CACHE, PAGES_CACHE]);
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith(CACHE_PREFIX) && !keep.has(name))
          .map((name) => caches.delete(name))
      );
      await self.clients.claim();
    })()
  );
});

function storable(response) {
  // Only our own, complete, successful answers ("basic" = same origin, not opaque).
  return response && response.ok && response.status === 200 && response.type === "basic";
}

async function staticCacheFirst(request) {
  const cache = await caches.open(STATIC_CACHE);
  const cached = await cache.match(request);
  if (cached && STATIC_NAMES_HASHED) {
    return cached;
  }
  const fresh = fetch(request).then((response) => {
    if (storable(response)) {
      cache.put(request, response.clone());
    }
    return response;
  });
  if (cached) {
    fresh.catch(() => undefined); // refreshed for next time; this time the copy answers
    return cached;
  }
  return fresh;
}

async function pageNetworkFirst(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const offline = await caches.match(OFFLINE_URL, { cacheName: PAGES_CACHE });
    if (offline) {
      return offline;
    }
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.startsWith(STATIC_PREFIX) && !request.headers.has("range")) {
    event.respondWith(staticCacheFirst(request));
  } else if (request.mode === "navigate" && url.pathname.startsWith(PORTAL_PREFIX)) {
    event.respondWith(pageNetworkFirst(request));
  }
});
// Web push (apps/notifications/push.py): the payload is {"title", "body", "url", "tag"}.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "", {
      body: data.body || "",
      tag: data.tag || undefined,
      icon: "/brand/icon.png",
      badge: "/brand/icon.png",
      data: { url: data.url || PORTAL_PREFIX },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  let target = new URL(PORTAL_PREFIX, self.location.origin);
  try {
    const wanted = new URL((event.notification.data || {}).url || PORTAL_PREFIX, self.location.origin);
    // Only our own pages: a payload never sends the person elsewhere.
    if (wanted.origin === self.location.origin) {
      target = wanted;
    }
  } catch (error) {
    // keep the portal's home
  }
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (client.url === target.href && "focus" in client) {
          return client.focus();
        }
      }
      return self.clients.openWindow(target.href);
    })()
  );
});
{% endautoescape %}
