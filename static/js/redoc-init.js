// Starts Redoc with the page's CSP nonce, which Redoc puts on the <style> elements it adds.
(function () {
  "use strict";
  var script = document.currentScript;
  var element = document.getElementById("redoc");
  window.Redoc.init(element.dataset.specUrl, { nonce: script.nonce, hideDownloadButton: false }, element);
})();
