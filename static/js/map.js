/* The map at /map: markers from data-src (public points only, as the server gives them),
   clustered, coloured by urgency; oblast outlines from data-outlines; base tiles only when
   data-tiles is set. No inline script: everything is read from data-* attributes. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var status = document.getElementById("map-status");
  var COLOURS = { critical: "#c0392b", high: "#e67e22", normal: "#2b6cb0", low: "#777777" };
  var OFFER = "#2f855a";

  function say(text) { if (status) { status.textContent = text || ""; } }

  // maxZoom on the map itself: without tiles nothing else sets it, and clustering needs it.
  var map = L.map(el, { preferCanvas: true, minZoom: 4, maxZoom: 18 }).setView([48.6, 31.2], 6);
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

  var layer = L.markerClusterGroup
    ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 })
    : L.layerGroup();
  map.addLayer(layer);

  function popup(item) {
    var box = document.createElement("div");
    var a = document.createElement("a");
    a.href = item.url;
    a.textContent = item.title;
    box.appendChild(a);
    return box;
  }

  fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (body) {
      var items = body.items || [];
      var bounds = [];
      items.forEach(function (item) {
        var colour = item.kind === "offers" ? OFFER : (COLOURS[item.urgency] || COLOURS.normal);
        var marker = L.circleMarker([item.lat, item.lon], {
          radius: 7, color: "#222", weight: 1, fillColor: colour, fillOpacity: 0.9
        });
        marker.bindPopup(popup(item));
        layer.addLayer(marker);
        bounds.push([item.lat, item.lon]);
      });
      if (bounds.length) {
        map.fitBounds(bounds, { maxZoom: 10, padding: [20, 20] });
        say("");
      } else {
        say(el.dataset.empty);
      }
    })
    .catch(function () { say(el.dataset.failed); });
})();
