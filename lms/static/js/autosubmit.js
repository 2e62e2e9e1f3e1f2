// Forms marked data-auto-submit are sent once as the page loads (the button stays for pages without
// scripts): e.g. the check-in a QR scan started before the worker logged in.
document.querySelectorAll("form[data-auto-submit]").forEach(function (form) {
  if (form.dataset.sent) return;
  form.dataset.sent = "1";
  if (form.requestSubmit) form.requestSubmit(); else form.submit();
});
