// A background job's page: ask its small JSON status every second, move the progress bar, and show
// the page again (with its download link) once the job has ended. Without scripts the page refreshes
// itself every few seconds (a <noscript> refresh in its head).
(function () {
  var box = document.getElementById("job");
  if (!box || (box.dataset.status !== "queued" && box.dataset.status !== "running")) return;
  var bar = document.getElementById("job-bar");
  var count = document.getElementById("job-count");
  function poll() {
    fetch(box.dataset.statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { setTimeout(poll, 3000); return; }
        if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
        var pct = s.percent || 0;
        bar.style.width = pct + "%";
        bar.textContent = pct + "%";
        bar.parentNode.setAttribute("aria-valuenow", pct);
        if (s.total) count.textContent = s.done + " / " + s.total;
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
