// Edit and Delete on your own messages. "Edit" (or Up arrow in an empty
// Message box: your last message) puts the message's text in the composer,
// which then saves it instead of sending ("Save"; Escape or "Cancel edit"
// gives the draft back). "Delete" asks once, in the message. The server's push
// replaces the message in place for both people; nothing is announced as new.
// Without this script the same links open the edit form and a page that asks.
"use strict";

{
  const composer = document.getElementById("composer");
  if (composer && Parley.messages) setUpEditing(composer, Parley.messages);

  function setUpEditing(composer, messages) {
    const { csrf, drafts } = Parley;
    const text = composer.querySelector("textarea");
    const file = composer.querySelector("input[type=file]");
    const clientId = () => composer.querySelector("input[name=client_id]");
    const bar = document.getElementById("editing");
    const cancel = document.getElementById("cancel-edit");
    const send = document.getElementById("send");
    const error = document.getElementById("composer-error");
    const status = document.getElementById("send-status");
    const confirmTemplate = document.getElementById("delete-confirm");
    const sendAction = composer.dataset.sendAction;
    const newId = () => crypto.randomUUID().replaceAll("-", "");
    // {id, action, original, draft}: the message being edited, and the draft it stood in for.
    let editing = composer.dataset.editing
      ? { id: composer.dataset.editing, action: composer.getAttribute("action"), original: text.value, draft: "" }
      : null;

    const sayError = (message) => {
      error.replaceChildren(...(message ? [Object.assign(document.createElement("p"), { textContent: message })] : []));
      if (message) text.setAttribute("aria-invalid", "true");
      else text.removeAttribute("aria-invalid");
    };
    const describedBy = (on) => {
      const ids = text.getAttribute("aria-describedby").split(" ").filter((id) => id && id !== "editing-label");
      text.setAttribute("aria-describedby", (on ? ["editing-label", ...ids] : ids).join(" "));
    };
    const setText = (value) => {
      text.value = value;
      text.dispatchEvent(new Event("input")); // the box's height (and the draft, put right on finishing)
    };

    function start(link) {
      const row = link.closest(".message-row");
      const shown = row.querySelector(".bubble > .message-text:not(.message-deleted)");
      if (editing) document.getElementById(`m-${editing.id}`)?.classList.remove("being-edited");
      editing = { id: row.id.slice(2), action: link.pathname, original: shown?.textContent ?? "", draft: editing ? editing.draft : text.value };
      row.classList.add("being-edited");
      composer.action = editing.action;
      composer.dataset.editing = editing.id;
      composer.classList.add("editing");
      bar.hidden = false;
      cancel.href = `#${row.id}`;
      send.textContent = "Save";
      describedBy(true);
      sayError(null);
      setText(editing.original);
      text.focus();
      text.setSelectionRange(text.value.length, text.value.length);
    }

    function finish(said) {
      const { id, draft } = editing;
      editing = null;
      document.getElementById(`m-${id}`)?.classList.remove("being-edited");
      composer.action = sendAction;
      delete composer.dataset.editing;
      composer.classList.remove("editing");
      bar.hidden = true;
      send.textContent = "Send";
      describedBy(false);
      sayError(null);
      setText(draft);
      drafts.save(draft);
      status.textContent = said;
      text.focus();
      return id;
    }

    messages.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-change]");
      if (!link) return;
      event.preventDefault();
      if (link.dataset.change === "edit") start(link);
      else askToDelete(link);
    });
    cancel.addEventListener("click", (event) => {
      if (!editing) return;
      event.preventDefault();
      finish("Edit cancelled.");
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && editing) {
        event.preventDefault();
        finish("Edit cancelled.");
      } else if (event.key === "ArrowUp" && !editing && !text.value && !file.files.length
                 && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
        const last = [...messages.querySelectorAll("a[data-change=edit]")].pop();
        if (!last) return;
        event.preventDefault();
        start(last);
      }
    });

    // Before composer.js's own submit (which sends): while editing, the form saves the edit.
    composer.addEventListener("submit", async (event) => {
      if (!editing) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      const value = text.value.trim();
      if (value === editing.original.trim()) return finish("Nothing changed.");
      const edit = editing;
      let response;
      try {
        response = await fetch(edit.action, {
          method: "POST",
          body: new URLSearchParams({ text: value, client_id: clientId().value }),
          headers: { "HX-Request": "true", "X-CSRFToken": csrf },
          signal: AbortSignal.timeout(10_000),
        });
      } catch {
        sayError("Parley did not answer. Your edit is still here: try again.");
        return;
      }
      if (editing !== edit) return; // cancelled meanwhile
      if (response.ok) {
        clientId().value = newId();
        finish("Message edited.");
        return;
      }
      const answer = new DOMParser().parseFromString(await response.text(), "text/html").body;
      sayError(answer.textContent.trim() || `The server answered ${response.status}.`);
    }, { capture: true });

    // "Delete" asks in the message: "Delete this message for both of you?" Delete / Cancel.
    function askToDelete(link) {
      const article = link.closest(".message");
      const open = article.querySelector(".delete-confirm");
      if (open) return open.querySelector("button[type=submit]").focus();
      const form = confirmTemplate.content.firstElementChild.cloneNode(true);
      const question = form.querySelector(".delete-question");
      question.id = `delete-question-${article.parentElement.id}`;
      form.querySelector("button[type=submit]").setAttribute("aria-describedby", question.id);
      form.action = link.pathname;
      link.closest(".message-actions").hidden = true;
      article.append(form);
      const close = () => {
        form.remove();
        link.closest(".message-actions").hidden = false;
        link.focus();
      };
      form.querySelector("[data-cancel]").addEventListener("click", close);
      form.addEventListener("keydown", (event) => {
        if (event.key === "Escape") close();
      });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const reason = form.querySelector(".failure-reason");
        let response;
        try {
          response = await fetch(form.action, {
            method: "POST",
            headers: { "HX-Request": "true", "X-CSRFToken": csrf },
            signal: AbortSignal.timeout(10_000),
          });
        } catch {
          reason.textContent = "Parley did not answer. Try again.";
          return;
        }
        if (!response.ok) {
          const answer = new DOMParser().parseFromString(await response.text(), "text/html").body;
          reason.textContent = answer.textContent.trim() || `The server answered ${response.status}.`;
          return;
        }
        form.remove();
        if (editing?.id === article.parentElement.id.slice(2)) finish("");
        status.textContent = "Message deleted.";
        text.focus(); // the message is replaced for both people when the server has deleted it
      });
      form.querySelector("button[type=submit]").focus();
    }
  }
}
