/* The Activity page and card (apps/wearables/templates/wearables): draws the charts with
   Chart.js (static/vendor/chartjs) from the JSON rendered by json_script (id
   "activity-chart-data", shape: apps.wearables.selectors.activity_trends), and keeps each
   provider's Connect link's ?kind= in step with its checkboxes. No inline script: strict CSP. */
(function () {
  "use strict";

  var COLOURS = { steps: "#0b6e4f", sleep: "#4f46e5", resting_hr: "#dc2626", nutrition: "#d97706" };

  function readData() {
    var element = document.getElementById("activity-chart-data");
    if (!element) return null;
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return null;
    }
  }

  function shortDate(iso) {
    var parts = iso.split("-");
    var day = new Date(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]));
    return day.toLocaleDateString(document.documentElement.lang || undefined, {
      day: "numeric",
      month: "short"
    });
  }

  function draw(canvas, key, labels, chart) {
    var colour = COLOURS[key] || "#0b6e4f";
    var datasets = [
      {
        type: chart.type,
        label: chart.label,
        data: chart.values,
        borderColor: colour,
        backgroundColor: chart.type === "bar" ? colour + "cc" : colour,
        borderRadius: 4,
        maxBarThickness: 18,
        spanGaps: true,
        tension: 0.3,
        pointRadius: chart.type === "line" ? 2 : 0
      }
    ];
    if (chart.target) {
      datasets.push({
        type: "line",
        label: chart.target_label,
        data: labels.map(function () { return chart.target; }),
        borderColor: "#1b1f24",
        borderDash: [6, 4],
        borderWidth: 1.5,
        pointRadius: 0,
        fill: false
      });
    }
    return new window.Chart(canvas, {
      data: { labels: labels.map(shortDate), datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { grid: { display: false }, ticks: { maxTicksLimit: 6, maxRotation: 0 } },
          y: { beginAtZero: chart.type === "bar", grace: chart.type === "bar" ? 0 : 3, ticks: { maxTicksLimit: 6, precision: key === "sleep" ? 1 : 0 } }
        },
        plugins: { legend: { display: Boolean(chart.target), position: "bottom" } }
      }
    });
  }

  function drawCharts() {
    var data = readData();
    if (!data || typeof window.Chart === "undefined") return;
    var canvases = document.querySelectorAll("canvas[data-activity-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var key = canvas.getAttribute("data-activity-chart");
      var chart = data.charts[key];
      if (chart) draw(canvas, key, data.labels, chart);
    });
  }

  function linkKinds() {
    var links = document.querySelectorAll("a[data-connect]");
    Array.prototype.forEach.call(links, function (link) {
      var provider = link.getAttribute("data-connect");
      var boxes = document.querySelectorAll('input[data-kind-for="' + provider + '"]');
      function update() {
        var kinds = [];
        Array.prototype.forEach.call(boxes, function (box) {
          if (box.checked) kinds.push("kind=" + encodeURIComponent(box.value));
        });
        link.href = link.getAttribute("data-base") + (kinds.length ? "?" + kinds.join("&") : "");
        link.setAttribute("aria-disabled", kinds.length ? "false" : "true");
        link.classList.toggle("activity-connect-off", !kinds.length);
      }
      Array.prototype.forEach.call(boxes, function (box) {
        box.addEventListener("change", update);
      });
      link.addEventListener("click", function (event) {
        if (link.getAttribute("aria-disabled") === "true") event.preventDefault();
      });
    });
  }

  function start() {
    drawCharts();
    linkKinds();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
