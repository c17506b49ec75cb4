/* The client list (templates/crm/_client_table.html): the header's box ticks or clears every
 * client on the page for a bulk action. On the document, because HTMX swaps the table out when
 * the search changes. No inline script: the CSP forbids it. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var all = event.target;
    if (!all.matches || !all.matches("[data-select-all]")) {
      return;
    }
    var table = all.closest("table");
    table.querySelectorAll("input[name=ids]").forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
