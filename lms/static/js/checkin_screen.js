// The projector page: fetch the current code every few seconds and count down to the next one.
(function () {
  "use strict";
  var root = document.getElementById("checkin-screen");
  if (!root) { return; }
  var url = root.getAttribute("data-url");
  var left = parseInt(document.getElementById("checkin-countdown").textContent, 10) || 30;
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
    document.getElementById("checkin-countdown").textContent = Math.max(left, 0);
  }, 1000);
  setInterval(refresh, 5000);
})();
