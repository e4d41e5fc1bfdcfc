// Parley's page script: the little that HTML and htmx cannot say. Every page
// works without it.
"use strict";

document.documentElement.classList.add("js");

// ---------------------------------------------------------------------------
// Swap style "upsert": put each incoming element in its place in the target.
// An element already on the page (same id) is replaced, unless the page's copy
// is further along (data-version: a message goes Sending, Sent, Seen and never
// back). New elements are placed by data-key, ascending, or descending when
// the target says data-order="desc"; an element without a key goes last.
htmx.registerExtension("parley-upsert", {
  handle_swap(style, target, fragment) {
    if (style !== "upsert") return false;
    const descending = target.dataset.order === "desc";
    const comesBefore = (key, other) => other === undefined || (descending ? key > other : key < other);
    for (const incoming of [...fragment.children]) {
      const current = incoming.id && document.getElementById(incoming.id);
      let focused = null;
      if (current) {
        if (Number(current.dataset.version || 0) > Number(incoming.dataset.version || 0)) continue;
        if (current.contains(document.activeElement)) focused = document.activeElement.id;
        current.remove();
      }
      const key = incoming.dataset.key;
      const next = key === undefined ? null
        : [...target.children].find((child) => comesBefore(key, child.dataset.key)) || null;
      target.insertBefore(incoming, next);
      if (focused) document.getElementById(focused)?.focus({ preventScroll: true });
    }
    return true;
  },
});

// ---------------------------------------------------------------------------
// Times: the server writes UTC; show them in the reader's zone and language.
const clock = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayMonth = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const fullDate = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });

function timeLabel(date) {
  const today = new Date();
  const yesterday = new Date(today);
  yesterday.setDate(today.getDate() - 1);
  if (date.toDateString() === today.toDateString()) return clock.format(date);
  if (date.toDateString() === yesterday.toDateString()) return `Yesterday, ${clock.format(date)}`;
  if (date.getFullYear() === today.getFullYear()) return `${dayMonth.format(date)}, ${clock.format(date)}`;
  return fullDate.format(date);
}

function localizeTimes(root) {
  for (const time of root.querySelectorAll("time[datetime]")) {
    time.textContent = timeLabel(new Date(time.dateTime));
  }
}

// ---------------------------------------------------------------------------
// The composer: Enter sends, Shift+Enter starts a new line; after a send the
// fields empty (unless the person already started the next message) and the
// Message field has focus again, whether Enter or the Send button sent it.
function setUpComposer() {
  const composer = document.getElementById("composer");
  if (!composer) return;
  const text = composer.querySelector("textarea");
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  let sentText = null;
  composer.addEventListener("htmx:before:request", () => { sentText = text.value; });
  composer.addEventListener("htmx:after:request", (event) => {
    if (event.detail.ctx.response?.status !== 200) return;
    if (text.value === sentText) text.value = "";
    composer.querySelector("input[type=file]").value = "";
    composer.querySelector("input[name=alt]").value = "";
    text.focus();
  });
}

// The open chat's entry in Chats is the current page, even after a push replaces it.
function markCurrentChat() {
  for (const link of document.querySelectorAll(".chat-link")) {
    if (link.pathname === location.pathname) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  localizeTimes(document);
  markCurrentChat();
  setUpComposer();
});

document.addEventListener("htmx:after:swap", () => {
  localizeTimes(document);
  markCurrentChat();
});
