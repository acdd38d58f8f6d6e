/* "All matches on this page" in the review queue, as a checkbox that also ticks the rows.
 * Progressive enhancement: without this script the checkbox still works, the server then
 * takes every match the page shows (its ids travel in a hidden input). With it, ticking the
 * box ticks every row that may be ticked, unticking it unticks them, and unticking a row
 * unticks the box (the server then takes the ticked rows only).
 *
 * Markup: <input type="checkbox" data-select-all="NAME"> inside a form whose row checkboxes
 * are named NAME.
 */
(function () {
  "use strict";
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    var form = all.form;
    if (!form) {
      return;
    }
    var name = all.getAttribute("data-select-all");
    function rows() {
      return Array.prototype.filter.call(form.elements, function (el) {
        return el.type === "checkbox" && el.name === name && !el.disabled;
      });
    }
    all.addEventListener("change", function () {
      rows().forEach(function (box) {
        box.checked = all.checked;
      });
    });
    form.addEventListener("change", function (event) {
      var box = event.target;
      if (box === all || box.name !== name) {
        return;
      }
      var boxes = rows();
      all.checked = boxes.length > 0 && boxes.every(function (b) { return b.checked; });
    });
    if (all.checked) {
      rows().forEach(function (box) {
        box.checked = true;
      });
    }
  });
})();
