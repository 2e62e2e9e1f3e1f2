// The exam page. Every change is kept in localStorage first, then sent to the server and
// resent until the server acknowledges it (after a lost connection, a reload or a server
// restart too). Each save carries a sequence number that only grows, so the server never lets
// an older save overwrite a newer one. The server holds the deadline; this clock only shows it.
// A save carries the item's whole state: its response and its "标记" flag (flagged for review).
// The answer sheet (答题卡) shows every item answered / unanswered / flagged and jumps to it; the
// paper can be read one question per screen; submitting first lists what is still unanswered.
(function () {
  "use strict";
  var root = document.getElementById("exam");
  if (!root) { return; }
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var attemptId = root.getAttribute("data-attempt");
  var saveUrl = root.getAttribute("data-save-url");
  var stateUrl = root.getAttribute("data-state-url");
  var resultUrl = root.getAttribute("data-result-url");
  var indicator = document.getElementById("save-indicator");
  var items = Array.prototype.slice.call(document.querySelectorAll(".exam-item"));  // paper order
  var storeKey = "lms-attempt-" + attemptId;
  var seqKey = storeKey + "-seq";
  var deadline = Date.parse(root.getAttribute("data-deadline"));
  var clockOffset = 0;          // server time minus this device's time
  var closed = false;
  var backoff = 1000;
  var retryTimer = null;
  var retryAfter = 0;  // ms, from a 503's Retry-After

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  var pending = load();         // item → {response, flagged, seq}: not yet acknowledged
  var flags = {};               // item → true: flagged for review
  function persist() {
    try { localStorage.setItem(storeKey, JSON.stringify(pending)); } catch (e) { /* private mode: memory only */ }
  }
  function nextSeq() {
    var last = parseInt(localStorage.getItem(seqKey) || "0", 10) || 0;
    var seq = Math.max(Date.now() * 1000, last + 1);
    try { localStorage.setItem(seqKey, String(seq)); } catch (e) { /* ignore */ }
    return seq;
  }

  function showIndicator() {
    var n = Object.keys(pending).length;
    if (n === 0) {
      indicator.textContent = indicator.getAttribute("data-saved");
      indicator.className = "badge bg-success";
    } else {
      var text = navigator.onLine === false ? indicator.getAttribute("data-offline")
        : indicator.getAttribute("data-unsaved").replace("%(n)s", n);
      indicator.textContent = text;
      indicator.className = "badge bg-warning text-dark";
    }
    indicator.setAttribute("data-pending", String(n));
    items.forEach(function (el) {
      var key = el.getAttribute("data-item");
      var status = el.querySelector(".item-status");
      status.textContent = pending[key] ? "…" : (rejected[key] ? "!" : "");
      status.title = rejected[key] || "";
    });
  }

  // --- reading and writing the inputs -------------------------------------------------------------
  // Each question type's partial (templates/exams/types/) wraps its inputs in an element whose
  // data-read says how they read: "letters" (the checked options' letters, sorted), "bool" (the
  // checked one's "true"/"false") or "text" (the first input's value).
  function readMode(el) {
    var wrap = el.querySelector("[data-read]");
    return wrap ? wrap.getAttribute("data-read") : "text";
  }
  function readItem(el) {
    var mode = readMode(el);
    var inputs = el.querySelectorAll(".answer-input");
    if (mode === "text") { return inputs[0].value; }
    var chosen = [];
    inputs.forEach(function (i) { if (i.checked) { chosen.push(i.value); } });
    if (mode === "bool") { return chosen.length ? chosen[0] === "true" : null; }
    return chosen.length ? chosen.sort().join("") : null;
  }
  function writeItem(el, response) {
    var mode = readMode(el);
    var inputs = el.querySelectorAll(".answer-input");
    if (mode === "text") { inputs[0].value = response === null || response === undefined ? "" : response; return; }
    inputs.forEach(function (i) {
      if (mode === "bool") { i.checked = response !== null && response !== undefined && String(response) === i.value; }
      else { i.checked = typeof response === "string" && response.indexOf(i.value) >= 0; }
    });
  }

  // --- the flag and the answer sheet -------------------------------------------------------------------
  function answered(el) {
    var response = readItem(el);
    return response !== null && response !== undefined && String(response).trim() !== "";
  }
  function writeFlag(el, on) {
    var key = el.getAttribute("data-item");
    if (on) { flags[key] = true; } else { delete flags[key]; }
    el.classList.toggle("is-flagged", !!on);
    var button = document.getElementById("flag-" + key);
    if (button) { button.setAttribute("aria-pressed", on ? "true" : "false"); }
  }
  var sheetBody = document.getElementById("sheet-body");
  var summary = document.getElementById("sheet-summary");
  var shortCount = document.querySelector(".sheet-done-short");
  // Show one item's cell (or every cell) as answered / unanswered / flagged, and the count answered.
  function showSheet(only) {
    (only ? [only] : items).forEach(function (el) {
      var key = el.getAttribute("data-item");
      var cell = document.getElementById("sheet-" + key);
      if (!cell) { return; }
      var done = answered(el), flagged = !!flags[key];
      el.setAttribute("data-answered", done ? "1" : "0");
      cell.classList.toggle("is-answered", done);
      cell.classList.toggle("is-flagged", flagged);
      cell.querySelector(".sheet-state").textContent = " " + sheetBody.getAttribute(
        "data-" + (done ? "answered" : "unanswered") + (flagged ? "-flagged" : ""));
    });
    var n = items.filter(function (el) { return el.getAttribute("data-answered") === "1"; }).length;
    summary.textContent = summary.getAttribute("data-text").replace("%(done)s", n).replace("%(n)s", items.length);
    if (shortCount) { shortCount.textContent = n + "/" + items.length; }
  }
  items.forEach(function (el) {
    var button = document.getElementById("flag-" + el.getAttribute("data-item"));
    if (button) {
      button.addEventListener("click", function () {
        writeFlag(el, !flags[el.getAttribute("data-item")]);
        changed(el);
      });
    }
  });

  // --- moving about: jump to a question, one question per screen ------------------------------------------
  var oneKey = "lms-exam-one-by-one";  // the reader's choice, for every paper on this device
  var atKey = storeKey + "-at";        // where the reader is on this paper
  var oneSwitch = document.getElementById("one-by-one");
  var pager = document.getElementById("exam-pager");
  var position = document.getElementById("pager-position");
  var current = 0;
  try {
    oneSwitch.checked = localStorage.getItem(oneKey) === "1";
    current = Math.min(Math.max(parseInt(localStorage.getItem(atKey) || "0", 10) || 0, 0), items.length - 1);
  } catch (e) { /* private mode */ }
  function layout() {
    var one = oneSwitch.checked;
    var here = items[current];
    if (!here) { return; }
    root.classList.toggle("one-by-one", one);
    items.forEach(function (el, i) { el.hidden = one && i !== current; });
    document.querySelectorAll(".exam-case, .exam-section").forEach(function (box) {
      box.hidden = one && !box.contains(here);
    });
    pager.hidden = !one;
    position.textContent = position.getAttribute("data-text").replace("%(i)s", current + 1).replace("%(n)s", items.length);
    document.getElementById("prev-item").disabled = current === 0;
    document.getElementById("next-item").disabled = current === items.length - 1;
    document.querySelectorAll(".sheet-cell.is-current").forEach(function (c) {
      c.classList.remove("is-current"); c.removeAttribute("aria-current");
    });
    var cell = document.getElementById("sheet-" + here.getAttribute("data-item"));
    if (one && cell) { cell.classList.add("is-current"); cell.setAttribute("aria-current", "step"); }
  }
  function goTo(index) {
    current = index;
    try { localStorage.setItem(atKey, String(current)); } catch (e) { /* ignore */ }
    layout();
    var el = items[current];
    el.scrollIntoView({ block: "start", behavior: "instant" });  // a jump, not a long smooth scroll
    el.focus({ preventScroll: true });
  }
  function jump(key) {
    var index = items.indexOf(document.getElementById("item-" + key));
    if (index >= 0) { goTo(index); }
  }
  oneSwitch.addEventListener("change", function () {
    try { localStorage.setItem(oneKey, oneSwitch.checked ? "1" : "0"); } catch (e) { /* ignore */ }
    layout();
  });
  document.getElementById("prev-item").addEventListener("click", function () { if (current > 0) { goTo(current - 1); } });
  document.getElementById("next-item").addEventListener("click", function () {
    if (current < items.length - 1) { goTo(current + 1); }
  });
  // A question number, on the answer sheet or in the submit dialog: close what covers the paper, then go.
  var sheet = document.getElementById("answer-sheet");
  var dialog = document.getElementById("submit-dialog");
  root.addEventListener("click", function (event) {
    var link = event.target.closest("[data-sheet]");
    if (!link) { return; }
    event.preventDefault();
    var key = link.getAttribute("data-sheet");
    if (dialog.open) { dialog.close(); }
    if (sheet.classList.contains("show") && window.bootstrap) {
      // after the panel has gone (and given the focus back to its button), the question takes it
      sheet.addEventListener("hidden.bs.offcanvas", function () { setTimeout(function () { jump(key); }, 0); },
                             { once: true });
      window.bootstrap.Offcanvas.getOrCreateInstance(sheet).hide();
    } else {
      jump(key);
    }
  });
  layout();

  // --- sending ---------------------------------------------------------------------------------------
  // One save request at a time, carrying every answer not yet acknowledged. Answers changed while it
  // is on its way go in the next one. A slow server thus gets fewer, fuller requests, never a queue of
  // them, and a retry never multiplies the load it retries.
  var sending = false;
  var rejected = {};            // item → why the server refused its answer (shown on the item)
  function flush() {
    if (closed || sending) { return; }
    var keys = Object.keys(pending);
    if (!keys.length) { return; }
    var sent = {};
    var answers = keys.map(function (item) {
      sent[item] = pending[item].seq;
      var save = { item: item, response: pending[item].response, seq: pending[item].seq };
      if (typeof pending[item].flagged === "boolean") { save.flagged = pending[item].flagged; }
      return save;
    });
    sending = true;
    fetch(saveUrl, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, "Accept": "application/json" },
      body: JSON.stringify({ answers: answers })
    }).then(function (r) {
      if (r.status === 409) { sending = false; closed = true; pending = {}; persist(); window.location.href = resultUrl; return; }
      if (!r.ok) {
        // 503 (the database restarting) says when to come back: then, not after a longer backoff.
        var after = parseInt(r.headers.get("Retry-After"), 10);
        if (after > 0) { retryAfter = after * 1000; }
        throw new Error("HTTP " + r.status);
      }
      return r.json().then(function (data) {
        sending = false;
        var saved = data.saved || {};
        Object.keys(saved).forEach(function (item) {
          delete rejected[item];
          if (pending[item] && saved[item] >= pending[item].seq) { delete pending[item]; }
        });
        Object.keys(data.rejected || {}).forEach(function (item) {
          // This answer can never be stored (not an option of the item…): say so on the item.
          rejected[item] = data.rejected[item];
          if (pending[item] && pending[item].seq === sent[item]) { delete pending[item]; }
        });
        persist();
        backoff = 1000;
        showIndicator();
        // answers changed while this request was on its way: send them now
        if (Object.keys(pending).some(function (item) { return pending[item].seq !== sent[item]; })) { flush(); }
      });
    }).catch(function () {
      sending = false;
      showIndicator();
      scheduleRetry();
    });
  }
  function scheduleRetry() {
    if (retryTimer) { return; }
    var delay = retryAfter || backoff;
    retryAfter = 0;
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, delay);
    backoff = Math.min(backoff * 2, 10000);
  }
  setInterval(function () { if (Object.keys(pending).length) { flush(); } }, 5000);
  window.addEventListener("online", flush);

  function changed(el) {
    if (closed) { return; }
    var item = el.getAttribute("data-item");
    pending[item] = { response: readItem(el), flagged: !!flags[item], seq: nextSeq() };
    persist();
    showIndicator();
    showSheet(el);
    flush();
  }
  items.forEach(function (el) {
    var timer = null;
    el.querySelectorAll(".answer-input").forEach(function (input) {
      if (input.tagName === "TEXTAREA" || input.type === "text" || input.type === "number") {
        input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { changed(el); }, 800); });
        input.addEventListener("blur", function () { clearTimeout(timer); changed(el); });
      } else {
        input.addEventListener("change", function () { changed(el); });
      }
    });
  });

  // --- resuming: the server's acknowledged answers, then anything newer kept on this device ----------
  var stateBackoff = 1000;
  var shownLocal = false;
  function loadState() {
    fetch(stateUrl, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (state) {
      if (state.status !== "in_progress") { window.location.href = resultUrl; return; }
      clockOffset = Date.parse(state.now) - Date.now();
      deadline = Date.parse(state.deadline);
      var answers = state.answers || {};
      items.forEach(function (el) {
        var item = el.getAttribute("data-item");
        var server = answers[item];
        var local = pending[item];
        if (local && (!server || local.seq > server.seq)) {
          writeItem(el, local.response);
          writeFlag(el, typeof local.flagged === "boolean" ? local.flagged : !!(server && server.flagged));
        } else {
          if (local) { delete pending[item]; }
          if (server) { writeItem(el, server.response); writeFlag(el, !!server.flagged); }
        }
      });
      showSheet();
      persist();
      showIndicator();
      root.setAttribute("data-ready", "1");
      flush();
    }).catch(function () {
      // Offline or the server unavailable at load: show what this device kept (answers changed
      // meanwhile are saved as usual), and ask again for the server's answers until it answers.
      if (!shownLocal) {
        shownLocal = true;
        items.forEach(function (el) {
          var local = pending[el.getAttribute("data-item")];
          if (local) { writeItem(el, local.response); writeFlag(el, !!local.flagged); }
        });
        showSheet();
        root.setAttribute("data-ready", "1");
      }
      showIndicator();
      setTimeout(loadState, stateBackoff);
      stateBackoff = Math.min(stateBackoff * 2, 10000);
    });
  }
  loadState();

  // --- the clock and submitting ------------------------------------------------------------------------------
  var form = document.getElementById("submit-form");
  var submitting = false;
  function submitNow() {
    if (submitting) { return; }
    submitting = true;
    form.submit();
  }
  function waitForSaves(ms, then) {
    flush();
    var start = Date.now();
    (function check() {
      if (!Object.keys(pending).length || Date.now() - start > ms) { then(); return; }
      setTimeout(check, 200);
    })();
  }
  var confirmButton = document.getElementById("submit-confirm");
  var confirmLabel = confirmButton.textContent;
  var waitNote = document.getElementById("submit-wait");
  // A list of question numbers in the dialog, each a link to its question.
  function listLinks(boxId, textId, keys) {
    var box = document.getElementById(boxId);
    var text = document.getElementById(textId);
    box.parentNode.hidden = !keys.length;
    text.textContent = text.getAttribute("data-text").replace("%(n)s", keys.length);
    box.textContent = "";
    keys.forEach(function (key) {
      var a = document.createElement("a");
      a.href = "#item-" + key;
      a.className = "sheet-cell";
      a.setAttribute("data-sheet", key);
      a.setAttribute("aria-label", sheetBody.getAttribute("data-label").replace("%(no)s", key));
      a.textContent = key;
      box.appendChild(a);
    });
  }
  form.addEventListener("submit", function (event) {
    if (submitting) { return; }
    event.preventDefault();
    var open = items.filter(function (el) { return !answered(el); }).map(function (el) { return el.getAttribute("data-item"); });
    listLinks("unanswered-links", "unanswered-text", open);
    listLinks("flagged-links", "flagged-text", Object.keys(flags).sort(function (a, b) {
      return items.indexOf(document.getElementById("item-" + a)) - items.indexOf(document.getElementById("item-" + b));
    }));
    document.getElementById("all-answered").hidden = open.length > 0;
    waitNote.hidden = true;
    confirmButton.disabled = false;
    confirmButton.textContent = confirmLabel;
    dialog.showModal();
  });
  document.getElementById("submit-cancel").addEventListener("click", function () { dialog.close(); });
  confirmButton.addEventListener("click", function () {
    confirmButton.disabled = true;
    confirmButton.textContent = confirmButton.getAttribute("data-saving");
    waitForSaves(8000, function () {
      confirmButton.disabled = false;
      confirmButton.textContent = confirmLabel;
      if (Object.keys(pending).length) { waitNote.hidden = false; return; }
      submitNow();
    });
  });
  var clock = document.getElementById("time-left");
  function tick() {
    var left = Math.max(0, Math.floor((deadline - (Date.now() + clockOffset)) / 1000));
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    clock.textContent = (h ? h + ":" : "") + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
    if (left === 0 && !submitting && !closed) { waitForSaves(3000, submitNow); }
  }
  tick();
  setInterval(tick, 1000);
})();
