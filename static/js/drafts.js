/* Drafts: what was typed into a form outlives a sending that failed. Progressive
 * enhancement: without this script the forms post as usual, and the server still posts a
 * form sent twice only once (its one-time token).
 *
 * A form marked data-draft="<user>:<form>" (a new or edited need or offer, a claim) is saved
 * into this device's localStorage while it is typed in, under that id (it names the user, so
 * nobody else logging in on a shared phone gets it back). Never saved: passwords, CSRF tokens,
 * files, and fields marked data-draft-skip. The form's one-time token (idempotency_key) is
 * saved with the rest: a draft sent again carries the token of its first sending, so if that
 * one did arrive after all, the server answers with what it posted instead of posting twice.
 *
 * When the form is opened again, the draft fills it in, with a note, if:
 *   - the server drew the form for a fresh visit: data-draft-echo marks a form drawn again
 *     after a sending with errors, which already holds what was sent (the draft follows it);
 *   - the form is drawn as it was when the draft began (its "base", the token aside);
 *     otherwise what the draft was typed over has changed since (the edit was saved, the
 *     claim was made, somebody else edited it), and the draft is dropped;
 *   - its token is not among those the server lists as posted by this user
 *     (data-draft-posted = {token: [url, title]}): such a draft was posted, perhaps with the
 *     answer lost on the way; it is dropped and the note links to what was posted.
 * Drafts older than MAX_AGE_DAYS (the server's DRAFT_DAYS) are dropped. A draft is deleted as
 * soon as the server has taken its form: the page the form leads to names it in
 * data-drafts-sent on <body> (aidmatch/drafts.py; base.html then loads this script), and
 * logging out clears the site's storage (Clear-Site-Data), so a shared phone keeps no notes.
 *
 * Sending: the submit buttons are disabled for a few seconds, so that a double click sends
 * once, and enabled again when the page comes back from the back/forward cache.
 */
(function () {
  "use strict";

  // Loaded once per page, whichever templates ask for it (a form's, base.html's).
  if (window.aidmatchDrafts) {
    return;
  }
  window.aidmatchDrafts = true;
  var PREFIX = "aidmatch:draft:";
  var MAX_AGE_DAYS = 7;
  var SAVE_DELAY_MS = 300;
  var DISABLED_MS = 8000;
  var TOKEN = "idempotency_key";
  var SKIPPED_TYPES = ["password", "file", "submit", "button", "reset", "image"];

  function openStorage() {
    try {
      var storage = window.localStorage;
      storage.setItem(PREFIX + "probe", "1");
      storage.removeItem(PREFIX + "probe");
      return storage;
    } catch (e) {
      return null; // blocked or full: forms still work, nothing is kept
    }
  }

  function load(storage, key) {
    try {
      var draft = JSON.parse(storage.getItem(key) || "null");
      return draft && draft.fields && draft.base ? draft : null;
    } catch (e) {
      return null;
    }
  }

  function store(storage, key, draft) {
    try {
      storage.setItem(key, JSON.stringify(draft));
    } catch (e) {
      /* full: the form still posts */
    }
  }

  function dropOld(storage) {
    var oldest = Date.now() - MAX_AGE_DAYS * 24 * 3600 * 1000;
    var keys = [];
    for (var i = 0; i < storage.length; i++) {
      keys.push(storage.key(i));
    }
    keys.forEach(function (key) {
      if (key && key.indexOf(PREFIX) === 0) {
        var draft = load(storage, key);
        if (!draft || !(draft.at > oldest)) {
          storage.removeItem(key);
        }
      }
    });
  }

  function kept(el) {
    var type = (el.type || "").toLowerCase();
    return (
      !!el.name &&
      !el.disabled &&
      SKIPPED_TYPES.indexOf(type) < 0 &&
      el.name !== "csrf_token" &&
      !el.hasAttribute("data-draft-skip")
    );
  }

  function valueOf(el) {
    var type = (el.type || "").toLowerCase();
    if (type === "checkbox" || type === "radio") {
      return el.checked ? el.value || "on" : "";
    }
    return el.value;
  }

  /* The form's values by name; where several inputs share a name (the place box's hidden id
     and its "which one?" buttons), the one that holds a value. */
  function read(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (kept(el)) {
        var value = valueOf(el);
        if (value !== "" || !(el.name in values)) {
          values[el.name] = value;
        }
      }
    });
    return values;
  }

  function fill(form, values) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el) || !(el.name in values)) {
        return;
      }
      var type = (el.type || "").toLowerCase();
      var value = values[el.name];
      if (type === "checkbox" || type === "radio") {
        el.checked = value !== "" && value === (el.value || "on");
      } else {
        el.value = value;
      }
      if (el.tagName === "SELECT") {
        // Let the page follow a changed select (the unit next to the quantity).
        el.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function same(a, b) {
    var names = Object.keys(a).concat(Object.keys(b));
    for (var i = 0; i < names.length; i++) {
      var name = names[i];
      if (name !== TOKEN && (a[name] || "") !== (b[name] || "")) {
        return false;
      }
    }
    return true;
  }

  function parse(text) {
    try {
      return JSON.parse(text || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function note(form, name) {
    var element = form.querySelector('[data-draft-note="' + name + '"]');
    if (element) {
      element.hidden = false;
    }
    return element;
  }

  function setUpDraft(form, storage) {
    var key = PREFIX + form.getAttribute("data-draft");
    var drawn = read(form); // the form as the server drew it (with this page's token)
    var draft = load(storage, key);
    var posted = parse(form.getAttribute("data-draft-posted"));
    var entry = draft && posted[draft.fields[TOKEN]];
    if (entry) {
      storage.removeItem(key);
      draft = null;
      var shown = note(form, "posted");
      var link = shown && shown.querySelector("[data-draft-link]");
      if (link) {
        link.href = entry[0];
        link.textContent = entry[1];
      }
    } else if (draft && !form.hasAttribute("data-draft-echo")) {
      if (!same(draft.base, drawn)) {
        storage.removeItem(key); // typed over something that has changed since
        draft = null;
      } else if (!same(draft.fields, drawn)) {
        fill(form, draft.fields);
        var restored = note(form, "restored");
        var discard = restored && restored.querySelector("[data-draft-discard]");
        if (discard) {
          discard.addEventListener("click", function () {
            storage.removeItem(key);
            fill(form, drawn);
            restored.hidden = true;
          });
        }
      }
    }
    var base = draft ? draft.base : drawn;
    var timer = null;

    function save() {
      window.clearTimeout(timer);
      var fields = read(form);
      if (same(fields, base)) {
        storage.removeItem(key); // nothing typed, or all of it taken back
      } else {
        store(storage, key, { at: Date.now(), base: base, fields: fields });
      }
    }

    function saveSoon() {
      window.clearTimeout(timer);
      timer = window.setTimeout(save, SAVE_DELAY_MS);
    }

    form.addEventListener("input", saveSoon);
    form.addEventListener("change", saveSoon);
    form.addEventListener("submit", save);
    window.addEventListener("pagehide", save);
    if (form.hasAttribute("data-draft-echo")) {
      save(); // what was sent, as the server shows it back
    }
  }

  function setUpSending(form) {
    var timer = null;
    var buttons = form.querySelectorAll('button[type="submit"], button:not([type]), input[type="submit"]');

    function enable() {
      window.clearTimeout(timer);
      Array.prototype.forEach.call(buttons, function (button) {
        button.disabled = false;
      });
    }

    form.addEventListener("submit", function (event) {
      // After this event, so the browser still sends the form (and the button pressed).
      window.setTimeout(function () {
        if (event.defaultPrevented) {
          return;
        }
        Array.prototype.forEach.call(buttons, function (button) {
          button.disabled = true;
        });
        timer = window.setTimeout(enable, DISABLED_MS);
      }, 0);
    });
    window.addEventListener("pageshow", enable);
  }

  var storage = openStorage();
  if (storage) {
    dropOld(storage);
    // The server took these forms (aidmatch/drafts.py): what was typed is not kept longer.
    var sent = parse(document.body.getAttribute("data-drafts-sent"));
    sent = Array.isArray(sent) ? sent : [];
    for (var s = 0; s < sent.length; s++) {
      storage.removeItem(PREFIX + sent[s]);
    }
  }
  var forms = document.querySelectorAll("form[data-draft]");
  for (var i = 0; i < forms.length; i++) {
    if (storage) {
      setUpDraft(forms[i], storage);
    }
    setUpSending(forms[i]);
  }
})();
