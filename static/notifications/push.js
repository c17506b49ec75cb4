/* "Turn on for this device": subscribes the portal's service worker to web push with the
 * server's VAPID key and hands the subscription to the server (apps/notifications/views.py).
 * Shown only where the browser can do it and the service worker is registered. */
(function () {
  "use strict";
  var box = document.querySelector("[data-push]");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    return;
  }
  var on = box.querySelector("[data-push-on]");
  var off = box.querySelector("[data-push-off]");
  var denied = box.querySelector("[data-push-denied]");
  var tokenInput = document.querySelector("input[name=csrfmiddlewaretoken]");

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": tokenInput ? tokenInput.value : "" },
      body: JSON.stringify(body),
    });
  }

  function state(subscribed) {
    on.hidden = subscribed;
    off.hidden = !subscribed;
    denied.hidden = Notification.permission !== "denied";
    if (Notification.permission === "denied") {
      on.hidden = true;
    }
  }

  navigator.serviceWorker.getRegistration().then(function (registration) {
    if (!registration) {
      return;
    }
    box.hidden = false;
    registration.pushManager.getSubscription().then(function (subscription) {
      state(!!subscription);
    });
    on.addEventListener("click", function () {
      Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") {
          state(false);
          return;
        }
        registration.pushManager
          .subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(box.getAttribute("data-key")) })
          .then(function (subscription) {
            return post(box.getAttribute("data-subscribe-url"), subscription.toJSON());
          })
          .then(function () {
            state(true);
          })
          .catch(function (error) {
            console.warn("Push subscription failed:", error);
          });
      });
    });
    off.addEventListener("click", function () {
      registration.pushManager.getSubscription().then(function (subscription) {
        if (!subscription) {
          state(false);
          return;
        }
        var endpoint = subscription.endpoint;
        subscription.unsubscribe().then(function () {
          post(box.getAttribute("data-unsubscribe-url"), { endpoint: endpoint });
          state(false);
        });
      });
    });
  });
})();
