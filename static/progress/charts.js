/* Draws the progress charts with Chart.js (static/vendor/chartjs) from the JSON that the page
   renders with json_script (id "progress-chart-data"): no inline script, so the strict CSP
   holds. Data shape: apps.progress.selectors.chart_data. */
(function () {
  "use strict";

  var COLOURS = ["#0b6e4f", "#1d4ed8", "#b42318", "#8a5a00", "#6b21a8", "#0e7490", "#be185d"];

  function readData() {
    var element = document.getElementById("progress-chart-data");
    if (!element) return null;
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return null;
    }
  }

  function draw(canvas, labels, chart) {
    var datasets = chart.series.map(function (series, index) {
      var colour = COLOURS[index % COLOURS.length];
      return {
        label: series.label + " (" + series.unit + ")",
        data: series.values,
        borderColor: colour,
        backgroundColor: colour,
        spanGaps: true,
        tension: 0.2,
        pointRadius: 3
      };
    });
    return new window.Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { title: { display: true, text: chart.unit } }
        },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  function start() {
    var data = readData();
    if (!data || typeof window.Chart === "undefined") return;
    var canvases = document.querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var chart = data.charts[canvas.getAttribute("data-chart")];
      if (chart) draw(canvas, data.labels, chart);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
