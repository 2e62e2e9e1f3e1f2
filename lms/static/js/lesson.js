// Lesson page: report study time while the learner is really here (docs/STUDY-TIME.md).
// Beats are sent only while the page is visible and the learner has scrolled, typed, clicked,
// touched or played the video within the idle limit; after that a "继续学习?" dialog pauses
// counting until the learner confirms. The server credits at most the real time since the
// learner's previous beat (on any tab or device), so this script is a courtesy, not the guard.
// Video lessons: the parts watched while counting are reported, and seeking past the furthest
// point watched is refused.
(function () {
  "use strict";
  var el = document.getElementById("lesson");
  if (!el || el.getAttribute("data-enrolled") !== "1") { return; }
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var interval = parseInt(el.getAttribute("data-beat-interval"), 10) * 1000;
  var idleAfter = parseInt(el.getAttribute("data-idle-seconds"), 10) * 1000;
  var canComplete = el.getAttribute("data-can-complete") === "1";
  var dialog = document.getElementById("idle-dialog");
  var paused = document.getElementById("study-paused");
  var video = document.getElementById("lesson-video");

  var lastActivity = Date.now();
  var idle = false;          // the "continue studying?" dialog is open
  var fresh = true;          // the next beat starts a new stretch (credits nothing before it)
  var nextBeatAt = 0;        // send a beat as soon as counting
  var scrolled = false;      // reaching the end counts only after scrolling to it
  var endSeen = false;

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Accept": "application/json", "Content-Type": "application/json" },
      body: JSON.stringify(body || {})
    });
  }
  function counting() { return document.visibilityState === "visible" && !idle; }
  function showPaused() { if (paused) { paused.hidden = counting(); } }
  function active() {
    if (idle) { return; }  // only the dialog's button resumes
    lastActivity = Date.now();
  }
  ["scroll", "keydown", "pointerdown", "pointermove", "touchstart", "wheel"].forEach(function (name) {
    window.addEventListener(name, active, { passive: true });
  });
  window.addEventListener("scroll", function () { scrolled = true; }, { passive: true });

  // --- video: what was watched, and no skipping ahead of it ------------------------------------
  var ranges = [];           // [[start, end], …] watched, seeded with what the server holds
  var current = null;        // the range being extended by playback
  var lastTime = null;
  if (video) {
    try { ranges = JSON.parse(el.getAttribute("data-video-ranges") || "[]"); } catch (e) { ranges = []; }
  }
  function furthest() {
    var max = 0;
    ranges.forEach(function (r) { if (r[1] > max) { max = r[1]; } });
    return max;
  }
  if (video) {
    video.addEventListener("timeupdate", function () {
      var t = video.currentTime;
      if (!video.paused && !video.seeking && counting()) {
        active();
        if (current && lastTime !== null && t >= lastTime && t - lastTime <= 3) {
          current[1] = t;
        } else {
          current = [t, t];
          ranges.push(current);
        }
      } else {
        current = null;
      }
      lastTime = t;
    });
    video.addEventListener("seeking", function () {
      var limit = furthest();
      current = null;
      if (video.currentTime > limit + 1) {
        video.currentTime = limit;
        var note = document.getElementById("video-no-skip");
        if (note) { note.hidden = false; }
      }
    });
    video.addEventListener("ratechange", function () {
      if (video.playbackRate > 2) { video.playbackRate = 2; }
    });
  }

  // --- beats -------------------------------------------------------------------------------------
  function setText(id, text) {
    var node = document.getElementById(id);
    if (node && text !== undefined) { node.textContent = text; }
  }
  function show(state) {
    setText("study-seconds", state.seconds_text);
    setText("video-seconds", state.video_seconds_text);
    var remaining = document.getElementById("study-remaining");
    if (remaining) {
      var text = state.completed ? el.getAttribute("data-text-done")
        : state.remaining ? el.getAttribute("data-text-left").replace("%s", state.remaining_text)
        : state.video && state.video_required === null ? el.getAttribute("data-text-play")
        : state.video && state.video_remaining ? el.getAttribute("data-text-video-left").replace("%s", state.video_remaining_text)
        : el.getAttribute("data-text-ready");
      remaining.textContent = text;
      remaining.className = "fw-semibold " + (state.can_complete ? "text-success" : "text-body");
      var hint = document.getElementById("complete-hint");
      if (hint) { hint.textContent = state.can_complete ? "" : text; }
    }
    var bar = document.getElementById("study-bar");
    if (bar) {
      var pct = state.can_complete ? 100 : Math.floor(100 * state.seconds / Math.max(1, state.required));
      bar.setAttribute("aria-valuenow", pct);
      bar.firstElementChild.style.width = pct + "%";
      bar.firstElementChild.className = "progress-bar" + (state.can_complete ? " bg-success" : "");
    }
    canComplete = state.can_complete;
    el.setAttribute("data-can-complete", canComplete ? "1" : "0");
    maybeComplete();
  }
  function beat() {
    var body = { start: fresh };
    fresh = false;
    if (video) {
      body.ranges = ranges.map(function (r) { return [r[0], r[1]]; });
      if (isFinite(video.duration) && video.duration > 0) { body.duration = video.duration; }
    }
    post(el.getAttribute("data-beat-url"), body).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (state) { if (state) { show(state); } }).catch(function () {});
  }
  function pause() {
    fresh = true;
    if (video && !video.paused) { video.pause(); }
    showPaused();
  }
  function tick() {
    var now = Date.now();
    if (!counting()) { return; }
    if (now - lastActivity >= idleAfter) {
      idle = true;
      pause();
      if (dialog && dialog.showModal) { dialog.showModal(); }
      return;
    }
    if (now >= nextBeatAt) {
      nextBeatAt = now + interval;
      beat();
    }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") {
      pause();
    } else {
      active();        // coming back to the page is itself an interaction
      showPaused();
      nextBeatAt = 0;  // a start beat as soon as the learner is back
      tick();
    }
  });
  function resume() {
    idle = false;
    lastActivity = Date.now();
    fresh = true;
    nextBeatAt = 0;
    showPaused();
    tick();
  }
  if (dialog) {
    document.getElementById("idle-continue").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", resume);  // the button, or Esc: either way the learner is here
  }
  setInterval(tick, 1000);
  showPaused();
  tick();

  // --- reaching the end completes the lesson once its minimum time is reached ------------------------
  var end = document.getElementById("lesson-end");
  var completing = false;
  function maybeComplete() {
    if (!endSeen || !canComplete || completing || el.getAttribute("data-completed") === "1") { return; }
    completing = true;
    post(el.getAttribute("data-complete-url")).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (result) {
      if (result) { completed(result); }
    }).catch(function () {}).then(function () { completing = false; });
  }
  // Say what was credited and what comes next, in place of the complete button.
  function completed(result) {
    el.setAttribute("data-completed", "1");
    var box = document.createElement("div");
    box.className = "alert alert-" + (result.category || "success") + " mb-0";
    box.id = "lesson-done-auto";
    box.appendChild(document.createTextNode(result.message + " "));
    var link = document.createElement("a");
    link.className = "alert-link";
    link.href = result.certificate_url || result.next_url;
    link.textContent = result.link_text;
    box.appendChild(link);
    end.appendChild(box);
    var button = document.getElementById("complete");
    if (button) { button.form.hidden = true; }
  }
  if (end && "IntersectionObserver" in window && el.getAttribute("data-completed") !== "1") {
    new IntersectionObserver(function (entries, observer) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting && scrolled && counting()) {
          endSeen = true;
          observer.disconnect();
          maybeComplete();
        }
      });
    }).observe(end);
  }
})();
