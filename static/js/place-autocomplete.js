/* Place autocomplete for the needs and offers forms: progressive enhancement, no framework.
 *
 * A text box with data-place-search="/places/search" gets suggestions from the gazetteer as
 * the user types; choosing one fills the hidden input named by data-place-target with the
 * place's id. Typing again clears that id, so the server resolves the typed name, exactly as
 * it does when this script never runs.
 *
 * Also: the unit next to the quantity follows the chosen category (<option data-unit>).
 */
(function () {
  "use strict";

  var MIN_CHARS = 2;
  var DELAY_MS = 250;

  function placeLabel(place) {
    return place.oblast ? place.name + ", " + place.oblast : place.name;
  }

  function setupPlaceBox(input) {
    var url = input.getAttribute("data-place-search");
    var targetId = input.getAttribute("data-place-target");
    var hidden = document.getElementById(targetId);
    if (!hidden) {
      // The server showed a "which one?" list instead of the hidden input: make one.
      hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = targetId;
      hidden.id = targetId;
      hidden.disabled = true; // sent only once a suggestion is chosen, not over a radio choice
      input.insertAdjacentElement("afterend", hidden);
    }
    var list = document.createElement("ul");
    list.id = input.id + "-suggestions";
    list.className = "place-suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    hidden.insertAdjacentElement("afterend", list);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);

    var items = [];
    var active = -1;
    var timer = null;
    var pending = null;

    function close() {
      list.hidden = true;
      list.textContent = "";
      items = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(i) {
      var options = list.children;
      for (var k = 0; k < options.length; k++) {
        options[k].setAttribute("aria-selected", k === i ? "true" : "false");
      }
      active = i;
      if (i >= 0) {
        input.setAttribute("aria-activedescendant", options[i].id);
      }
    }

    function choose(i) {
      var place = items[i];
      if (!place) {
        return;
      }
      input.value = placeLabel(place);
      hidden.value = String(place.id);
      hidden.disabled = false;
      // A choice made here replaces one made in the server's "which one?" list.
      var radios = document.querySelectorAll('input[type="radio"][name="' + hidden.name + '"]');
      for (var k = 0; k < radios.length; k++) {
        radios[k].checked = false;
      }
      close();
    }

    function render(found) {
      close();
      items = found;
      found.forEach(function (place, i) {
        var option = document.createElement("li");
        option.id = list.id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        var name = place.name;
        if (place.name_uk && place.name_uk !== place.name) {
          name += " (" + place.name_uk + ")";
        }
        option.textContent = name;
        if (place.oblast) {
          var where = document.createElement("small");
          where.textContent = " " + place.oblast;
          option.appendChild(where);
        }
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the box
          choose(i);
        });
        list.appendChild(option);
      });
      if (found.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
    }

    function lookUp(query) {
      if (pending && pending.abort) {
        pending.abort();
      }
      pending = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(query), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: pending ? pending.signal : undefined,
      })
        .then(function (response) {
          return response.ok ? response.json() : { items: [] };
        })
        .then(function (data) {
          if (input.value.trim() === query) {
            render(data.items || []);
          }
        })
        .catch(function () {
          /* offline or aborted: the server resolves the typed name instead */
        });
    }

    input.addEventListener("input", function () {
      hidden.value = "";
      window.clearTimeout(timer);
      var query = input.value.trim();
      if (query.length < MIN_CHARS) {
        close();
        return;
      }
      timer = window.setTimeout(function () {
        lookUp(query);
      }, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      if (list.hidden) {
        return;
      }
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight(Math.min(active + 1, items.length - 1));
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault(); // choose, do not submit yet
        choose(active);
      } else if (event.key === "Escape") {
        close();
      }
    });

    input.addEventListener("blur", function () {
      window.setTimeout(close, 150);
    });
  }

  function setupUnit(span) {
    var select = document.getElementById(span.getAttribute("data-unit-for"));
    if (!select) {
      return;
    }
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var unit = option && option.getAttribute("data-unit");
      if (unit) {
        span.textContent = unit;
      }
    });
  }

  var boxes = document.querySelectorAll("input[data-place-search]");
  for (var i = 0; i < boxes.length; i++) {
    setupPlaceBox(boxes[i]);
  }
  var units = document.querySelectorAll("[data-unit-for]");
  for (var j = 0; j < units.length; j++) {
    setupUnit(units[j]);
  }
})();
