/* Messaging, live: one WebSocket per page to /ws/messages/ (docs/messaging.md). Every event
 * is passed on as a "messaging:event" DOM event (static/messaging/thread.js listens on the
 * inbox), and the unread badges of the navigation are read again when something changes.
 * The socket's path and the unread count's URL come from this script tag (strict CSP: no
 * inline script). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !("WebSocket" in window) || window.messagingLive) {
    return;
  }
  var socketPath = script.getAttribute("data-socket");
  var unreadUrl = script.getAttribute("data-unread-url");
  var retryDelay = 1000;
  var pending = null;
  var socket = null;

  function showCount(count) {
    var badges = document.querySelectorAll("[data-messaging-unread]");
    for (var i = 0; i < badges.length; i++) {
      var number = badges[i].querySelector("[data-messaging-unread-count]");
      if (number) {
        number.textContent = count > 99 ? "99+" : String(count);
      }
      badges[i].hidden = count === 0;
    }
  }

  function refreshUnread() {
    if (pending) {
      return;
    }
    // Several events in a burst (a message, then its read receipt) cost one request.
    pending = setTimeout(function () {
      pending = null;
      fetch(unreadUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data) { showCount(data.count); } })
        .catch(function () {});
    }, 200);
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + window.location.host + socketPath);
    socket.addEventListener("open", function () {
      retryDelay = 1000;
      document.documentElement.setAttribute("data-messaging-live", "on");
    });
    socket.addEventListener("message", function (event) {
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (data.type === "hello") {
        document.documentElement.setAttribute("data-messaging-user", String(data.user));
      }
      document.dispatchEvent(new CustomEvent("messaging:event", { detail: data }));
      if (data.type === "message.new" || data.type === "message.deleted" || data.type === "read") {
        refreshUnread();
      }
    });
    socket.addEventListener("close", function (event) {
      document.documentElement.setAttribute("data-messaging-live", "off");
      if (event.code === 4401 || event.code === 4403 || event.code === 4404) {
        return; // signed out or not this gym's page: trying again will not help
      }
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  window.messagingLive = {
    send: function (payload) {
      if (socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify(payload));
      }
    },
    refreshUnread: refreshUnread,
  };
  connect();
})();
