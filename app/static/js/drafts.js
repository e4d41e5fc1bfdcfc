// Drafts: each chat keeps its unsent text in this browser, across navigation
// and reloads, until it is sent or the person signs out.
"use strict";

{
  const { root, chatId } = Parley;
  const draftKey = chatId && root.dataset.user ? `parley:draft:${root.dataset.user}:${chatId}` : null;
  const drafts = Parley.drafts = {
    load: () => (draftKey && localStorage.getItem(draftKey)) || "",
    save: (text) => draftKey && (text ? localStorage.setItem(draftKey, text) : localStorage.removeItem(draftKey)),
    clearAll: () => Object.keys(localStorage).filter((key) => key.startsWith("parley:")).forEach((key) => localStorage.removeItem(key)),
  };
  document.getElementById("sign-out")?.addEventListener("submit", drafts.clearAll);

  // Messages on their way, kept in this browser until the server has them: a page
  // left (or reloaded) before they went sends them from the next one. Text only:
  // an image stays with the page that chose it.
  const outboxKey = draftKey && draftKey.replace(":draft:", ":outbox:");
  const unsent = Parley.unsent = {
    all: () => (outboxKey && JSON.parse(localStorage.getItem(outboxKey) || "[]")) || [],
    store: (entries) => outboxKey && (entries.length ? localStorage.setItem(outboxKey, JSON.stringify(entries)) : localStorage.removeItem(outboxKey)),
    add: (id, text) => unsent.store([...unsent.all().filter((entry) => entry.id !== id), { id, text }]),
    drop: (id) => unsent.store(unsent.all().filter((entry) => entry.id !== id)),
  };
}
