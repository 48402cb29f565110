// Small progressive enhancements; no inline scripts so a strict CSP works.
document.addEventListener("change", (e) => {
  const el = e.target;
  if (el.matches("select[data-autosubmit]")) el.form.requestSubmit();
});
