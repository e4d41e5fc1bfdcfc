// Live updates. Pushes arrive over a WebSocket (htmx's hx-ws) as {id, content}:
// the content is HTML partials, swapped into the page by element id. The page
// keeps the stream id of the last push it applied; on every (re)connect it says
// where it stands and the server replays what it missed, or says "refresh".
// Where WebSockets are blocked, the same pushes come as server-sent events and
// typing and viewing go as small POSTs. While the connection is down the page
// says "Reconnecting…" (once) and no longer vouches for anyone's presence.
"use strict";

{
  const { root, live, chatId, csrf } = Parley;
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
  };

  // Typing and viewing, to the server: over the socket, or as POSTs on the fallback.
  const tell = Parley.tell = (message) => {
    if (socket && socket.readyState === socket.OPEN) {
      socket.send(JSON.stringify(message));
    } else if (usingEvents && chatId) {
      const fields = message.type === "typing" ? { typing: message.typing ? "1" : "0", page }
        : { visible: message.visible ? "1" : "0", page };
      fetch(`/chats/${chatId}/${message.type}`, {
        method: "POST", body: new URLSearchParams(fields), headers: { "X-CSRFToken": csrf },
      });
    }
  };

  const refreshFrom = (id) => {
    lastId = id;
    Parley.refreshRegions();
  };

  // The person has more pages open than the server keeps live, and this is
  // the oldest: it stops (no reconnecting, or the pages would take turns)
  // and says so, with a way back.
  const openedElsewhere = () => {
    live.dataset.state = "elsewhere";
    const alerts = document.getElementById("alerts");
    const line = document.createElement("p");
    const reload = document.createElement("a");
    reload.href = location.href;
    reload.textContent = "Reload to use it here";
    line.append("Opened elsewhere. Parley is open in too many other tabs or windows, so this one stopped updating. ",
      reload, ".");
    alerts.replaceChildren(line);
  };

  // Signing out here closes this page's socket too: the form's own answer
  // (with its "You have signed out") is already on its way, so leave it be.
  let leaving = false;
  window.addEventListener("beforeunload", () => { leaving = true; });

  const useEvents = () => {
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
  };

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
  live.addEventListener("htmx:ws:close", (event) => {
    socket = null;
    delete live.dataset.state;
    const { code, connection } = event.detail;
    if (code === 4401) {
      connection.config.reconnect = false;
      Parley.drafts.clearAll();
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

  // The other person's typing lines (in the chat and in Chats) clear themselves if their "stopped" never comes.
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
