// The log: it opens at its newest message (or at the first unread one). A new
// message keeps the log at the bottom if the reader was there; if they had
// scrolled up, the view stays put and "Jump to latest (N new)" appears.
"use strict";

{
  const log = document.getElementById("log");
  const messages = Parley.messages = log.querySelector(".messages");
  const jump = document.getElementById("jump");
  const NEAR_BOTTOM = 100;

  // The log scrolls itself, except in a window too short for that (at 400% zoom), where the page does.
  const scroller = () => (getComputedStyle(log).overflowY === "visible" ? document.scrollingElement : log);

  const fromBottom = () => {
    const box = scroller();
    if (box === log && getComputedStyle(log).flexDirection === "column-reverse") return -box.scrollTop;
    return box.scrollHeight - box.clientHeight - box.scrollTop;
  };

  const toBottom = Parley.toBottom = () => {
    const box = scroller();
    box.scrollTop = box === log && getComputedStyle(log).flexDirection === "column-reverse" ? 0 : box.scrollHeight;
  };

  // A row in view, to keep in place while rows are added above or below it.
  const anchorRow = () => {
    const view = scroller() === log ? log.getBoundingClientRect() : { top: 0, bottom: innerHeight };
    return [...messages.children].find((row) => {
      const box = row.getBoundingClientRect();
      return box.bottom > view.top && box.top < view.bottom;
    });
  };

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
  // Opened at a message (its permalink, a search result): that message in view, with focus on it.
  const target = location.hash.startsWith("#m-") ? document.getElementById(location.hash.slice(1)) : null;
  const divider = document.getElementById("unread");
  if (target) {
    const focusTarget = () => {
      target.scrollIntoView({ block: "center" });
      target.focus({ preventScroll: true });
    };
    focusTarget();
    addEventListener("load", () => setTimeout(focusTarget), { once: true }); // after the fragment's own scrolling
  } else if (divider) divider.scrollIntoView({ block: "start" });
  else if (scroller() !== log) toBottom();
  if (location.hash && !target) {
    const focusMessage = () => {
      if (document.activeElement === document.body) document.getElementById("message-text")?.focus({ preventScroll: true });
    };
    focusMessage();
    addEventListener("load", () => setTimeout(focusMessage), { once: true }); // after the fragment's own focusing
  }

  // "Copy link": a message's permalink to the clipboard, said once. A click with a modifier key
  // (a new tab), or a browser that refuses the clipboard, follows the link instead.
  const announcements = document.querySelector("[id^=announcements-]");
  log.addEventListener("click", (event) => {
    const link = event.target.closest(".message-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || !navigator.clipboard) return;
    event.preventDefault();
    navigator.clipboard.writeText(link.href).then(
      () => {
        const label = link.querySelector(".with-script");
        label.textContent = "Copied";
        setTimeout(() => { label.textContent = "Copy link"; }, 2000);
        if (announcements) announcements.innerHTML = "<p>Link copied.</p>";
      },
      () => { location.href = link.href; },
    );
  });
}
