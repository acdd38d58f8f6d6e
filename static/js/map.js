/* The map at /map: markers from data-src (public points only, as the server gives them),
   clustered, coloured by urgency; oblast outlines from data-outlines; base tiles only when
   data-tiles is set. No inline script: everything is read from data-* attributes.
   Markers are focusable buttons named by their title and urgency (data-labels), so they
   can be reached with Tab and opened with Enter (the popup's link then takes the focus,
   Escape gives it back); clusters open (zoom or spread) the same way. Leaflet's own English
   words (zoom buttons, popup close) are replaced by the page's (data-zoom-in, ...). */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var status = document.getElementById("map-status");
  var KINDS = { critical: 1, high: 1, normal: 1, low: 1 };  /* colours: .map-pin-* in app.css */
  var labels = {};
  try { labels = JSON.parse(el.dataset.labels || "{}"); } catch (e) { labels = {}; }

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
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 18 }).addTo(map);
  }

  fetch(el.dataset.outlines, { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (geo) {
      if (!geo) { return; }
      L.geoJSON(geo, {
        style: { color: "#555", weight: 1, fill: true, fillColor: "#f4f1ea", fillOpacity: 0.5 },
        interactive: false
      }).addTo(map).bringToBack();
    })
    .catch(function () { /* outlines are a nicety */ });

  function text(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    node.textContent = content;
    return node;
  }

  // A cluster: its count, and words for screen readers and as a tooltip.
  function clusterIcon(cluster) {
    var n = cluster.getChildCount();
    var words = (el.dataset.cluster || "{n}").replace("{n}", String(n));
    var size = n < 10 ? "small" : (n < 100 ? "medium" : "large");
    var box = document.createElement("div");
    box.title = words;
    box.appendChild(text("span", "", String(n)));
    box.firstChild.setAttribute("aria-hidden", "true");
    box.appendChild(text("span", "sr-only", words));
    return L.divIcon({ html: box, className: "marker-cluster marker-cluster-" + size,
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
    return KINDS[item.urgency] ? item.urgency : "normal";
  }

  function popup(item, label) {
    var box = document.createElement("div");
    var a = text("a", "", item.title);
    a.href = item.url;
    box.appendChild(a);
    if (label) { box.appendChild(text("p", "map-popup-kind", label)); }
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
          icon: icon, title: item.title, keyboard: true, riseOnHover: true
        });
        var content = popup(item, label);
        marker.bindPopup(content);
        marker.on("popupopen", function () {
          if (document.activeElement === marker.getElement()) { content.firstChild.focus(); }
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
