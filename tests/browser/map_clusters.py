"""Open a marker cluster on /map and wait until the map has settled, with no guess at time.

Opening a cluster (a click, or Enter on it) either zooms in or spreads its markers out; both
are animated, and Leaflet.markercluster keeps a cluster on screen and focusable while it
animates. A test that presses Tab or clicks during the animation hits the old cluster again,
so the result would depend on the machine's speed. The map has settled when:

- no animation runs: Leaflet's `leaflet-zoom-anim` and markercluster's `leaflet-cluster-anim`
  are both off the map pane (each is set in the same task that starts its animation and
  taken off in the task that ends it), and
- the cluster that was opened is gone (zoomed in: replaced by what it held) or spread out
  (markercluster dims a spiderfied cluster to opacity 0.3).

Both are facts of the page, polled by Playwright; the only time limit is the page's
default timeout, for a map that never settles.
"""

from __future__ import annotations

_SETTLED = """(cluster) => {
  const pane = document.querySelector("#map .leaflet-map-pane");
  if (!pane || pane.classList.contains("leaflet-zoom-anim")
      || pane.classList.contains("leaflet-cluster-anim")) { return false; }
  return !cluster.isConnected || cluster.style.opacity === "0.3";
}"""

_QUIET = """() => {
  const pane = document.querySelector("#map .leaflet-map-pane");
  return !!pane && !pane.classList.contains("leaflet-zoom-anim")
         && !pane.classList.contains("leaflet-cluster-anim");
}"""


def wait_until_map_is_still(page) -> None:
    """Wait until no zoom or cluster animation runs on the map."""
    page.wait_for_function(_QUIET)


def open_cluster_with_enter(page) -> None:
    """Press Enter on the focused cluster and wait until it has opened and the map is still."""
    cluster = page.evaluate_handle("() => document.activeElement")
    assert page.evaluate("(el) => el.classList.contains('marker-cluster')", cluster), (
        "the focus is not on a cluster"
    )
    page.keyboard.press("Enter")
    page.wait_for_function(_SETTLED, arg=cluster)
    cluster.dispose()


def open_cluster_with_click(page, cluster) -> None:
    """Click the cluster (a Locator) and wait until it has opened and the map is still."""
    handle = cluster.element_handle()
    handle.click()
    page.wait_for_function(_SETTLED, arg=handle)
    handle.dispose()
