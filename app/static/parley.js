// Parley's page script: the little that HTML and htmx cannot say. Every page
// works without it. It runs at the end of the body, after htmx and its extensions.
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
  // A message without an image goes as a plain form: parsing multipart costs
  // the server far more (a new boundary is a new regular expression to compile).
  const file = composer.querySelector("input[type=file]");
  const encoding = () => {
    composer.enctype = file.files.length ? "multipart/form-data" : "application/x-www-form-urlencoded";
  };
  file.addEventListener("change", encoding);
  encoding();
  let sentText = null;
  composer.addEventListener("htmx:before:request", () => { sentText = text.value; });
  composer.addEventListener("htmx:after:request", (event) => {
    if (event.detail.ctx.response?.status !== 200) return;
    if (text.value === sentText) text.value = "";
    file.value = "";
    encoding();
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

// ---------------------------------------------------------------------------
// Live updates. Pushes arrive over a WebSocket (htmx's hx-ws) as {id, content}:
// the content is HTML partials, swapped into the page by element id. The page
// keeps the stream id of the last push it applied; on every (re)connect it says
// where it stands and the server replays what it missed, or says "refresh".
// Where WebSockets are blocked, the same pushes come as server-sent events and
// typing and viewing go as small POSTs.
function setUpLive() {
  const live = document.getElementById("live");
  if (!live) return null;
  const page = live.dataset.pageId;
  const chat = live.dataset.chatId || null;
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  let lastId = live.dataset.streamId;
  let socket = null;
  let opened = false;
  let failures = 0;
  let fresh = true;
  let usingEvents = false;

  const order = (id) => id.split("-").map(Number);
  const newer = (id) => {
    const [ms, seq] = order(id), [lastMs, lastSeq] = order(lastId);
    return ms > lastMs || (ms === lastMs && seq > lastSeq);
  };

  // The server says "attached" once the page gets every push: it is live.
  const attached = () => { live.dataset.state = "attached"; };

  function tell(message) {
    if (socket && socket.readyState === socket.OPEN) {
      socket.send(JSON.stringify(message));
    } else if (usingEvents && chat) {
      const fields = message.type === "typing" ? { typing: message.typing ? "1" : "0", page }
        : { visible: message.visible ? "1" : "0", page };
      fetch(`/chats/${chat}/${message.type}`, {
        method: "POST", body: new URLSearchParams(fields), headers: { "X-CSRFToken": csrf },
      });
    }
  }

  function refreshRegions(id) {
    lastId = id;
    htmx.ajax("GET", location.href, { target: "#app", select: "#app", swap: "outerMorph" });
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
    const stream = document.createElement("div");
    stream.hidden = true;
    const query = new URLSearchParams({ page, chat: chat || "", after: lastId });
    stream.setAttribute("hx-sse:connect", `${live.dataset.eventsUrl}?${query}`);
    stream.addEventListener("htmx:sse:before:message", (event) => {
      const id = event.detail.message.id;
      if (id && newer(id)) lastId = id;
    });
    stream.addEventListener("refresh", (event) => refreshRegions(event.detail.data));
    stream.addEventListener("attached", attached);
    stream.addEventListener("signed-out", () => leaving || location.assign("/signin"));
    stream.addEventListener("elsewhere", () => {
      stream.remove(); // htmx closes its stream with it
      openedElsewhere();
    });
    document.body.append(stream);
    htmx.process(stream);
    if (chat) tell({ type: "viewing", visible: !document.hidden });
  }

  live.addEventListener("htmx:ws:after:connection", (event) => {
    socket = event.detail.connection.socket;
    opened = true;
    failures = 0;
    socket.send(JSON.stringify({ type: "hello", after: lastId, page, chat, visible: !document.hidden, fresh }));
    fresh = false;
  });
  live.addEventListener("htmx:ws:before:message:incoming", (event) => {
    const message = JSON.parse(event.detail.message.data);
    if (message.attached) {
      event.detail.cancelled = true;
      attached();
    } else if (message.refresh) {
      event.detail.cancelled = true;
      refreshRegions(message.id);
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
      if (!leaving) location.assign("/signin");
    } else if (code === 4409) {
      connection.config.reconnect = false;
      openedElsewhere();
    } else if (code === 4403) {
      connection.config.reconnect = false;
    } else if (!opened && ++failures >= 2) { // never got through: WebSockets are blocked here
      connection.config.reconnect = false;
      useEvents();
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
// on leaving the field, and after 5 s without a keystroke.
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
  text.addEventListener("input", () => {
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

// The other person's typing line clears itself if their "stopped" never comes.
function expireTypingLine() {
  const line = document.querySelector(".typing");
  if (!line) return;
  let timer = null;
  new MutationObserver(() => {
    clearTimeout(timer);
    if (line.textContent) timer = setTimeout(() => { line.textContent = ""; }, 7000);
  }).observe(line, { childList: true, characterData: true, subtree: true });
}

// This script runs at the end of the body, before htmx starts (on
// DOMContentLoaded): the page is all there, and no live event is missed.
localizeTimes(document);
markCurrentChat();
setUpComposer();
setUpTyping(setUpLive());
expireTypingLine();

document.addEventListener("htmx:after:swap", () => {
  localizeTimes(document);
  markCurrentChat();
});
