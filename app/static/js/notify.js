// "Notify me in this browser" (Profile → Notifications): subscribes this
// browser to Web Push through the service worker (notify-worker.js) and
// gives the server its subscription. Shown only where the browser can.
"use strict";

(function () {
  const box = document.getElementById("browser-push");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return;
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const start = document.getElementById("notify-browser");
  const stop = document.getElementById("stop-notifying-browser");
  const status = document.getElementById("browser-status");

  function applicationKey() {
    const text = box.dataset.key.replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(text + "=".repeat((4 - (text.length % 4)) % 4)), (c) => c.charCodeAt(0));
  }

  function showSubscribed(subscribed) {
    start.hidden = subscribed;
    stop.hidden = !subscribed;
  }

  async function tell(url, subscription) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "HX-Request": "true" },
      body: JSON.stringify(subscription),
    });
    status.textContent = (await response.text()).trim();
    return response.ok;
  }

  async function registration() {
    return navigator.serviceWorker.register(box.dataset.worker);
  }

  start.addEventListener("click", async () => {
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        status.textContent = "This browser will not show notifications: it was not allowed to. You can allow it in the browser's site settings.";
        return;
      }
      const worker = await registration();
      const subscription = await worker.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: applicationKey() });
      if (await tell(box.dataset.add, subscription.toJSON())) {
        showSubscribed(true);
        stop.focus();
      } else {
        await subscription.unsubscribe();
      }
    } catch (error) {
      status.textContent = "This browser could not be set up for notifications. Try again later.";
    }
  });

  stop.addEventListener("click", async () => {
    const worker = await navigator.serviceWorker.getRegistration(box.dataset.worker);
    const subscription = worker && (await worker.pushManager.getSubscription());
    if (subscription) {
      await tell(box.dataset.remove, { endpoint: subscription.endpoint });
      await subscription.unsubscribe();
    }
    showSubscribed(false);
    start.focus();
  });

  box.hidden = false;
  navigator.serviceWorker.getRegistration(box.dataset.worker)
    .then((worker) => worker && worker.pushManager.getSubscription())
    .then((subscription) => showSubscribed(Boolean(subscription)))
    .catch(() => showSubscribed(false));
})();
