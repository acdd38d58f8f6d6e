/* The map at /map: markers from data-src (public points only, as the server gives them, with
   quantity and progress for the popup, in the words of data-words; a popup is made when it
   opens), clustered; a need's marker is coloured by its urgency in shades of red, an offer's
   green, and a cluster takes the colour of the most urgent need it holds (or the offers'
   green). The base layer (data-base: oblast borders and settlement labels,
   static/geo/ukraine.geojson) is fetched only once the page has loaded, or replaced by tiles
   when data-tiles is set. Settlement labels are shown by rank as the map zooms in
   (LABEL_ZOOM), approximate raion lines (data-raions) from RAION_ZOOM, fetched the first
   time the map gets there. No inline script: everything is read from data-* attributes.
   Markers are focusable buttons named by their title and urgency (data-labels), so they
   can be reached with Tab and opened with Enter (the popup's link then takes the focus,
   Escape gives it back); clusters open (zoom or spread) the same way. Leaflet's own English
   words (zoom buttons, popup close) are replaced by the page's (data-zoom-in, ...). */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var status = document.getElementById("map-status");
  /* colours: .map-pin-* in app.css; the order says which is the most urgent in a cluster */
  var ORDER = ["critical", "high", "normal", "low", "offer"];
  var LABEL_ZOOM = { 1: 6, 2: 7, 3: 9, 4: 10 };  /* a settlement label's rank: from which zoom */
  var RAION_ZOOM = 7;  /* the approximate raion lines: from which zoom */
  function json(name) {
    try { return JSON.parse(el.dataset[name] || "{}"); } catch (e) { return {}; }
  }
  var labels = json("labels");
  var words = json("words");

  function say(text) { if (status) { status.textContent = text || ""; } }

  // maxZoom on the map itself: without tiles nothing else sets it, and clustering needs it.
  var map = L.map(el, { preferCanvas: true, minZoom: 4, maxZoom: 18, zoomControl: false })
    .setView([48.6, 31.2], 6);
  L.control.zoom({
    zoomInTitle: el.dataset.zoomIn || "Zoom in", zoomOutTitle: el.dataset.zoomOut || "Zoom out"
  }).addTo(map);
  el.addEventListener("keydown", function (e) {  // Leaflet's own Escape needs the map focused
    if (e.key === "Escape") { map.closePopup(); }
  });
  map.on("popupopen", function (e) {
    var close = e.popup.getElement().querySelector(".leaflet-popup-close-button");
    if (close && el.dataset.close) { close.setAttribute("aria-label", el.dataset.close); }
  });
  // The base layer: tiles when configured, else our own borders and labels, fetched after
  // the page has loaded (the page's first weight leaves it out).
  function drawBase(geo) {
    map.createPane("places");  // labels: above the borders, below the markers
    map.getPane("places").style.zIndex = 450;
    map.getPane("places").style.pointerEvents = "none";
    var byRank = {};
    L.geoJSON(geo, {
      filter: function (f) { return f.geometry.type !== "Point"; },
      style: { color: "#6b6b6b", weight: 1, fill: true, fillColor: "#f4f1ea", fillOpacity: 1 },
      interactive: false,
      className: "map-border",
      renderer: L.svg()  // 27 shapes: SVG (the map prefers canvas for many markers)
    }).addTo(map).bringToBack();
    geo.features.forEach(function (f) {
      if (f.geometry.type !== "Point") { return; }
      var rank = f.properties.rank;
      var name = f.properties[el.dataset.nameKey] || f.properties.place;
      var c = f.geometry.coordinates;
      // a permanent tooltip, not a marker: no marker icon, no Tab stop, no click
      (byRank[rank] = byRank[rank] || L.layerGroup()).addLayer(
        L.tooltip({ pane: "places", permanent: true, direction: "center", interactive: false,
                    className: "map-place map-place-" + rank })
          .setLatLng([c[1], c[0]]).setContent(text("span", "", name))
      );
    });
    function showLabels() {
      var zoom = map.getZoom();
      Object.keys(byRank).forEach(function (rank) {
        var on = zoom >= (LABEL_ZOOM[rank] || 99);
        if (on && !map.hasLayer(byRank[rank])) { byRank[rank].addTo(map); }
        if (!on && map.hasLayer(byRank[rank])) { map.removeLayer(byRank[rank]); }
      });
    }
    // A label that would overlap a bigger settlement's is hidden (bigger ones come first:
    // the file lists them by size). All reads first, then all writes: one layout.
    function declutter() {
      var nodes = [];
      Object.keys(byRank).sort().forEach(function (rank) {
        if (!map.hasLayer(byRank[rank])) { return; }
        byRank[rank].eachLayer(function (t) {
          var node = t.getElement();
          if (node) { node.style.visibility = ""; nodes.push(node); }
        });
      });
      var rects = nodes.map(function (node) { return node.getBoundingClientRect(); });
      var taken = [];
      var hide = rects.map(function (r) {
        var hit = taken.some(function (o) {
          return r.left < o.right && r.right > o.left && r.top < o.bottom && r.bottom > o.top;
        });
        if (!hit) { taken.push(r); }
        return hit;
      });
      nodes.forEach(function (node, i) { if (hide[i]) { node.style.visibility = "hidden"; } });
    }
    map.on("zoomend", showLabels);
    map.on("moveend", declutter);
    map.on("zoomend", showRaions);
    showLabels();
    declutter();
    showRaions();
    el.classList.add("map-based");  // drawn (the browser test waits for it)
  }

  // Approximate raion lines (static/geo/raions.geojson, built from the gazetteer's settlement
  // points by scripts/build_raion_lines.py): fetched the first time the map is at RAION_ZOOM
  // or closer, shown there only; thin, dashed, lighter than the oblast borders, and nothing
  // to point at (no tooltip, no Tab stop).
  var raions = null;  // null: not asked for yet; false: on its way or failed; else the layer
  function showRaions() {
    var on = map.getZoom() >= RAION_ZOOM;
    if (raions === null && on && el.dataset.raions) {
      raions = false;
      fetch(el.dataset.raions, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (geo) {
          if (!geo) { return; }
          raions = L.geoJSON(geo, {
            style: { color: "#8c8c8c", weight: 0.8, dashArray: "4 3", fill: false },
            interactive: false,
            className: "map-raion",
            renderer: L.svg()  // its own SVG, above the oblasts' fill, below labels and markers
          });
          showRaions();
          el.classList.add("map-raioned");  // fetched and drawn once (the browser test)
        })
        .catch(function () { /* the map stands without them */ });
      return;
    }
    if (!raions) { return; }
    if (on && !map.hasLayer(raions)) { raions.addTo(map); }
    if (!on && map.hasLayer(raions)) { map.removeLayer(raions); }
  }

  function loadBase() {
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 18 }).addTo(map);
      return;
    }
    fetch(el.dataset.base, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (geo) { if (geo) { drawBase(geo); } })
      .catch(function () { /* the markers stand without it */ });
  }
  if (document.readyState === "complete") {
    loadBase();
  } else {
    window.addEventListener("load", loadBase);
  }

  function text(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    node.textContent = content;
    return node;
  }

  // A cluster: its count, and words for screen readers and as a tooltip; coloured like the
  // most urgent need it holds (offers: their own colour).
  function clusterIcon(cluster) {
    var n = cluster.getChildCount();
    var most = ORDER.length - 1;
    cluster.getAllChildMarkers().forEach(function (m) {
      most = Math.min(most, ORDER.indexOf(m.options.kind));
    });
    var words = (el.dataset.cluster || "{n}").replace("{n}", String(n));
    var size = n < 10 ? "small" : (n < 100 ? "medium" : "large");
    var box = document.createElement("div");
    box.title = words;
    box.appendChild(text("span", "", String(n)));
    box.firstChild.setAttribute("aria-hidden", "true");
    box.appendChild(text("span", "sr-only", words));
    return L.divIcon({ html: box, className: "marker-cluster marker-cluster-" + size +
                                           " map-cluster-" + ORDER[Math.max(most, 0)],
                       iconSize: L.point(40, 40) });
  }

  var layer = L.markerClusterGroup
    ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40,
                             iconCreateFunction: clusterIcon })
    : L.layerGroup();
  map.addLayer(layer);
  if (L.markerClusterGroup) {
    // A cluster opened with Enter leaves the focus where the keyboard can go on: on the first
    // marker it spread out, or on the map (just before its markers) after zooming in.
    var keyed = false;
    layer.on("clusterkeypress", function (e) {
      keyed = !!(e.originalEvent && e.originalEvent.keyCode === 13);
    });
    layer.on("spiderfied", function (e) {
      var first = keyed && e.markers.length ? e.markers[0].getElement() : null;
      keyed = false;
      if (first) { first.focus(); }
    });
    layer.on("animationend", function () {
      if (keyed && !el.contains(document.activeElement)) { keyed = false; el.focus(); }
    });
  }

  function kindOf(item) {
    if (item.kind === "offers") { return "offer"; }
    return ORDER.indexOf(item.urgency) >= 0 ? item.urgency : "normal";
  }

  // "10 pcs · 4 pledged · 1 proposed · 1 delivered · 5 open", and a bar of what is held.
  function figures(item) {
    var p = item.progress || {};
    var box = document.createElement("div");
    box.className = "map-popup-figures";
    var line = document.createElement("p");
    line.appendChild(text("strong", "", String(item.quantity)));
    line.appendChild(document.createTextNode(" " + (item.unit || "")));
    ["held", "proposed", "delivered", "open"].forEach(function (part) {
      if (p[part] === undefined || !words[part]) { return; }
      line.appendChild(document.createTextNode(" · " + p[part] + " " + words[part]));
    });
    var bar = document.createElement("progress");
    bar.max = item.quantity;
    bar.value = Math.min(p.held || 0, item.quantity);
    bar.setAttribute("aria-hidden", "true");
    box.appendChild(bar);
    box.appendChild(line);
    return box;
  }

  function popup(item, label) {
    var box = document.createElement("div");
    var a = text("a", "", item.title);
    a.href = item.url;
    box.appendChild(a);
    if (label) { box.appendChild(text("p", "map-popup-kind", label)); }
    if (item.quantity) { box.appendChild(figures(item)); }
    if (item.place) { box.appendChild(text("p", "map-popup-place", item.place)); }
    if (item.where) { box.appendChild(text("p", "map-popup-where", item.where)); }
    return box;
  }

  fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (body) {
      var items = body.items || [];
      var bounds = [];
      var markers = [];
      items.forEach(function (item) {
        var kind = kindOf(item);
        var label = labels[kind] || "";
        var icon = L.divIcon({
          className: "map-pin map-pin-" + kind,
          html: text("span", "sr-only", label ? item.title + " (" + label + ")" : item.title),
          iconSize: L.point(18, 18)
        });
        var marker = L.marker([item.lat, item.lon], {
          icon: icon, title: item.title, keyboard: true, riseOnHover: true, kind: kind
        });
        // the popup's content is made when it opens (2 000 markers: none made up front)
        marker.bindPopup(function () { return popup(item, label); });
        marker.on("popupopen", function (e) {
          var link = e.popup.getElement().querySelector(".leaflet-popup-content a");
          if (link && document.activeElement === marker.getElement()) { link.focus(); }
        });
        marker.on("popupclose", function (e) {
          var icon = marker.getElement();
          var box = e.popup.getElement();
          var active = document.activeElement;
          if (icon && (active === document.body || (box && box.contains(active)))) {
            icon.focus();
          }
        });
        markers.push(marker);
        bounds.push([item.lat, item.lon]);
      });
      if (bounds.length) {
        // The view first, without animation, then the markers: they are clustered once, for
        // the final zoom, and are not replaced under a click (or a test) right after.
        map.fitBounds(bounds, { maxZoom: 10, padding: [20, 20], animate: false });
        if (layer.addLayers) {
          layer.addLayers(markers);
        } else {
          markers.forEach(function (marker) { layer.addLayer(marker); });
        }
        say("");
      } else {
        say(el.dataset.empty);
      }
    })
    .catch(function () { say(el.dataset.failed); });
})();
