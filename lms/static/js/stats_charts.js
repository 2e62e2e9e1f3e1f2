// Statistics charts: each <canvas data-chart="ID"> is drawn from the JSON island <script id="ID">
// (type application/json, so the Content-Security-Policy allows it). The same numbers stand in a table.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  var canvases = document.querySelectorAll("canvas[data-chart]");
  Array.prototype.forEach.call(canvases, function (canvas) {
    var island = document.getElementById(canvas.getAttribute("data-chart"));
    if (!island) { return; }
    var spec;
    try { spec = JSON.parse(island.textContent); } catch (e) { return; }
    var line = spec.type === "line";
    var datasets = spec.datasets.map(function (ds) {
      return {
        label: ds.label, data: ds.data, backgroundColor: line ? ds.backgroundColor + "33" : ds.backgroundColor,
        borderColor: ds.borderColor, borderWidth: line ? 2 : 0, tension: 0.25, pointRadius: line ? 2 : 0,
        spanGaps: true, fill: false
      };
    });
    var valueAxis = {
      beginAtZero: true, stacked: !!spec.stacked,
      ticks: { callback: function (v) { return spec.percent ? v + "%" : v.toLocaleString(); } }
    };
    if (spec.percent && !spec.stacked) { valueAxis.suggestedMax = 100; }
    var labelAxis = { stacked: !!spec.stacked, ticks: { autoSkip: true, maxRotation: 60 } };
    var horizontal = !!spec.horizontal;
    new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, indexAxis: horizontal ? "y" : "x",
        scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom", labels: { boxWidth: 12 } },
          tooltip: { callbacks: { label: function (ctx) {
            var v = horizontal ? ctx.parsed.x : ctx.parsed.y;
            return ctx.dataset.label + ": " + (v === null ? "—" : (spec.percent ? v.toFixed(1) + "%" : v.toLocaleString()));
          } } }
        }
      }
    });
  });
}());
