// Lesson page: report study time while the learner is really here, and mark the lesson
// complete when they reach its end. Time is counted on the server, capped per beat, so a
// hidden or idle tab (which stops beating) earns nothing.
(function () {
  "use strict";
  var el = document.getElementById("lesson");
  if (!el || el.getAttribute("data-enrolled") !== "1") { return; }
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var interval = parseInt(el.getAttribute("data-beat-interval"), 10) * 1000;
  var lastActivity = Date.now();
  var scrolled = false;  // reaching the end counts only after scrolling to it
  window.addEventListener("scroll", function () { scrolled = true; }, { passive: true });
  var IDLE_AFTER = 5 * 60 * 1000;

  function post(url) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Accept": "application/json" }
    });
  }
  ["scroll", "keydown", "mousemove", "touchstart", "click"].forEach(function (name) {
    window.addEventListener(name, function () { lastActivity = Date.now(); }, { passive: true });
  });
  function beat() {
    if (document.visibilityState === "visible" && Date.now() - lastActivity < IDLE_AFTER) {
      post(el.getAttribute("data-beat-url")).catch(function () {});
    }
  }
  beat();
  setInterval(beat, interval);

  var end = document.getElementById("lesson-end");
  if (end && "IntersectionObserver" in window && el.getAttribute("data-completed") !== "1") {
    var seen = false;
    new IntersectionObserver(function (entries, observer) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting && scrolled && !seen && Date.now() - lastActivity < IDLE_AFTER) {
          seen = true;
          observer.disconnect();
          post(el.getAttribute("data-complete-url")).then(function (r) {
            if (r.ok) {
              el.setAttribute("data-completed", "1");
              var done = document.createElement("span");
              done.className = "badge bg-success";
              done.id = "lesson-done-auto";
              done.textContent = "✓";
              end.appendChild(done);
            }
          }).catch(function () { seen = false; });
        }
      });
    }).observe(end);
  }
})();
