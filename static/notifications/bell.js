/* The bell's live unread count: a WebSocket to /ws/notifications/ (apps/notifications/
 * consumers.py) that says {"type": "unread", "unread": n} on connect and on every change.
 * Reconnects with a growing delay; the page works without it (the count of the page load). */
(function () {
  "use strict";
  var script = document.currentScript;
  var path = (script && script.getAttribute("data-socket")) || "/ws/notifications/";
  if (!("WebSocket" in window)) {
    return;
  }
  var delay = 1000;

  function show(count) {
    var badges = document.querySelectorAll("[data-bell-count]");
    for (var i = 0; i < badges.length; i++) {
      badges[i].textContent = count > 99 ? "99+" : String(count);
      badges[i].hidden = count === 0;
    }
    var bells = document.querySelectorAll("[data-notification-bell]");
    for (var j = 0; j < bells.length; j++) {
      bells[j].setAttribute("data-unread", String(count));
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + path);
    socket.addEventListener("open", function () {
      delay = 1000;
    });
    socket.addEventListener("message", function (event) {
      try {
        var data = JSON.parse(event.data);
        if (data.type === "unread") {
          show(Number(data.unread) || 0);
        }
      } catch (error) {
        /* not ours */
      }
    });
    socket.addEventListener("close", function (event) {
      if (event.code === 4401 || event.code === 4403 || event.code === 4404) {
        return; // logged out or refused: trying again will not help
      }
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();
})();
