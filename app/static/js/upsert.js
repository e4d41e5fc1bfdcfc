// Swap style "upsert", for pushes and earlier messages: put each incoming
// element in its place in the target. An element already on the page (same
// id) is replaced, unless the page's copy is further along (data-version: a
// message goes Sending, Sent, Seen and never back). New elements are placed by
// data-key, ascending, or descending when the target says data-order="desc";
// an element without a key goes last, and one keyed past data-newest not at all.
"use strict";

htmx.registerExtension("parley-upsert", {
  handle_swap(style, target, fragment) {
    if (style !== "upsert") return false;
    const descending = target.dataset.order === "desc";
    const comesBefore = (key, other) => other === undefined || (descending ? key > other : key < other);
    for (const incoming of [...fragment.children]) {
      const current = incoming.id && document.getElementById(incoming.id);
      // A log opened at an older message holds no newer ones: they wait behind "Load newer messages".
      if (!current && target.dataset.newest && incoming.dataset.key > target.dataset.newest) continue;
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
