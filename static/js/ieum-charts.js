/* The report dashboard's charts (templates/casework/report_dashboard.html): each
   [data-chart] box names the JSON script element holding its labels and series; the same
   figures are in the table beside it, which is what screen readers and printing use. A
   suppressed cell comes as null and draws no bar. */
(function () {
  "use strict";
  var COLOURS = ["#256ef4", "#e6891c", "#228738", "#8a2be2"];

  function draw(box) {
    var source = document.getElementById(box.dataset.chart);
    var canvas = box.querySelector("canvas");
    if (!source || !canvas || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, n) {
          return { label: s.label, data: s.data, backgroundColor: COLOURS[n % COLOURS.length] };
        }),
      },
      options: {
        indexAxis: data.horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: still ? false : undefined,
        plugins: { legend: { display: data.series.length > 1 } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } },
                  y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
    box.classList.add("is-drawn");
  }

  function start() {
    if (typeof Chart === "undefined") return;
    // The page's own typeface (Pretendard GOV, with Korean glyphs), once it has loaded.
    Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.size = 13;
    Chart.defaults.color = "#464c53";
    var ready = document.fonts && document.fonts.ready ? document.fonts.ready : Promise.resolve();
    ready.then(function () {
      document.querySelectorAll("[data-chart]").forEach(draw);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
