// The result page's filters ("只看错题", one topic) applied at once, without a reload. The form
// still works without JavaScript (query arguments, the server hides the rest); the address keeps
// the filters so that a reload or a shared link shows the same.
(function () {
  "use strict";
  var form = document.getElementById("result-filter");
  if (!form) { return; }
  var wrongBox = document.getElementById("filter-wrong");
  var topicSelect = document.getElementById("filter-topic");
  var count = document.getElementById("filter-count");
  var items = Array.prototype.slice.call(document.querySelectorAll(".result-item"));
  document.getElementById("filter-apply").hidden = true;

  function apply() {
    var wrongOnly = wrongBox.checked, topic = topicSelect.value;
    var shown = 0;
    items.forEach(function (el) {
      var show = (!wrongOnly || el.getAttribute("data-wrong") === "1") && (!topic || el.getAttribute("data-topic") === topic);
      el.hidden = !show;
      if (show) { shown += 1; }
    });
    document.querySelectorAll(".result-group").forEach(function (group) {
      group.hidden = !group.querySelector(".result-item:not([hidden])");
    });
    count.textContent = count.getAttribute("data-text").replace("%(shown)s", shown).replace("%(n)s", items.length);
    document.getElementById("no-wrong").hidden = !(shown === 0 && wrongOnly && !topic);
    document.getElementById("none-shown").hidden = !(shown === 0 && !(wrongOnly && !topic));
    var params = new URLSearchParams();
    if (wrongOnly) { params.set("wrong", "1"); }
    if (topic) { params.set("topic", topic); }
    var query = params.toString();
    history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
  }
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  // A topic in the "by topic" table filters the questions to it.
  document.querySelectorAll(".topic-link").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      topicSelect.value = link.getAttribute("data-topic");
      apply();
      document.getElementById("review").scrollIntoView({ block: "start" });
    });
  });
})();
