// Replies. Reply on a message (fetching "Replying to NAME: first words" into
// the composer) puts the cursor in the message box; Escape there, or
// Cancel reply, ends the reply; a send takes the reply with it and empties
// the box. "Go to the original" stays on the page when the original is here:
// it scrolls to it and puts focus on it.
"use strict";

{
  const composer = document.getElementById("composer");
  const text = document.getElementById("message-text");
  const { messages, status } = { messages: Parley.messages, status: document.getElementById("send-status") };

  const replyBox = () => document.getElementById("composer-reply");
  const cancel = () => {
    const box = replyBox();
    if (!box || box.hidden) return false;
    box.replaceChildren();
    box.hidden = true;
    status.textContent = "Reply cancelled.";
    return true;
  };

  if (composer) {
    // Reply (a link to the chat with ?reply=): "Replying to NAME: first words" fetched into the
    // composer instead, from the chat's /replying/<client_id>; then the cursor goes to the box.
    let asked = false;
    document.addEventListener("click", (event) => {
      const link = event.target.closest(".reply-link");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      const url = new URL(link.href);
      asked = true;
      htmx.ajax("GET", `${url.pathname}/replying/${url.searchParams.get("reply")}`, { target: "#composer-reply", swap: "outerHTML" });
    });
    document.addEventListener("htmx:after:swap", () => {
      if (!asked || replyBox()?.hidden !== false) return;
      asked = false;
      text.focus();
    });
    composer.addEventListener("click", (event) => {
      if (!event.target.closest(".cancel-reply")) return;
      event.preventDefault();
      cancel();
      text.focus();
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && cancel()) event.preventDefault();
    });
    // After the composer's own handler has taken the form's fields (reply_to among them).
    composer.addEventListener("submit", () => {
      const box = replyBox();
      if (box && !box.hidden && !document.getElementById("composer-error").textContent.trim()) {
        box.replaceChildren();
        box.hidden = true;
      }
    });
  }

  messages.addEventListener("click", (event) => {
    const link = event.target.closest(".quote-link");
    const original = link && document.getElementById(link.dataset.original);
    if (!original) return; // not on this page: the link opens the chat there
    event.preventDefault();
    original.tabIndex = -1;
    original.scrollIntoView({ block: "center" });
    original.focus({ preventScroll: true });
  });
}
