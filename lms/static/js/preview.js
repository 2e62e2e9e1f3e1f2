// Live Markdown preview: <textarea data-preview="#target-id"> posts its text to the server's
// render_markdown() (the one sanitiser) and shows the result in the target element.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  var url = document.body.getAttribute("data-preview-url");
  document.querySelectorAll("textarea[data-preview]").forEach(function (area) {
    var target = document.querySelector(area.getAttribute("data-preview"));
    if (!target || !url) { return; }
    var timer = null;
    function render() {
      var body = new URLSearchParams();
      body.set("text", area.value);
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString()
      }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { target.innerHTML = data.html; } })
        .catch(function () { /* keep the last preview when offline */ });
    }
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(render, 400);
    });
    render();
  });
})();
