// The rule editor: each step shows only the fields its action uses, and the trigger's number
// only for triggers that have one. Without this script every field shows, and the server
// keeps only what the action uses.
(function () {
  "use strict";
  function refreshStep(row) {
    var select = row.querySelector("select[name$='-action']");
    if (!select) { return; }
    row.querySelectorAll("[data-actions]").forEach(function (input) {
      var actions = input.getAttribute("data-actions").split(" ");
      input.closest(".auto-param").hidden = actions.indexOf(select.value) === -1;
    });
    row.querySelectorAll(".auto-param").forEach(function (field) {
      var name = (field.querySelector("[name]") || {}).name || "";
      if (/-delay_(days|hours)$/.test(name)) { field.hidden = !select.value; }
    });
  }
  function refreshTrigger(form) {
    var trigger = form.querySelector("select[name='trigger']");
    var threshold = form.querySelector(".auto-threshold");
    var conditions = form.querySelector(".auto-conditions");
    if (!trigger) { return; }
    var withNumber = (form.getAttribute("data-threshold-triggers") || "").split(" ");
    if (threshold) { threshold.hidden = withNumber.indexOf(trigger.value) === -1; }
    if (conditions) { conditions.hidden = trigger.value === form.getAttribute("data-lead-trigger"); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector(".auto-editor");
    if (!form) { return; }
    form.querySelectorAll(".auto-step-form").forEach(function (row) {
      refreshStep(row);
      row.addEventListener("change", function (event) {
        if (event.target.name && /-action$/.test(event.target.name)) { refreshStep(row); }
      });
    });
    refreshTrigger(form);
    form.addEventListener("change", function (event) {
      if (event.target.name === "trigger") { refreshTrigger(form); }
    });
  });
})();
