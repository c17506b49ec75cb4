/* Workout logging page: a rest timer started when a set is logged (its length from the
 * exercise block's data-rest-seconds, the plan item's rest), and a notice when a set could not
 * be sent. Loaded from static/ because the CSP allows no inline script. */
(function () {
  "use strict";
  var timer = null;
  var remaining = 0;

  function panel() {
    return document.querySelector("[data-rest-timer]");
  }

  function show(seconds) {
    var box = panel();
    if (!box) {
      return;
    }
    var out = box.querySelector("[data-rest-remaining]");
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    out.textContent = minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function stop() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
    var box = panel();
    if (box) {
      box.hidden = true;
      box.classList.remove("workouts-timer-done");
    }
  }

  function start(seconds) {
    var box = panel();
    if (!box || !seconds) {
      return;
    }
    stop();
    remaining = seconds;
    box.hidden = false;
    show(remaining);
    timer = window.setInterval(function () {
      remaining -= 1;
      if (remaining <= 0) {
        window.clearInterval(timer);
        timer = null;
        show(0);
        box.classList.add("workouts-timer-done");
        if (navigator.vibrate) {
          navigator.vibrate(200);
        }
        return;
      }
      show(remaining);
    }, 1000);
  }

  function sendError(show) {
    var notice = document.querySelector("[data-send-error]");
    if (notice) {
      notice.hidden = !show;
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-rest-stop]")) {
      stop();
    }
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    sendError(false);
    var block = event.detail && event.detail.target;
    // The swapped-in block replaced the target: find it again by id.
    if (block && block.id) {
      block = document.getElementById(block.id) || block;
    }
    if (block && block.hasAttribute && block.hasAttribute("data-just-logged")) {
      var seconds = parseInt(block.getAttribute("data-rest-seconds") || "0", 10);
      if (seconds > 0) {
        start(seconds);
      }
    }
  });

  ["htmx:sendError", "htmx:responseError", "htmx:timeout"].forEach(function (name) {
    document.body.addEventListener(name, function () {
      sendError(true);
    });
  });
})();
