/* The staff calendar (templates/scheduling/_calendar.html): drag an appointment onto another
 * slot to move it, double-click an empty slot to book there. The move is an HTMX POST whose
 * answer is the whole calendar again, with the outcome (or the clash) on top. Listeners sit on
 * the document because HTMX swaps the calendar out. No inline script: the CSP forbids it. */
(function () {
  "use strict";
  var dragged = null;

  function calendarState(calendar) {
    var values = {};
    var form = calendar.querySelector("form.cal-filters");
    if (form) {
      new FormData(form).forEach(function (value, name) {
        values[name] = value;
      });
    }
    return values;
  }

  function csrfToken(calendar) {
    var input = calendar.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // Drag events may target a text node; find the element around it.
  function closest(event, selector) {
    var node = event.target;
    if (node && node.nodeType !== 1) {
      node = node.parentElement;
    }
    return node && node.closest ? node.closest(selector) : null;
  }

  function clearHighlight() {
    document.querySelectorAll(".cal-drop-target").forEach(function (cell) {
      cell.classList.remove("cal-drop-target");
    });
  }

  document.addEventListener("dragstart", function (event) {
    var item = closest(event, ".cal-movable");
    if (!item) {
      return;
    }
    dragged = item;
    item.classList.add("cal-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.getAttribute("data-move-url"));
  });

  document.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("cal-dragging");
    }
    dragged = null;
    clearHighlight();
  });

  document.addEventListener("dragover", function (event) {
    var cell = dragged && closest(event, ".cal-cell");
    if (!cell) {
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!cell.classList.contains("cal-drop-target")) {
      clearHighlight();
      cell.classList.add("cal-drop-target");
    }
  });

  document.addEventListener("drop", function (event) {
    var cell = closest(event, ".cal-cell");
    var calendar = cell && cell.closest("#calendar");
    if (!dragged || !calendar) {
      return;
    }
    event.preventDefault();
    if (dragged.closest(".cal-cell") === cell) {
      // Dropped where it was: nothing to move.
      dragged.classList.remove("cal-dragging");
      dragged = null;
      clearHighlight();
      return;
    }
    var url = dragged.getAttribute("data-move-url");
    var values = calendarState(calendar);
    values.new_date = cell.getAttribute("data-date");
    values.new_time = cell.getAttribute("data-time");
    var override = calendar.querySelector("#cal-override");
    if (override && override.checked) {
      values.override = "on";
    }
    dragged.classList.remove("cal-dragging");
    dragged = null;
    clearHighlight();
    htmx.ajax("POST", url, {
      target: "#calendar",
      swap: "outerHTML",
      values: values,
      headers: { "X-CSRFToken": csrfToken(calendar) },
    });
  });

  document.addEventListener("dblclick", function (event) {
    var cell = closest(event, ".cal-cell");
    if (!cell || closest(event, ".cal-event")) {
      return;
    }
    var link = document.querySelector("[data-testid=calendar-new]");
    if (!link) {
      return;
    }
    var url = new URL(link.href, window.location.href);
    url.searchParams.set("date", cell.getAttribute("data-date"));
    url.searchParams.set("time", cell.getAttribute("data-time"));
    window.location.assign(url.toString());
  });
})();
