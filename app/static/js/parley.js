// Parley's page script: the little that HTML and htmx cannot say. Every page
// works without it. Each file is a plain script at the end of the body, after
// htmx and its extensions (so each runs before htmx starts, on
// DOMContentLoaded: the page is all there and no event is missed), and shares
// what others need through `Parley`. This one is on every page.
"use strict";

const Parley = {
  root: document.documentElement,
  csrf: document.querySelector("meta[name=csrf-token]").content,
  live: document.getElementById("live"),
};
Parley.chatId = Parley.live?.dataset.chatId || null;
Parley.root.classList.add("js");

// The signed-in page's regions, fetched afresh.
Parley.refreshRegions = () => htmx.ajax("GET", location.href, { target: "#app", select: "#app", swap: "outerMorph" });

// Focus never drops to the page because a swap replaced the focused element:
// it goes to the element with the same id in the new content.
{
  let focusedBeforeSwap = null;
  document.addEventListener("htmx:before:swap", () => {
    focusedBeforeSwap = document.activeElement?.id || null;
  });
  document.addEventListener("htmx:after:swap", () => {
    const lost = !document.activeElement || document.activeElement === document.body;
    if (lost && focusedBeforeSwap) document.getElementById(focusedBeforeSwap)?.focus({ preventScroll: true });
  });
}
