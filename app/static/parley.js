// Parley's page script: the little that HTML and htmx cannot say. Every page
// works without it. It runs at the end of the body, after htmx and its extensions.
"use strict";

const root = document.documentElement;
root.classList.add("js");
const csrf = document.querySelector("meta[name=csrf-token]").content;
const live = document.getElementById("live");
const chatId = live?.dataset.chatId || null;

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

// Focus never drops to the page because a swap replaced the focused element:
// it goes to the element with the same id in the new content.
let focusedBeforeSwap = null;
document.addEventListener("htmx:before:swap", () => {
  focusedBeforeSwap = document.activeElement?.id || null;
});
document.addEventListener("htmx:after:swap", () => {
  const lost = !document.activeElement || document.activeElement === document.body;
  if (lost && focusedBeforeSwap) document.getElementById(focusedBeforeSwap)?.focus({ preventScroll: true });
});

// ---------------------------------------------------------------------------
// Times: the server writes them in the reader's time zone (UTC until it knows
// it). The first time the script runs for someone, it tells the server the
// browser's zone, then shows the page again in it and keeps its own times
// (a Sending message's, the day it checks for) in it too.
let clockFormat, dayFormat;
function useTimeZone(zone) {
  clockFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone || "UTC" });
  dayFormat = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: zone || "UTC" });
}
useTimeZone(root.dataset.timeZone);
const clockLabel = (date) => clockFormat.format(date) + (root.dataset.timeZone ? "" : " UTC");
const sameDay = (a, b) => dayFormat.format(a) === dayFormat.format(b);

function refreshRegions() {
  return htmx.ajax("GET", location.href, { target: "#app", select: "#app", swap: "outerMorph" });
}

function learnTimeZone() {
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!live || root.dataset.timeZone !== "" || !browserZone) return;
  fetch(live.dataset.timeZoneUrl, {
    method: "POST",
    body: new URLSearchParams({ time_zone: browserZone }),
    headers: { "X-CSRFToken": csrf, "HX-Request": "true" },
  }).then((response) => {
    if (!response.headers.get("HX-Trigger")?.includes("time-zone-set")) return;
    root.dataset.timeZone = browserZone;
    useTimeZone(browserZone);
    shownDay = dayFormat.format(new Date());
    refreshRegions();
  });
}

// A page left open past midnight would still say "Today" of yesterday's
// messages: it shows itself again once the reader's day has changed.
let shownDay = dayFormat.format(new Date());
function refreshOnANewDay() {
  const today = dayFormat.format(new Date());
  if (today === shownDay) return;
  shownDay = today;
  refreshRegions();
}
if (live) {
  setInterval(refreshOnANewDay, 60_000);
  document.addEventListener("visibilitychange", refreshOnANewDay);
}

// ---------------------------------------------------------------------------
// The log: it opens at its newest message (or at the first unread one). A new
// message keeps the log at the bottom if the reader was there; if they had
// scrolled up, the view stays put and "Jump to latest (N new)" appears.
const log = document.getElementById("log");
const messages = log?.querySelector(".messages");
const jump = document.getElementById("jump");
const NEAR_BOTTOM = 100;

// The log scrolls itself, except in a window too short for that (at 400% zoom), where the page does.
const scroller = () => (getComputedStyle(log).overflowY === "visible" ? document.scrollingElement : log);

function fromBottom() {
  const box = scroller();
  if (box === log && getComputedStyle(log).flexDirection === "column-reverse") return -box.scrollTop;
  return box.scrollHeight - box.clientHeight - box.scrollTop;
}

function toBottom() {
  const box = scroller();
  box.scrollTop = box === log && getComputedStyle(log).flexDirection === "column-reverse" ? 0 : box.scrollHeight;
}

// A row in view, to keep in place while rows are added above or below it.
function anchorRow() {
  const view = scroller() === log ? log.getBoundingClientRect() : { top: 0, bottom: innerHeight };
  return [...messages.children].find((row) => {
    const box = row.getBoundingClientRect();
    return box.bottom > view.top && box.top < view.bottom;
  });
}

function setUpLog() {
  if (!log) return;
  const known = new Set([...messages.querySelectorAll(".message-row")].map((row) => row.id));
  let unseen = [];
  let before = null;

  const showJump = () => {
    jump.hidden = unseen.length === 0;
    jump.querySelector(".jump-count").textContent = unseen.length ? `(${unseen.length} new)` : "";
  };
  const caughtUp = () => {
    unseen = [];
    showJump();
  };

  document.addEventListener("htmx:before:swap", () => {
    const anchor = anchorRow();
    before = {
      near: fromBottom() < NEAR_BOTTOM,
      anchor,
      top: anchor?.getBoundingClientRect().top,
      last: messages.lastElementChild?.id,
    };
  });
  document.addEventListener("htmx:after:swap", () => {
    if (!before) return;
    const rows = [...messages.children];
    const end = rows.findIndex((row) => row.id === before.last);
    const later = rows.slice(end + 1).filter((row) => row.classList.contains("message-row") && !known.has(row.id));
    rows.forEach((row) => known.add(row.id));
    if (before.near) {
      toBottom();
    } else if (before.anchor?.isConnected) {
      const moved = before.anchor.getBoundingClientRect().top - before.top;
      if (moved) scroller().scrollTop += moved;
      unseen.push(...later.filter((row) => row.classList.contains("theirs")));
      showJump();
    }
    before = null;
  });
  const onScroll = () => {
    if (unseen.length && fromBottom() < NEAR_BOTTOM) caughtUp();
  };
  log.addEventListener("scroll", onScroll, { passive: true });
  addEventListener("scroll", onScroll, { passive: true });
  jump.addEventListener("click", () => {
    const first = unseen[0];
    toBottom();
    caughtUp();
    if (first?.isConnected) {
      first.tabIndex = -1;
      first.focus({ preventScroll: true });
    } else {
      document.getElementById("message-text")?.focus({ preventScroll: true });
    }
  });

  // Opening with unread messages: the first of them in view, and focus where it always is (a page
  // opened at a fragment, as the Chats link to unread messages is, gets no autofocus of its own).
  const divider = document.getElementById("unread");
  if (divider) divider.scrollIntoView({ block: "start" });
  else if (scroller() !== log) toBottom();
  if (location.hash) {
    const focusMessage = () => {
      if (document.activeElement === document.body) document.getElementById("message-text")?.focus({ preventScroll: true });
    };
    focusMessage();
    addEventListener("load", () => setTimeout(focusMessage), { once: true }); // after the fragment's own focusing
  }
}

// ---------------------------------------------------------------------------
// Drafts: each chat keeps its unsent text in this browser, across navigation
// and reloads, until it is sent or the person signs out.
const draftKey = chatId && root.dataset.user ? `parley:draft:${root.dataset.user}:${chatId}` : null;
const drafts = {
  load: () => (draftKey && localStorage.getItem(draftKey)) || "",
  save: (text) => draftKey && (text ? localStorage.setItem(draftKey, text) : localStorage.removeItem(draftKey)),
  clearAll: () => Object.keys(localStorage).filter((key) => key.startsWith("parley:")).forEach((key) => localStorage.removeItem(key)),
};
document.getElementById("sign-out")?.addEventListener("submit", drafts.clearAll);

// Messages on their way, kept in this browser until the server has them: a page
// left (or reloaded) before they went sends them from the next one. Text only:
// an image stays with the page that chose it.
const outboxKey = draftKey && draftKey.replace(":draft:", ":outbox:");
const unsent = {
  all: () => (outboxKey && JSON.parse(localStorage.getItem(outboxKey) || "[]")) || [],
  store: (entries) => outboxKey && (entries.length ? localStorage.setItem(outboxKey, JSON.stringify(entries)) : localStorage.removeItem(outboxKey)),
  add: (id, text) => unsent.store([...unsent.all().filter((entry) => entry.id !== id), { id, text }]),
  drop: (id) => unsent.store(unsent.all().filter((entry) => entry.id !== id)),
};

// ---------------------------------------------------------------------------
// The composer. Enter sends, Shift+Enter starts a new line. A send shows the
// message at once as Sending; the page sends one message at a time, in order.
// Without a connection messages wait ("Waiting for connection") and go by
// themselves, in order, when it is back. A send that failed but might yet go
// (no answer, a server in trouble) is "Not sent" with Retry (the same
// client_id, so never doubled) and Delete; one the server refused (the chat
// is blocked, the file is no image) offers only Delete, or Unblock.
const SEND_TIMEOUT = 10_000;
const MIGHT_YET_GO = (status) => status >= 500 || status === 408 || status === 429;
const megabytes = (bytes) => `${Math.round((bytes / 1048576) * 10) / 10} MB`;
const newClientId = () => crypto.randomUUID().replaceAll("-", "");

function setUpComposer() {
  const composer = document.getElementById("composer");
  if (!composer) return;
  const text = composer.querySelector("textarea");
  const file = composer.querySelector("input[type=file]");
  const alt = composer.querySelector("input[name=alt]");
  const clientId = () => composer.querySelector("input[name=client_id]");
  const error = document.getElementById("composer-error");
  const status = document.getElementById("send-status");
  const attachment = document.getElementById("attachment");
  const attached = document.getElementById("attachment-file");
  const template = document.getElementById("pending-message");
  const maxBytes = Number(composer.dataset.maxBytes);
  const outbox = new Map(); // client_id -> {data, preview}: what to send, or send again
  const queue = []; // what goes next, in order: what waits for the connection stays here
  const again = new Set(); // what was sent again (Retry, or after waiting): its going is said
  let busy = false;
  let preview = null;
  let saidWaiting = false;

  // The box grows with its text up to six lines (where field-sizing does not).
  if (!CSS.supports("field-sizing", "content")) {
    const grow = () => {
      text.style.height = "auto";
      text.style.height = `${text.scrollHeight + 4}px`;
    };
    text.addEventListener("input", grow);
  }

  // The error, and the field it is about marked invalid (the others not).
  const sayError = (message, field = text) => {
    error.replaceChildren(...(message ? [Object.assign(document.createElement("p"), { textContent: message })] : []));
    for (const control of [text, file]) control.removeAttribute("aria-invalid");
    if (message) field.setAttribute("aria-invalid", "true");
  };

  function clearImage() {
    file.value = "";
    alt.value = "";
    preview = null;
    attached.replaceChildren();
    attachment.hidden = true;
    file.removeAttribute("aria-invalid");
  }

  file.addEventListener("change", () => {
    const chosen = file.files[0];
    if (!chosen) return clearImage();
    const accepted = file.accept.split(",");
    let problem = null;
    if (!accepted.includes(chosen.type)) problem = `“${chosen.name}” is not a JPEG, PNG, GIF or WebP image. Attach one of those.`;
    else if (chosen.size > maxBytes) problem = `This image is ${megabytes(chosen.size)}; the limit is ${megabytes(maxBytes)}.`;
    if (problem) {
      clearImage();
      sayError(problem, file);
      return;
    }
    sayError(null);
    const image = document.createElement("img");
    image.alt = `Preview of ${chosen.name}`;
    const size = chosen.size < 1048576 ? `${Math.max(1, Math.round(chosen.size / 1024))} KB` : megabytes(chosen.size);
    const name = Object.assign(document.createElement("span"), { className: "attachment-name", textContent: chosen.name });
    const about = Object.assign(document.createElement("span"), { className: "attachment-size" });
    about.append(Object.assign(document.createElement("span"), { className: "visually-hidden", textContent: ", " }), size);
    const words = document.createElement("span");
    words.append(name, about);
    attached.replaceChildren(image, words);
    const reader = new FileReader();
    reader.addEventListener("load", () => { image.src = preview = reader.result; });
    reader.readAsDataURL(chosen);
    attachment.hidden = false;
  });
  attachment.hidden = true;
  document.getElementById("remove-image").addEventListener("click", () => {
    clearImage();
    // After the key's own events: an Enter's keypress landing on the file input would open it again.
    setTimeout(() => file.focus());
  });

  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  if (!text.value) text.value = drafts.load();
  text.addEventListener("input", () => drafts.save(text.value));

  // The message as Sending, right away, shaped like the server's (the worker's push replaces it).
  function bubble(id, message, image, description) {
    const row = template.content.firstElementChild.cloneNode(true);
    row.id = `m-${id}`;
    row.classList.add("local");
    const now = new Date();
    const last = [...messages.querySelectorAll(".message-row")].pop();
    const lastAt = last && new Date(last.querySelector("time").dateTime);
    if (!last || !sameDay(lastAt, now)) {
      const day = Object.assign(document.createElement("h2"), { className: "day-separator" });
      day.append(Object.assign(document.createElement("span"), { textContent: "Today" }));
      row.prepend(day);
    } else if (last.classList.contains("mine") && now - lastAt <= 5 * 60_000) {
      row.classList.add("continued"); // as the server shows it: no heading, the time for screen readers
      const meta = row.querySelector(".message-meta");
      meta.replaceWith(Object.assign(meta.querySelector("time"), { className: "message-time" }));
    }
    const time = row.querySelector("time");
    time.dateTime = now.toISOString();
    time.textContent = clockLabel(now);
    const content = row.querySelector(".bubble");
    if (message) content.append(Object.assign(document.createElement("p"), { className: "message-text", dir: "auto", textContent: message }));
    if (image) {
      const picture = Object.assign(document.createElement("img"), { src: image, alt: description || "Image you sent, no description" });
      const frame = Object.assign(document.createElement("span"), { className: "message-image" });
      frame.append(picture);
      content.append(frame);
    }
    return row;
  }

  // A message's bubble in one of its states: "sending", "waiting", "retry" (failed, might yet go) or "refused".
  function show(id, state, reason = "", unblock = false) {
    const row = document.getElementById(`m-${id}`);
    if (!row?.classList.contains("local")) return false; // the server has it after all
    row.classList.remove("status-sending", "waiting", "failed");
    row.classList.add({ sending: "status-sending", waiting: "waiting" }[state] || "failed");
    row.querySelector(".message-status").textContent =
      { sending: "Sending", waiting: "Waiting for connection" }[state] || "Not sent";
    row.querySelector(".failure-reason").textContent = reason;
    row.querySelector(".message-failure").hidden = state === "sending" || state === "waiting"; // they go by themselves
    row.querySelector(".retry").hidden = state !== "retry";
    row.querySelector(".message-unblock").hidden = !unblock;
    return true;
  }

  // Connected, as far as the page knows: the network is up and the live connection is not down.
  const online = () => navigator.onLine && live?.dataset.state !== undefined;

  // Every message still queued waits for the connection (said once until it is back).
  function waitForConnection() {
    for (const id of queue) show(id, "waiting");
    if (!saidWaiting) status.textContent = "Waiting for connection. Your messages will go when you are back online.";
    saidWaiting = true;
  }

  // "sent", "waiting" (no connection: it stays first in the queue), or the failure shown.
  async function deliver(id) {
    const { data } = outbox.get(id);
    const withImage = data.get("image")?.size > 0;
    // Without an image, a plain form: multipart costs the server far more to parse.
    const body = withImage ? data : new URLSearchParams([...data].filter(([, value]) => typeof value === "string"));
    let response;
    try {
      response = await fetch(composer.action, {
        method: "POST",
        body,
        headers: { "HX-Request": "true", "X-CSRFToken": csrf },
        signal: AbortSignal.timeout(SEND_TIMEOUT),
      });
    } catch (error) {
      if (error.name !== "TimeoutError" && !online()) return "waiting";
      if (show(id, "retry", "Parley did not answer.")) {
        status.textContent = "Message not sent. Parley did not answer. Retry or delete it.";
      }
      return "failed";
    }
    if (response.headers.get("HX-Redirect")) return location.assign(response.headers.get("HX-Redirect"));
    if (response.ok) {
      unsent.drop(id);
      return "sent";
    }
    const answer = new DOMParser().parseFromString(await response.text(), "text/html").body;
    const reason = answer.textContent.trim() || `The server answered ${response.status}.`;
    const retry = MIGHT_YET_GO(response.status);
    if (show(id, retry ? "retry" : "refused", reason, Boolean(answer.querySelector("[data-unblock]")))) {
      status.textContent = `Message not sent. ${reason}${retry ? " Retry or delete it." : ""}`;
    }
    return "failed";
  }

  async function sendQueued() {
    if (busy) return;
    if (!navigator.onLine) return waitForConnection();
    busy = true;
    let sentAgain = 0;
    while (queue.length) {
      const id = queue[0];
      if (!outbox.has(id)) { // deleted, or the server had it already
        queue.shift();
        continue;
      }
      show(id, "sending");
      const outcome = await deliver(id);
      if (outcome === "waiting") {
        waitForConnection();
        break;
      }
      queue.shift();
      if (outcome === "sent" && again.delete(id)) sentAgain += 1;
    }
    busy = false;
    if (!queue.length) saidWaiting = false;
    if (sentAgain) status.textContent = sentAgain === 1 ? "Sent." : `${sentAgain} messages sent.`;
  }
  // Back online: what waited goes, in order (the server has it once, whatever was lost on the way).
  const resume = () => {
    if (!queue.length) return;
    for (const id of queue) again.add(id);
    sendQueued();
  };
  addEventListener("online", resume);
  document.addEventListener("parley:attached", resume);

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const message = text.value.trim();
    if (!message && !file.files.length) {
      sayError("Write a message or attach an image.");
      text.focus();
      return;
    }
    const data = new FormData(composer);
    const id = data.get("client_id");
    messages.append(bubble(id, message, file.files.length ? preview : null, alt.value.trim()));
    toBottom();
    outbox.set(id, { data });
    if (!file.files.length) unsent.add(id, message);
    queue.push(id);
    clientId().value = newClientId();
    text.value = "";
    text.dispatchEvent(new Event("input"));
    drafts.save("");
    clearImage();
    sayError(null);
    text.focus();
    sendQueued();
  });

  messages.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    const row = button?.closest(".message-row");
    if (!row) return;
    const id = row.id.slice(2);
    if (button.dataset.action === "delete") {
      outbox.delete(id);
      unsent.drop(id);
      // The server may keep it too, unconfirmed by the broker: forget it there (nothing, if it has none).
      fetch(`/chats/${chatId}/unsent/${id}`, {
        method: "POST", body: new URLSearchParams({ action: "delete" }), headers: { "X-CSRFToken": csrf, "HX-Request": "true" },
      }).catch(() => {}); // offline: any copy the server kept shows on the next page, with its own Delete
      row.remove();
      status.textContent = "Message deleted.";
    } else if (outbox.has(id) && !queue.includes(id)) {
      show(id, "sending");
      status.textContent = "Sending again.";
      again.add(id);
      queue.push(id);
      sendQueued();
    }
    text.focus();
  });

  // A message the server has (pushed in place of the page's own) needs nothing more from it.
  document.addEventListener("htmx:after:swap", () => {
    for (const id of outbox.keys()) {
      if (!document.getElementById(`m-${id}`)?.classList.contains("local")) {
        outbox.delete(id);
        unsent.drop(id);
      }
    }
  });

  // What an earlier page of this chat had not sent yet (the page shows what the server has).
  for (const { id, text: message } of unsent.all()) {
    if (document.getElementById(`m-${id}`)) {
      unsent.drop(id);
      continue;
    }
    const data = new FormData();
    data.set("client_id", id);
    data.set("text", message);
    data.set("alt", "");
    messages.append(bubble(id, message, null, ""));
    outbox.set(id, { data });
    queue.push(id);
  }
  if (queue.length) {
    toBottom();
    sendQueued();
  }
}

// The open chat's entry in Chats is the current page, even after a push replaces it.
function markCurrentChat() {
  for (const link of document.querySelectorAll(".chat-link")) {
    if (link.pathname === location.pathname) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// The document title starts "(N) " while N messages wait in all chats.
function countUnread() {
  const entries = document.querySelectorAll("#chat-list [data-unread]");
  if (!entries.length && !document.getElementById("chat-list")) return;
  const total = [...entries].reduce((sum, entry) => sum + Number(entry.dataset.unread), 0);
  const title = document.title.replace(/^\(\d+\) /, "");
  document.title = total ? `(${total}) ${title}` : title;
}

// ---------------------------------------------------------------------------
// Live updates. Pushes arrive over a WebSocket (htmx's hx-ws) as {id, content}:
// the content is HTML partials, swapped into the page by element id. The page
// keeps the stream id of the last push it applied; on every (re)connect it says
// where it stands and the server replays what it missed, or says "refresh".
// Where WebSockets are blocked, the same pushes come as server-sent events and
// typing and viewing go as small POSTs. While the connection is down the page
// says "Reconnecting…" (once) and no longer vouches for anyone's presence.
function setUpLive() {
  if (!live) return null;
  const page = live.dataset.pageId;
  let lastId = live.dataset.streamId;
  let socket = null;
  let opened = false;
  let failures = 0;
  let fresh = true;
  let usingEvents = false;

  const connection = () => document.getElementById("connection-status");
  const down = () => {
    if (root.classList.contains("offline")) return;
    root.classList.add("offline");
    const line = connection();
    if (line) line.textContent = "Reconnecting…";
  };
  const up = () => {
    root.classList.remove("offline");
    const line = connection();
    if (line) line.textContent = "";
  };
  addEventListener("offline", down);
  addEventListener("online", () => live.dataset.state === "attached" && up());

  const order = (id) => id.split("-").map(Number);
  const newer = (id) => {
    const [ms, seq] = order(id), [lastMs, lastSeq] = order(lastId);
    return ms > lastMs || (ms === lastMs && seq > lastSeq);
  };

  // The server says "attached" once the page gets every push: it is live.
  // It is what ends "Reconnecting…": a socket that opens and drops again before it was not back.
  const attached = () => {
    live.dataset.state = "attached";
    up();
    document.dispatchEvent(new Event("parley:attached"));
  };

  function tell(message) {
    if (socket && socket.readyState === socket.OPEN) {
      socket.send(JSON.stringify(message));
    } else if (usingEvents && chatId) {
      const fields = message.type === "typing" ? { typing: message.typing ? "1" : "0", page }
        : { visible: message.visible ? "1" : "0", page };
      fetch(`/chats/${chatId}/${message.type}`, {
        method: "POST", body: new URLSearchParams(fields), headers: { "X-CSRFToken": csrf },
      });
    }
  }

  function refreshFrom(id) {
    lastId = id;
    refreshRegions();
  }

  // The person has more pages open than the server keeps live, and this is
  // the oldest: it stops (no reconnecting, or the pages would take turns)
  // and says so, with a way back.
  function openedElsewhere() {
    live.dataset.state = "elsewhere";
    const alerts = document.getElementById("alerts");
    const line = document.createElement("p");
    const reload = document.createElement("a");
    reload.href = location.href;
    reload.textContent = "Reload to use it here";
    line.append("Opened elsewhere. Parley is open in too many other tabs or windows, so this one stopped updating. ",
      reload, ".");
    alerts.replaceChildren(line);
  }

  function useEvents() {
    if (usingEvents) return;
    usingEvents = true;
    let connected = false;
    const stream = document.createElement("div");
    stream.hidden = true;
    const query = new URLSearchParams({ page, chat: chatId || "", after: lastId });
    stream.setAttribute("hx-sse:connect", `${live.dataset.eventsUrl}?${query}`);
    stream.addEventListener("htmx:sse:before:message", (event) => {
      const id = event.detail.message.id;
      if (id && newer(id)) lastId = id;
    });
    stream.addEventListener("htmx:sse:after:connection", () => { connected = true; });
    stream.addEventListener("htmx:sse:error", down);
    stream.addEventListener("htmx:sse:before:connection", () => connected && down());
    stream.addEventListener("refresh", (event) => refreshFrom(event.detail.data));
    stream.addEventListener("attached", attached);
    stream.addEventListener("signed-out", () => leaving || location.assign("/signin"));
    stream.addEventListener("elsewhere", () => {
      stream.remove(); // htmx closes its stream with it
      openedElsewhere();
    });
    document.body.append(stream);
    htmx.process(stream);
    if (chatId) tell({ type: "viewing", visible: !document.hidden });
  }

  live.addEventListener("htmx:ws:after:connection", (event) => {
    socket = event.detail.connection.socket;
    opened = true;
    failures = 0;
    socket.send(JSON.stringify({ type: "hello", after: lastId, page, chat: chatId, visible: !document.hidden, fresh }));
    fresh = false;
  });
  live.addEventListener("htmx:ws:before:message:incoming", (event) => {
    const message = JSON.parse(event.detail.message.data);
    if (message.attached) {
      event.detail.cancelled = true;
      attached();
    } else if (message.refresh) {
      event.detail.cancelled = true;
      refreshFrom(message.id);
    } else if (message.id) {
      if (newer(message.id)) lastId = message.id;
      else event.detail.cancelled = true; // already applied
    }
  });
  // Signing out here closes this page's socket too: the form's own answer
  // (with its "You have signed out") is already on its way, so leave it be.
  let leaving = false;
  window.addEventListener("beforeunload", () => { leaving = true; });
  live.addEventListener("htmx:ws:close", (event) => {
    socket = null;
    delete live.dataset.state;
    const { code, connection } = event.detail;
    if (code === 4401) {
      connection.config.reconnect = false;
      drafts.clearAll();
      if (!leaving) location.assign("/signin");
    } else if (code === 4409) {
      connection.config.reconnect = false;
      openedElsewhere();
    } else if (code === 4403) {
      connection.config.reconnect = false;
      down();
    } else if (!opened && ++failures >= 2) { // never got through: WebSockets are blocked here
      connection.config.reconnect = false;
      useEvents();
    } else if (opened) {
      down();
    }
  });
  live.addEventListener("htmx:ws:error", (event) => {
    if (!opened && !event.detail.connection?.socket) useEvents(); // the browser would not even try
  });

  // Viewing: the chat is in front of the person. Renewed while it stays so.
  document.addEventListener("visibilitychange", () => tell({ type: "viewing", visible: !document.hidden }));
  setInterval(() => document.hidden || tell({ type: "viewing", visible: true }), 20_000);
  return tell;
}

// Typing: at most one "typing" every 2 s while keys go down; "stopped" on send,
// on emptying or leaving the field, and after 5 s without a keystroke.
function setUpTyping(tell) {
  const composer = document.getElementById("composer");
  if (!composer || !tell) return;
  const text = composer.querySelector("textarea");
  let typing = false;
  let lastSignal = 0;
  let idle = null;
  const stop = () => {
    clearTimeout(idle);
    if (typing) tell({ type: "typing", typing: false });
    typing = false;
  };
  text.addEventListener("input", (event) => {
    if (!event.isTrusted) return;
    if (!text.value) return stop(); // emptied: no longer typing, at once
    if (!typing || Date.now() - lastSignal >= 2000) {
      tell({ type: "typing", typing: true });
      lastSignal = Date.now();
    }
    typing = true;
    clearTimeout(idle);
    idle = setTimeout(stop, 5000);
  });
  text.addEventListener("blur", stop);
  composer.addEventListener("submit", stop);
}

// The other person's typing lines (in the chat and in Chats) clear themselves if their "stopped" never comes.
function expireTypingLines() {
  const timers = new WeakMap();
  new MutationObserver((changes) => {
    for (const change of changes) {
      const node = change.target.nodeType === Node.ELEMENT_NODE ? change.target : change.target.parentElement;
      const line = node?.closest(".typing, .chat-typing");
      if (!line) continue;
      clearTimeout(timers.get(line));
      if (line.textContent) timers.set(line, setTimeout(() => { line.textContent = ""; }, 7000));
    }
  }).observe(document.body, { childList: true, characterData: true, subtree: true });
}

// This script runs at the end of the body, before htmx starts (on
// DOMContentLoaded): the page is all there, and no live event is missed.
markCurrentChat();
countUnread();
setUpLog();
setUpComposer();
setUpTyping(setUpLive());
expireTypingLines();
learnTimeZone();

document.addEventListener("htmx:after:swap", () => {
  markCurrentChat();
  countUnread();
});
