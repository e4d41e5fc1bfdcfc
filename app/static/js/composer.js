// The composer. Enter sends, Shift+Enter starts a new line. A send shows the
// message at once as Sending; the page sends one message at a time, in order.
// A send that cannot reach the server, or that it refuses, leaves the message
// "Not sent" with Retry (the same client_id, so never doubled) and Delete.
"use strict";

{
  const composer = document.getElementById("composer");
  if (composer) {
    setUpComposer(composer);
    setUpTyping(composer);
  }

  function setUpComposer(composer) {
    const { csrf, chatId, messages, toBottom, drafts, unsent, clockLabel, sameDay } = Parley;
    const SEND_TIMEOUT = 10_000;
    const megabytes = (bytes) => `${Math.round((bytes / 1048576) * 10) / 10} MB`;
    const newClientId = () => crypto.randomUUID().replaceAll("-", "");
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
    const queue = [];
    let busy = false;
    let preview = null;

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
        row.classList.add("continued");
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

    function fail(id, reason) {
      const row = document.getElementById(`m-${id}`);
      if (!row?.classList.contains("local")) return outbox.delete(id); // the server has it after all
      row.classList.replace("status-sending", "failed");
      row.querySelector(".message-status").textContent = "Not sent";
      row.querySelector(".failure-reason").textContent = reason;
      row.querySelector(".message-failure").hidden = false;
      status.textContent = `Message not sent. ${reason} Retry or delete it.`;
    }

    async function deliver(id) {
      if (!outbox.has(id)) return; // deleted, or the server had it already
      const { data } = outbox.get(id);
      const withImage = data.get("image")?.size > 0;
      // Without an image, a plain form: multipart costs the server far more to parse.
      const body = withImage ? data : new URLSearchParams([...data].filter(([, value]) => typeof value === "string"));
      try {
        const response = await fetch(composer.action, {
          method: "POST",
          body,
          headers: { "HX-Request": "true", "X-CSRFToken": csrf },
          signal: AbortSignal.timeout(SEND_TIMEOUT),
        });
        if (response.headers.get("HX-Redirect")) return location.assign(response.headers.get("HX-Redirect"));
        if (response.ok) return unsent.drop(id);
        const answer = new DOMParser().parseFromString(await response.text(), "text/html").body.textContent.trim();
        fail(id, answer || `The server answered ${response.status}.`);
      } catch {
        fail(id, navigator.onLine ? "Parley did not answer." : "You are offline.");
      }
    }

    async function sendQueued() {
      if (busy) return;
      busy = true;
      while (queue.length) await deliver(queue.shift());
      busy = false;
    }

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
        });
        row.remove();
        status.textContent = "Message deleted.";
      } else if (outbox.has(id)) {
        row.classList.replace("failed", "status-sending");
        row.querySelector(".message-failure").hidden = true;
        row.querySelector(".message-status").textContent = "Sending";
        status.textContent = "Sending again.";
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

  // Typing: at most one "typing" every 2 s while keys go down; "stopped" on send,
  // on leaving the field, and after 5 s without a keystroke.
  function setUpTyping(composer) {
    const { tell } = Parley;
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
}
