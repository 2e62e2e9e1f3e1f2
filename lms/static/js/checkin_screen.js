// The projector page: fetch the current code every few seconds and count down to the next one, in a whole
// sentence (the page gives it for one and for many seconds, with {n} where the number goes).
(function () {
  "use strict";
  var root = document.getElementById("checkin-screen");
  if (!root) { return; }
  var url = root.getAttribute("data-url");
  var next = document.getElementById("checkin-next");
  var left = parseInt(root.getAttribute("data-left"), 10) || 30;
  function sentence(n) {
    return root.getAttribute(n === 1 ? "data-one" : "data-other").replace("{n}", String(n));
  }
  function show(data) {
    document.getElementById("checkin-open").classList.toggle("d-none", !data.open);
    document.getElementById("checkin-closed").classList.toggle("d-none", !!data.open);
    if (data.open) {
      var img = document.getElementById("checkin-qr");
      if (img.getAttribute("src") !== data.qr) { img.setAttribute("src", data.qr); }
      document.getElementById("checkin-code").textContent = data.code;
    }
    document.getElementById("checkin-count").textContent = data.checked_in;
    left = data.seconds_left;
    next.textContent = sentence(Math.max(left, 0));
  }
  function refresh() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data); } })
      .catch(function () {});
  }
  setInterval(function () {
    left -= 1;
    if (left <= 0) { refresh(); left = 30; }
    next.textContent = sentence(Math.max(left, 0));
  }, 1000);
  setInterval(refresh, 5000);

  // Full screen on a click (browsers allow it only from a user's gesture); the button hides while it is on.
  var full = document.getElementById("kiosk-fullscreen");
  if (full && document.documentElement.requestFullscreen) {
    var sync = function () { full.classList.toggle("d-none", !!document.fullscreenElement); };
    full.addEventListener("click", function () { document.documentElement.requestFullscreen().catch(function () {}); });
    document.addEventListener("fullscreenchange", sync);
    sync();
  }
})();
