/* The client portal: registers the service worker (templates/portal/sw.js) that makes the
 * portal installable and shows an offline page when the network is gone. Its URL and scope
 * come from this script tag's data attributes (the CSP allows no inline script). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !("serviceWorker" in navigator)) {
    return;
  }
  var url = script.getAttribute("data-service-worker");
  var scope = script.getAttribute("data-scope") || "/";
  if (!url) {
    return;
  }
  function register() {
    navigator.serviceWorker.register(url, { scope: scope }).catch(function (error) {
      // The portal works without it (plain pages); only offline use and install are lost.
      console.warn("Service worker registration failed:", error);
    });
  }
  if (document.readyState === "complete") {
    register();
  } else {
    window.addEventListener("load", register);
  }
})();

/* The tab bar's "More" panel closes on a tap outside it and on Escape, as an app's menu does. */
(function () {
  "use strict";
  var more = document.querySelector("[data-portal-more]");
  if (!more) {
    return;
  }
  document.addEventListener("click", function (event) {
    if (more.open && !more.contains(event.target)) {
      more.open = false;
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && more.open) {
      more.open = false;
      more.querySelector("summary").focus();
    }
  });
})();
