// Agent workspace: new-activity polling (sound + browser notification, switchable), presence
// heartbeats for the collision warning, canned-response insertion and keyboard shortcuts.
// Loaded as a file (no inline script) so a strict Content-Security-Policy works.
(function () {
  "use strict";
  const config = document.getElementById("agent-config");
  if (!config) return;
  const data = config.dataset;
  const POLL_MS = 15000;
  const NOTIFY_KEY = "helpdesk.notify";
  const QUEUE_KEY = "helpdesk.queue";

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  // --- Sound and notifications ----------------------------------------------------------------
  function notifyEnabled() { return localStorage.getItem(NOTIFY_KEY) !== "off"; }

  function setupToggle() {
    const toggle = document.getElementById("notify-toggle");
    if (!toggle) return;
    toggle.checked = notifyEnabled();
    toggle.addEventListener("change", () => {
      localStorage.setItem(NOTIFY_KEY, toggle.checked ? "on" : "off");
      if (toggle.checked && "Notification" in window && Notification.permission !== "granted") {
        Notification.requestPermission().then((answer) => {
          const status = document.getElementById("notify-status");
          if (status) status.textContent = answer === "denied" ? data.textDenied : "";
        });
      }
    });
  }

  function signal(info) {
    if (!notifyEnabled()) return;
    const audio = new Audio(data.soundUrl);
    audio.play().catch(() => {}); // browsers refuse sound before the first user gesture; that is fine
    if ("Notification" in window && Notification.permission === "granted") {
      const body = info.number ? "#" + info.number + " " + (info.subject || "") : "";
      const n = new Notification(data.textNew, { body: body, tag: "helpdesk-" + (info.number || "") });
      n.onclick = () => { window.focus(); if (info.number) window.location.href = ticketUrl(info.number); };
    }
  }

  function ticketUrl(number) {
    return data.pollUrl.replace(/poll\/$/, "tickets/" + number + "/");
  }

  // --- Polling ----------------------------------------------------------------------------------
  let seen = null;
  function poll() {
    const url = data.pollUrl + (data.ticket ? "?ticket=" + encodeURIComponent(data.ticket) : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((info) => {
        if (!info) return;
        if (seen !== null && info.latest > seen) {
          signal(info);
          const box = document.getElementById("new-activity");
          if (box) { box.textContent = data.ticket ? data.textNewTicket : data.textNewQueue; box.hidden = false; }
        }
        seen = Math.max(seen || 0, info.latest);
        config.dataset.seen = String(seen); // lets tests (and curious agents) see what was checked
      })
      .catch(() => {});
  }

  // --- Presence (collision warning) -------------------------------------------------------------
  function replying() {
    const body = document.getElementById("id_body");
    return body && (body.value.trim() !== "" || document.activeElement === body);
  }

  function heartbeat() {
    if (!data.presenceUrl) return;
    const form = new FormData();
    form.append("mode", replying() ? "replying" : "viewing");
    fetch(data.presenceUrl, { method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } })
      .then((r) => (r.ok ? r.text() : null))
      .then((html) => { if (html !== null) document.getElementById("presence").innerHTML = html; })
      .catch(() => {});
  }

  function leave() {
    if (!data.presenceUrl || !navigator.sendBeacon) return;
    const form = new FormData();
    form.append("mode", "leave");
    form.append("csrfmiddlewaretoken", csrfToken());
    navigator.sendBeacon(data.presenceUrl, form);
  }

  // --- Canned responses -------------------------------------------------------------------------
  function insertAtCursor(textarea, text) {
    const start = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? textarea.value.length;
    textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
    textarea.selectionStart = textarea.selectionEnd = start + text.length;
    textarea.focus();
  }

  document.addEventListener("change", (e) => {
    const select = e.target;
    if (!select.matches("select[data-canned-target]") || !select.value) return;
    fetch(select.value, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : ""))
      .then((text) => {
        const target = document.getElementById(select.dataset.cannedTarget);
        if (target && text) insertAtCursor(target, text);
        select.value = "";
      });
  });

  document.addEventListener("change", (e) => {
    if (!e.target.matches("input[data-select-all]")) return;
    document.querySelectorAll("#bulk-form input[name=tickets]").forEach((box) => { box.checked = e.target.checked; });
  });

  // --- Keyboard shortcuts -----------------------------------------------------------------------
  function rows() { return Array.from(document.querySelectorAll("tr.queue-row")); }

  function rememberQueue() {
    const urls = rows().map((r) => r.dataset.href);
    if (urls.length) sessionStorage.setItem(QUEUE_KEY, JSON.stringify(urls));
  }

  function moveSelection(step) {
    const list = rows();
    if (!list.length) return;
    let i = list.findIndex((r) => r.classList.contains("selected"));
    if (i >= 0) list[i].classList.remove("selected");
    i = Math.min(list.length - 1, Math.max(0, i + step));
    list[i].classList.add("selected");
    list[i].scrollIntoView({ block: "nearest" });
    const link = list[i].querySelector("td:nth-child(2) a");
    if (link) link.focus();
  }

  function neighbourTicket(step) {
    let urls = [];
    try { urls = JSON.parse(sessionStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { urls = []; }
    const i = urls.indexOf(window.location.pathname);
    const next = urls[i + step];
    if (i >= 0 && next) window.location.href = next;
  }

  function openSelected() {
    const row = document.querySelector("tr.queue-row.selected");
    if (row) window.location.href = row.dataset.href;
  }

  function focusField(id) {
    const el = document.getElementById(id);
    if (el) { el.scrollIntoView({ block: "center" }); el.focus(); }
  }

  const help = document.getElementById("shortcut-help");
  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-help-open]") && help) help.showModal();
  });

  document.addEventListener("keydown", (e) => {
    // Letters typed into text fields are text; on checkboxes and buttons they are still shortcuts.
    const typing = e.target.closest(
      "textarea, select, [contenteditable], input:not([type=checkbox]):not([type=radio]):not([type=submit]):not([type=button])"
    );
    if (e.key === "Escape" && typing) { e.target.blur(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const onTicket = Boolean(data.ticket);
    const actions = {
      j: () => (onTicket ? neighbourTicket(1) : moveSelection(1)),
      k: () => (onTicket ? neighbourTicket(-1) : moveSelection(-1)),
      o: openSelected,
      r: () => focusField("id_body"),
      n: () => focusField("id_note_body"),
      a: () => { const f = document.getElementById("take-form"); if (f) f.requestSubmit(); },
      "?": () => { if (help) help.showModal(); },
      "/": () => focusField("topbar-q"),
    };
    const action = actions[e.key];
    if (action) { e.preventDefault(); action(); }
  });

  // --- Start ------------------------------------------------------------------------------------
  setupToggle();
  rememberQueue();
  document.body.addEventListener("htmx:afterSwap", () => { setupToggle(); rememberQueue(); });
  poll();
  setInterval(poll, POLL_MS);
  if (data.presenceUrl) {
    setInterval(heartbeat, POLL_MS);
    document.addEventListener("focusin", (e) => { if (e.target.id === "id_body") heartbeat(); });
    window.addEventListener("pagehide", leave);
  }
})();
