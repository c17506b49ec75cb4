/* The staff calendar (templates/scheduling/_calendar.html): drag an appointment onto another
 * time of the grid to move it, double-click an empty slot to book there, and keep today's
 * "now" line in place. The move is an HTMX POST whose answer is the whole calendar again,
 * with the outcome (or the clash) on top. Listeners sit on the document because HTMX swaps
 * the calendar out. No inline script or style: the CSP forbids both, so the now line moves by
 * its row classes. */
(function () {
  "use strict";
  var SLOT_MINUTES = 15;
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

  // The 15-minute cell under the pointer, even when another event covers it.
  function cellAt(event) {
    var cell = closest(event, ".cal-cell");
    if (cell) {
      return cell;
    }
    var body = closest(event, ".cal-body");
    if (!body) {
      return null;
    }
    var first = body.querySelector(".cal-cell");
    if (!first) {
      return null;
    }
    var height = first.getBoundingClientRect().height || 1;
    var row = Math.floor((event.clientY - first.getBoundingClientRect().top) / height) + 1;
    return body.querySelector('.cal-cell[data-row="' + Math.max(row, 1) + '"]');
  }

  // In the by-trainer and by-room views a drop keeps the column: a move changes the time only.
  function accepts(cell) {
    return dragged && cell && cell.getAttribute("data-resource") === dragged.getAttribute("data-resource");
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
    var cell = dragged && cellAt(event);
    if (!accepts(cell)) {
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
    var cell = dragged && cellAt(event);
    var calendar = cell && cell.closest("#calendar");
    if (!accepts(cell) || !calendar) {
      return;
    }
    event.preventDefault();
    var item = dragged;
    item.classList.remove("cal-dragging");
    dragged = null;
    clearHighlight();
    var newDate = cell.getAttribute("data-date");
    var newTime = cell.getAttribute("data-time");
    if (item.getAttribute("data-date") === newDate && item.getAttribute("data-time") === newTime) {
      return; // dropped where it was: nothing to move
    }
    var values = calendarState(calendar);
    values.new_date = newDate;
    values.new_time = newTime;
    var override = calendar.querySelector("#cal-override");
    if (override && override.checked) {
      values.override = "on";
    }
    htmx.ajax("POST", item.getAttribute("data-move-url"), {
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

  // The now line: the server places it for the moment the page was made; from then on it
  // moves with the clock, by swapping its row and offset classes.
  var loadedAt = Date.now();
  var grid = null;
  var startMinute = 0;

  function trackGrid() {
    var current = document.querySelector("[data-testid=calendar-grid][data-now-minute]");
    if (current !== grid) {
      grid = current;
      loadedAt = Date.now();
      startMinute = grid ? parseInt(grid.getAttribute("data-now-minute"), 10) : 0;
    }
  }

  function moveNowLine() {
    trackGrid();
    if (!grid) {
      return;
    }
    var first = parseInt(grid.getAttribute("data-first-minute"), 10);
    var rows = parseInt(grid.getAttribute("data-rows"), 10);
    var minute = startMinute + Math.floor((Date.now() - loadedAt) / 60000);
    var row = Math.floor((minute - first) / SLOT_MINUTES) + 1;
    var offset = (minute - first) % SLOT_MINUTES;
    grid.querySelectorAll(".cal-now").forEach(function (line) {
      if (row > rows || minute >= 24 * 60) {
        line.hidden = true;
        return;
      }
      line.className = "cal-now cal-r-" + row + " cal-now-o" + offset;
    });
  }

  document.addEventListener("htmx:afterSwap", trackGrid);
  window.setInterval(moveNowLine, 30000);
})();
