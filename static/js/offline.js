/* Offline: a phone that keeps working at the drop point. Progressive enhancement: without
 * this script (or without a service worker or IndexedDB) every form posts as usual.
 *
 * 1. Registers the service worker (/sw.js, static/js/sw.js) for a logged-in user, and asks it
 *    to keep the pages of her open matches (the links on /matches). When another user logs in
 *    on this phone, the pages kept for the one before are dropped.
 *
 * 2. Forms sent without connection are kept and sent later, exactly once. A form joins with
 *    one attribute:
 *
 *      <form method="post" data-offline="<kind>"          e.g. "need", "receipt"
 *            data-offline-label="<what it is, translated>"  shown in the list
 *            data-offline-summary="<a field's name>">       its value shown next to it
 *
 *    (a page for someone without an account, such as a receipt link, also gives its template
 *    `outbox_owner`: base.html then loads this script and the list for that owner), and a
 *    hidden field `idempotency_key` (a one-time token drawn with the form: the server
 *    takes a form sent twice with the same token once, and answers the repeat as it answered
 *    the first time). On the server, the form's view answers a sending it took with a
 *    redirect (Post/Redirect/Get) and one it refused by drawing the form again with its
 *    messages (`.error`): that is how a sending in the background tells the two apart.
 *    Sent while the phone is offline, the form is not posted: its fields (files too, as Blobs)
 *    go into this phone's IndexedDB under its token, for this user only, and appear in
 *    "Waiting to send" (templates/_outbox.html, on every page, and a badge in the header). The
 *    form is then drawn fresh, with a new token, so that a second one can be typed.
 *    Sent while the phone believes it is online, this script posts it (fetch, with the header
 *    X-Aidmatch-Send: aidmatch/web/sending.py answers a redirect as 204 and the target, which
 *    the page then opens); lost on the network, it is kept exactly as if sent offline, and
 *    tried again in a while. A refusal is shown by letting the browser send the form itself.
 *
 *    Sending: when the connection returns (the online event, Background Sync through the
 *    worker, the next page load, or "Send now"), each waiting item is posted once, one item at
 *    a time across every tab of this phone (a Web Lock). Taken: it leaves the list and the
 *    list says it was sent, with a link to where the server led. Refused (the form drawn
 *    again, or a 4xx): it stays with the server's message, and "Edit" puts it back into its
 *    form. A server error (5xx) or no connection: it waits for the next try.
 *
 *    CSRF: the token stored with the form may have expired by then (or belong to a session
 *    that has ended), so each sending first fetches the form's page and takes the fresh token
 *    from it; when that page leads to the login page, the item waits for her to log in again.
 *
 * 3. What is typed is kept across a reload by static/js/drafts.js (data-draft): this script
 *    removes the draft of a form once the form is kept here, so it is not offered twice.
 *
 * Logging out clears the site's storage (Clear-Site-Data): what waits is deleted with it, so
 * the logout button asks first when anything waits.
 */
(function () {
  "use strict";

  var DB_NAME = "aidmatch-outbox";
  var STORE = "items";
  var LOCK = "aidmatch-outbox";
  var USER_KEY = "aidmatch:offline:user";
  var DRAFT_PREFIX = "aidmatch:draft:";
  var TOKEN = "idempotency_key";
  var body = document.body;
  var box = document.querySelector("[data-outbox]");
  var badge = document.querySelector("[data-outbox-badge]");
  var storage = null;
  try {
    storage = window.localStorage;
  } catch (e) {
    storage = null;
  }

  var user = body.getAttribute("data-user");
  var owner = body.getAttribute("data-outbox-owner"); // a page for someone without an account
  if (user && storage) {
    var before = storage.getItem(USER_KEY);
    if (before && before !== user && window.caches) {
      caches.delete("aidmatch-pages"); // another user's pages
    }
    storage.setItem(USER_KEY, user);
  } else if (!user && storage && body.hasAttribute("data-offline-page")) {
    user = storage.getItem(USER_KEY); // the offline page lists what waits of the last user
  } else if (!user && owner) {
    user = "owner:" + owner;
  }
  if (!user || !window.indexedDB) {
    return;
  }

  // The list is on the pages of the field only (base.html); elsewhere the badge alone.
  function word(name) {
    return box ? box.getAttribute("data-word-" + name) || "" : "";
  }

  /* --- IndexedDB ------------------------------------------------------------------------ */

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "id" });
      };
      request.onsuccess = function () {
        resolve(request.result);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var request = work(tx.objectStore(STORE));
        tx.oncomplete = function () {
          db.close();
          resolve(request ? request.result : undefined);
        };
        tx.onerror = tx.onabort = function () {
          db.close();
          reject(tx.error);
        };
      });
    });
  }

  function items() {
    return withStore("readonly", function (store) {
      return store.getAll();
    }).then(function (all) {
      return (all || [])
        .filter(function (item) {
          return item.user === user;
        })
        .sort(function (a, b) {
          return a.at - b.at;
        });
    });
  }

  function put(item) {
    return withStore("readwrite", function (store) {
      return store.put(item);
    });
  }

  function remove(id) {
    return withStore("readwrite", function (store) {
      return store.delete(id);
    });
  }

  /* --- the list ------------------------------------------------------------------------- */

  var list = box && box.querySelector("[data-outbox-list]");
  var status = box && box.querySelector("[data-outbox-status]");
  var template = box && box.querySelector("[data-outbox-item]");
  var count = badge && badge.querySelector("[data-outbox-count]");
  var sentLines = [];

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function render() {
    return items().then(function (waiting) {
      if (badge) {
        badge.hidden = waiting.length === 0;
        count.textContent = String(waiting.length);
      }
      if (!box) {
        return waiting;
      }
      list.textContent = "";
      waiting.forEach(function (item) {
        var li = template.content.firstElementChild.cloneNode(true);
        li.setAttribute("data-outbox-id", item.id);
        li.querySelector("[data-item-label]").textContent = item.label;
        li.querySelector("[data-item-summary]").textContent = item.summary || "";
        var state = li.querySelector("[data-item-state]");
        var edit = li.querySelector("[data-item-edit]");
        if (item.refused) {
          state.textContent = word("refused") + " " + item.refused;
          state.className = "error";
          edit.href = item.page + "#outbox-edit=" + encodeURIComponent(item.id);
          edit.hidden = false;
        } else if (item.login) {
          state.textContent = word("login");
        } else {
          state.textContent = word("waiting");
        }
        li.querySelector("[data-item-delete]").addEventListener("click", function () {
          remove(item.id).then(render);
        });
        list.appendChild(li);
      });
      sentLines.forEach(function (line) {
        list.appendChild(line);
      });
      box.hidden = waiting.length === 0 && sentLines.length === 0;
      return waiting;
    });
  }

  /* --- keeping a form ------------------------------------------------------------------- */

  function newToken() {
    var bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  }

  function fieldsOf(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) {
      data.append(submitter.name, submitter.value);
    }
    var fields = [];
    data.forEach(function (value, name) {
      if (name !== "csrf_token" && !(value instanceof File && !value.name)) {
        fields.push([name, value]);
      }
    });
    return fields;
  }

  function keepForm(form, submitter) {
    var fields = fieldsOf(form, submitter);
    var key = null;
    fields.forEach(function (pair) {
      if (pair[0] === TOKEN) {
        key = pair[1];
      }
    });
    var summaryName = form.getAttribute("data-offline-summary");
    var summary = summaryName && form.elements[summaryName];
    var item = {
      id: key || newToken(),
      user: user,
      kind: form.getAttribute("data-offline"),
      label: form.getAttribute("data-offline-label") || form.getAttribute("data-offline"),
      summary: summary ? summary.value : "",
      action: form.action,
      page: location.pathname + location.search,
      multipart: (form.enctype || "").indexOf("multipart") === 0,
      fields: fields,
      at: Date.now(),
    };
    return withStore("readonly", function (store) {
      return store.get(item.id);
    })
      .then(function (earlier) {
        // The same token on another form typed since (a page kept by the worker draws the
        // token it was drawn with): that one is a new sending, with a token of its own. The
        // same form sent twice (a double tap) stays one item.
        if (earlier && JSON.stringify(earlier.fields) !== JSON.stringify(item.fields)) {
          item.id = newToken();
          item.fields = item.fields.map(function (pair) {
            return pair[0] === TOKEN ? [TOKEN, item.id] : pair;
          });
        }
        return put(item);
      })
      .then(function () {
        // Kept here now: the draft is not offered again, and the form is drawn fresh, with a
        // new token for the next one typed.
        var draft = form.getAttribute("data-draft");
        if (draft && storage) {
          storage.removeItem(DRAFT_PREFIX + draft);
        }
        form.reset();
        if (form.elements[TOKEN]) {
          form.elements[TOKEN].value = newToken();
        }
        if (draft && storage) {
          window.setTimeout(function () {
            storage.removeItem(DRAFT_PREFIX + draft); // after drafts.js's own save on submit
          }, 0);
        }
        return render();
      }).then(function () {
        say(word("kept"));
        if (box) {
          box.scrollIntoView({ block: "nearest" });
        }
        askForSync();
      });
  }

  function askForSync() {
    if (navigator.serviceWorker && navigator.serviceWorker.ready) {
      navigator.serviceWorker.ready
        .then(function (registration) {
          return registration.sync && registration.sync.register(LOCK);
        })
        .catch(function () {});
    }
  }

  /* Online, the form is posted by this script (fetch), so that a sending lost on the network
     (the phone believes it is online, the signal says otherwise) is kept like one sent
     offline. The server answers its redirect as 204 with the target in a header
     (aidmatch/web/sending.py), which the page then opens: its flashed messages shown there as
     after any form. Any other answer (a refusal drawn with the form, an error page): the
     browser sends the form itself once more, to show that answer as it always does (the same
     one-time token: the server takes it at most once). */
  var NATIVE = "data-offline-native";

  function postNow(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) {
      data.append(submitter.name, submitter.value);
    }
    var multipart = (form.enctype || "").indexOf("multipart") === 0;
    return fetch(form.action, {
      method: "POST",
      body: multipart ? data : new URLSearchParams(data),
      credentials: "same-origin",
      headers: { "X-Aidmatch-Send": "1" },
      redirect: "follow",
    });
  }

  function sendNative(form, submitter) {
    form.setAttribute(NATIVE, "1");
    if (form.requestSubmit) {
      form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
    } else {
      form.submit();
    }
  }

  function setUpForm(form) {
    var busy = false;
    form.addEventListener("submit", function (event) {
      if (form.hasAttribute(NATIVE)) {
        form.removeAttribute(NATIVE);
        return; // the browser sends it itself (see above)
      }
      if (event.defaultPrevented) {
        return;
      }
      event.preventDefault();
      var submitter = event.submitter;
      if (busy) {
        return; // a double tap: one sending
      }
      if (!navigator.onLine || !window.fetch) {
        keepForm(form, submitter).catch(function () {
          sendNative(form, submitter); // no storage: let the browser try
        });
        return;
      }
      busy = true;
      postNow(form, submitter)
        .then(
          function (response) {
            var target = response.headers.get("X-Aidmatch-Location");
            if (response.status === 204 && target) {
              location.assign(target); // taken: where the server leads
              return;
            }
            busy = false;
            sendNative(form, submitter);
          },
          function () {
            // Lost on the network: kept on this phone, sent once the connection returns.
            return keepForm(form, submitter).then(function () {
              busy = false;
              retrySoon();
            });
          }
        )
        .catch(function () {
          busy = false;
          sendNative(form, submitter);
        });
    });
  }

  /* An item refused by the server, put back into its form to be corrected ("Edit"). */
  function editFromHash() {
    var match = /^#outbox-edit=(.+)$/.exec(location.hash);
    if (!match) {
      return Promise.resolve();
    }
    var id = decodeURIComponent(match[1]);
    return items().then(function (waiting) {
      var item = waiting.filter(function (i) {
        return i.id === id;
      })[0];
      var form = item && document.querySelector('form[data-offline="' + item.kind + '"]');
      if (!form) {
        return;
      }
      item.fields.forEach(function (pair) {
        var el = form.elements[pair[0]];
        if (el && typeof pair[1] === "string" && el.type !== "file") {
          if (el.type === "checkbox") {
            el.checked = pair[1] !== "";
          } else {
            el.value = pair[1];
          }
        }
      });
      form.dispatchEvent(new Event("input", { bubbles: true })); // drafts.js keeps it now
      history.replaceState(null, "", location.pathname + location.search);
      form.scrollIntoView();
      return remove(item.id);
    });
  }

  /* --- sending -------------------------------------------------------------------------- */

  function messageOf(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var errors = doc.querySelectorAll("main .error, main [role=alert]");
    var texts = [];
    Array.prototype.forEach.call(errors, function (el) {
      var text = el.textContent.trim();
      if (text && texts.indexOf(text) < 0) {
        texts.push(text);
      }
    });
    return texts.join(" ") || (doc.querySelector("main h1") || {}).textContent || "?";
  }

  function isLogin(url) {
    return /\/login(\?|$)/.test(new URL(url).pathname + "?");
  }

  /* The CSRF token of the form's page, fetched fresh (see the note at the top): {token}, or
     {login: true} when the page leads to the login page, or {refused: words} when the page
     itself refuses (a receipt link used up meanwhile: 410). */
  function freshToken(item) {
    return fetch(item.page, { credentials: "same-origin", cache: "no-store" }).then(
      function (response) {
        if (isLogin(response.url)) {
          return { login: true };
        }
        return response.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var input = doc.querySelector("input[name=csrf_token]");
          if (input) {
            return { token: input.value };
          }
          if (response.status >= 400 && response.status < 500) {
            return { refused: messageOf(html) };
          }
          return { login: true };
        });
      }
    );
  }

  function bodyOf(item, token) {
    var data = item.multipart ? new FormData() : new URLSearchParams();
    item.fields.forEach(function (pair) {
      data.append(pair[0], pair[1]);
    });
    data.set("csrf_token", token);
    return data;
  }

  function sentLine(item, url) {
    var li = document.createElement("li");
    li.setAttribute("data-outbox-sent", item.id);
    var link = document.createElement("a");
    link.href = url;
    link.textContent = item.label + (item.summary ? " " + item.summary : "");
    li.appendChild(document.createTextNode(word("sent") + " "));
    li.appendChild(link);
    sentLines.push(li);
  }

  /* Send one item; resolves once it is decided (sent, refused, or to wait). */
  function sendOne(item) {
    return freshToken(item).then(function (fresh) {
      var token = fresh.token;
      if (fresh.refused) {
        item.refused = fresh.refused;
        item.login = false;
        return put(item);
      }
      if (!token) {
        item.login = true;
        return put(item);
      }
      return fetch(item.action, {
        method: "POST",
        body: bodyOf(item, token),
        credentials: "same-origin",
        redirect: "follow",
      }).then(function (response) {
        if (response.redirected && isLogin(response.url)) {
          item.login = true;
          return put(item);
        }
        if (response.redirected && response.ok) {
          sentLine(item, response.url); // taken (now, or by an earlier sending)
          return remove(item.id);
        }
        if (response.status >= 500) {
          return undefined; // the server's trouble: try again later
        }
        return response.text().then(function (html) {
          item.refused = messageOf(html);
          item.login = false;
          return put(item);
        });
      });
    });
  }

  function sendAll() {
    return items().then(function (waiting) {
      var ready = waiting.filter(function (item) {
        return !item.refused;
      });
      var chain = Promise.resolve();
      ready.forEach(function (item) {
        chain = chain.then(function () {
          // Read again under the lock: another tab may have sent it meanwhile.
          return withStore("readonly", function (store) {
            return store.get(item.id);
          }).then(function (still) {
            return still && !still.refused ? sendOne(still) : undefined;
          });
        });
      });
      return chain;
    });
  }

  /* A sending lost on the network while the phone believed it was online: no "online" event
     will come, so try again in a while (and at the next page load, or "Send now"). */
  var RETRY_MS = 30000;
  var retryTimer = null;
  function retrySoon() {
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(function () {
      send().then(function (waiting) {
        var ready = (waiting || []).filter(function (item) {
          return !item.refused && !item.login;
        });
        if (ready.length) {
          retrySoon();
        }
      });
    }, RETRY_MS);
  }

  var sending = null;
  function send() {
    if (!navigator.onLine) {
      return render();
    }
    if (sending) {
      return sending; // already on its way from this page
    }
    say(word("sending"));
    var run =
      navigator.locks && navigator.locks.request
        ? navigator.locks.request(LOCK, sendAll)
        : sendAll();
    sending = run
      .catch(function () {
        /* no connection after all: the items wait */
      })
      .then(function () {
        sending = null;
        say("");
        return render();
      });
    return sending;
  }

  /* --- start ---------------------------------------------------------------------------- */

  var forms = document.querySelectorAll("form[data-offline]");
  for (var i = 0; i < forms.length; i++) {
    setUpForm(forms[i]);
  }
  if (box) {
    box.querySelector("[data-outbox-send]").addEventListener("click", send);
  }
  window.addEventListener("online", send);
  window.addEventListener("hashchange", function () {
    editFromHash().then(render); // "Edit" of an item of this very page
  });
  window.addEventListener("offline", render);

  // The logout button clears this phone's storage: ask first when anything waits.
  var logout = document.querySelector("form[action$='/logout']");
  if (logout) {
    logout.addEventListener("submit", function (event) {
      if (badge && !badge.hidden && !window.confirm(word("logout"))) {
        event.preventDefault();
      }
    });
  }

  if (navigator.serviceWorker && body.getAttribute("data-sw")) {
    var loadedWithoutWorker = !navigator.serviceWorker.controller;
    navigator.serviceWorker
      .register(body.getAttribute("data-sw"), { scope: "/" })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(function (registration) {
        // This page was loaded without the worker (its first visit): the worker keeps it now
        // if it is a page of the field (a receipt link opened once stays usable offline).
        if (registration.active && loadedWithoutWorker) {
          registration.active.postMessage({ warm: [location.pathname] });
        }
        // On /matches: keep her open matches' pages on the phone before the signal goes.
        if (location.pathname === "/matches" && registration.active) {
          var links = document.querySelectorAll("main a[href^='/matches/']");
          var warm = ["/needs/new"];
          Array.prototype.forEach.call(links, function (a) {
            if (/^\/matches\/\d+$/.test(a.getAttribute("href"))) {
              warm.push(a.getAttribute("href"));
            }
          });
          registration.active.postMessage({ warm: warm });
        }
      })
      .catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.send) {
        send();
      }
    });
  }

  // Exposed for the browser tests and for a page that wants to send now.
  window.aidmatchOutbox = { send: send, items: items };

  editFromHash()
    .then(render)
    .then(function (waiting) {
      if (waiting.length) {
        send();
      }
    })
    .catch(function () {});
})();
