// Customer cabinet enhancements. Everything works without this file: all detail groups are shown,
// the time zone stays at the server default, and there is no character counter.
(function () {
  "use strict";

  function syncDetailGroups() {
    const checked = document.querySelector('input[name="category"]:checked');
    const kind = checked ? checked.dataset.formKind : "";
    document.querySelectorAll("fieldset.detail-group[data-form-kind]").forEach((group) => {
      group.hidden = group.dataset.formKind !== kind;
    });
  }

  function setupCounter(input) {
    const max = parseInt(input.dataset.counter, 10);
    const out = document.createElement("span");
    out.className = "muted char-counter";
    out.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", out);
    const update = () => {
      out.textContent = input.value.length + " / " + max;
    };
    input.addEventListener("input", update);
    update();
  }

  function guessTimeZone(select) {
    if (select.value) return;
    let zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return;
    }
    if ([...select.options].some((o) => o.value === zone)) select.value = zone;
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.documentElement.classList.add("js");
    if (document.querySelector("fieldset.detail-group")) {
      syncDetailGroups();
      document.addEventListener("change", (e) => {
        if (e.target.matches('input[name="category"]')) syncDetailGroups();
      });
    }
    document.querySelectorAll("input[data-counter]").forEach(setupCounter);
    document.querySelectorAll("select[data-guess-time-zone]").forEach(guessTimeZone);
  });
})();
