// A topic picker follows its subject picker: as soon as the subject changes it offers that subject's
// topics only. Markup: <select data-topics-of="SUBJECT-SELECT-ID" data-topics="JSON-ISLAND-ID"> (its first
// option, "All topics", stays), or <input list="DATALIST-ID" data-topics-of=… data-topics=…> whose
// suggestions are rebuilt. The island maps a subject id to its topics. Without scripts the form's button
// reloads the page, which lists the chosen subject's topics.
(function () {
  document.querySelectorAll("[data-topics-of]").forEach(function (picker) {
    var subject = document.getElementById(picker.dataset.topicsOf);
    var island = document.getElementById(picker.dataset.topics);
    if (!subject || !island) return;
    var bySubject = JSON.parse(island.textContent);
    var isSelect = picker.tagName === "SELECT";
    var list = isSelect ? picker : picker.list;
    if (!list) return;
    var keep = isSelect ? 1 : 0;

    function fill() {
      var chosen = picker.value;
      var topics = bySubject[subject.value] || [];
      Array.prototype.slice.call(list.querySelectorAll("option"), keep).forEach(function (o) { o.remove(); });
      topics.forEach(function (topic) {
        var option = document.createElement("option");
        option.value = topic;
        option.textContent = topic;
        list.appendChild(option);
      });
      if (isSelect) picker.value = topics.indexOf(chosen) >= 0 ? chosen : "";
    }

    subject.addEventListener("change", fill);
  });
})();
