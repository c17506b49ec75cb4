// The new-group form: the class list only for a class group, the tag list only for a team.
// Without this script both show, and the server uses the one the kind needs.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector(".msg-group-form");
    if (!form) { return; }
    var occurrence = form.querySelector("[name='occurrence']");
    var tag = form.querySelector("[name='tag']");
    function refresh() {
      var checked = form.querySelector("input[name='kind']:checked");
      var kind = checked ? checked.value : "";
      if (occurrence) { occurrence.closest(".field").hidden = kind !== "class"; }
      if (tag) { tag.closest(".field").hidden = kind !== "team"; }
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "kind") { refresh(); }
    });
    refresh();
  });
})();
