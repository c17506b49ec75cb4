/* Draws a client's weekly volume per muscle group with Chart.js (static/vendor/chartjs) from the
   JSON the progress page renders with json_script (id "workouts-volume-data"): no inline script,
   so the strict CSP holds. The table below the chart keeps the same numbers for everyone. */
(function () {
  "use strict";

  var COLOURS = ["#0b6e4f", "#1d4ed8", "#b42318", "#8a5a00", "#6b21a8", "#0e7490", "#be185d"];

  function start() {
    var element = document.getElementById("workouts-volume-data");
    var canvas = document.querySelector("canvas[data-volume-chart]");
    if (!element || !canvas || typeof window.Chart === "undefined") return;
    var data;
    try {
      data = JSON.parse(element.textContent);
    } catch (error) {
      return;
    }
    if (!data.series.length) return;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (series, index) {
          var colour = COLOURS[index % COLOURS.length];
          return { label: series.label, data: series.values, backgroundColor: colour };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "kg" } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
