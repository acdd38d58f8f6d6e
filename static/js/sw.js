/* The service worker: the pages an organizer needs in the field, kept on her phone.
 *
 * Served by the route /sw.js (aidmatch/site/core_views.py), which puts before this file
 * `var PRECACHE = [...]`: the offline page and the static files every page loads, by their
 * fingerprinted URLs (so a new version of any of them makes a new worker, which drops the old
 * files). Registered by static/js/offline.js for logged-in users, with the scope "/".
 *
 *   - Pages (HTML, GET): network first; without connection, the copy kept on this phone, else
 *     the offline page. Only the pages of the field are kept (KEPT: her matches, each match's
 *     page and its delivery slip, the new need form, a receipt link opened once online: offline.js
 *     asks the worker to keep the page it was loaded without the worker), each as this
 *     user was shown it: never another user's (offline.js drops them when another user logs
 *     in on this phone; logging out clears the site's storage and this worker with it:
 *     Clear-Site-Data in aidmatch/auth/views.py). They stay on this phone, nowhere else.
 *   - Fingerprinted static files (/static/...?v=): cache first; they never change.
 *   - Never kept: the API (its JSON, bearer tokens), anything not GET, other origins.
 *
 * Forms typed without connection are not the worker's business: offline.js keeps them in
 * IndexedDB and sends them; a Background Sync event only asks an open page to send them.
 */
/* global PRECACHE */
"use strict";

var PAGES = "aidmatch-pages";
var STATIC_PREFIX = "aidmatch-static-";
// The pages of the field, kept on the phone: her matches, each match's page and its delivery
// slip, the new need form, and a receipt link (/r/<token>) opened once on this phone.
var KEPT = [
  /^\/matches$/,
  /^\/matches\/\d+$/,
  /^\/matches\/\d+\/slip$/,
  /^\/needs\/new$/,
  /^\/r\/[A-Za-z0-9_-]{43}$/,
];
var OFFLINE_URL = PRECACHE[0];
var WARM_MAX = 30;

function digest(text) {
  var h = 0;
  for (var i = 0; i < text.length; i++) {
    h = (h * 31 + text.charCodeAt(i)) | 0;
  }
  return (h >>> 0).toString(16);
}

var STATIC = STATIC_PREFIX + digest(PRECACHE.join(" "));

function kept(url) {
  return (
    url.origin === self.location.origin &&
    !url.search &&
    KEPT.some(function (pattern) {
      return pattern.test(url.pathname);
    })
  );
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches
      .open(STATIC)
      .then(function (cache) {
        return cache.addAll(PRECACHE);
      })
      .then(function () {
        return self.skipWaiting();
      })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (names) {
        return Promise.all(
          names
            .filter(function (name) {
              return name.indexOf(STATIC_PREFIX) === 0 && name !== STATIC;
            })
            .map(function (name) {
              return caches.delete(name);
            })
        );
      })
      .then(function () {
        return self.clients.claim();
      })
  );
});

function isHtml(response) {
  return (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
}

function keep(request, response) {
  // Only a page as drawn (200, not a redirect to the login page), HTML.
  if (response.status === 200 && !response.redirected && isHtml(response)) {
    var copy = response.clone();
    return caches.open(PAGES).then(function (cache) {
      return cache.put(request.url, copy);
    });
  }
  return Promise.resolve();
}

function page(event, url) {
  var request = event.request;
  return fetch(request).then(
    function (response) {
      if (kept(url)) {
        event.waitUntil(keep(request, response));
      }
      return response;
    },
    function () {
      return caches
        .open(PAGES)
        .then(function (cache) {
          return cache.match(request.url);
        })
        .then(function (hit) {
          if (hit) {
            return hit;
          }
          if (request.mode === "navigate") {
            return caches.match(OFFLINE_URL).then(function (offline) {
              return offline || Response.error();
            });
          }
          return Response.error();
        });
    }
  );
}

function staticFile(request) {
  return caches.match(request).then(function (hit) {
    return (
      hit ||
      fetch(request).then(function (response) {
        if (response.status === 200) {
          var copy = response.clone();
          caches.open(STATIC).then(function (cache) {
            cache.put(request, copy);
          });
        }
        return response;
      })
    );
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return;
  }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) {
    return; // the API's JSON (and its tokens) is never kept
  }
  if (url.pathname.indexOf("/static/") === 0) {
    if (url.searchParams.has("v")) {
      event.respondWith(staticFile(request));
    }
    return;
  }
  var accept = request.headers.get("Accept") || "";
  if (request.mode === "navigate" || accept.indexOf("text/html") >= 0 || kept(url)) {
    event.respondWith(page(event, url));
  }
});

/* Messages from offline.js: "warm" a list of pages of the field (her open matches, as listed
   on /matches) so that they are kept before she loses the connection; "forget" drops every
   kept page (another user on this phone). */
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.warm) {
    var urls = data.warm
      .map(function (href) {
        return new URL(href, self.location.origin);
      })
      .filter(kept)
      .slice(0, WARM_MAX);
    event.waitUntil(
      Promise.all(
        urls.map(function (url) {
          var request = new Request(url.href, { credentials: "same-origin" });
          return fetch(request).then(
            function (response) {
              return keep(request, response);
            },
            function () {}
          );
        })
      )
    );
  } else if (data.forget) {
    event.waitUntil(caches.delete(PAGES));
  }
});

/* Background Sync (where the browser has it): the connection is back; an open page sends
   what waits (it fetches a fresh CSRF token from the form's page first: offline.js). */
self.addEventListener("sync", function (event) {
  if (event.tag === "aidmatch-outbox") {
    event.waitUntil(
      self.clients.matchAll({ type: "window" }).then(function (clients) {
        clients.forEach(function (client) {
          client.postMessage({ send: true });
        });
      })
    );
  }
});
