// The Chats navigation: the open chat's entry is the current page, even after
// a push replaces it, and the document title starts "(N) " while N messages
// wait in all chats.
"use strict";

{
  const markCurrentChat = () => {
    for (const link of document.querySelectorAll(".chat-link")) {
      if (link.pathname === location.pathname) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  };
  const countUnread = () => {
    const entries = document.querySelectorAll("#chat-list [data-unread]");
    if (!entries.length && !document.getElementById("chat-list")) return;
    const total = [...entries].reduce((sum, entry) => sum + Number(entry.dataset.unread), 0);
    const title = document.title.replace(/^\(\d+\) /, "");
    document.title = total ? `(${total}) ${title}` : title;
  };
  markCurrentChat();
  countUnread();
  document.addEventListener("htmx:after:swap", () => {
    markCurrentChat();
    countUnread();
  });
}
