// Apple Health export upload: the file goes up in fixed-size chunks (PUT with Content-Range),
// each its own object in storage. The server answers which chunks it still misses, so picking
// the same file again after a dropped connection sends only those.
(function () {
  "use strict";
  const form = document.querySelector("[data-apple-health-upload]");
  if (!form) return;
  const input = form.querySelector("input[type=file]");
  const box = form.querySelector("[data-upload-progress]");
  const bar = form.querySelector("[data-upload-bar]");
  const label = form.querySelector("[data-upload-label]");
  const error = form.querySelector("[data-upload-error]");
  const button = form.querySelector("button[type=submit]");
  const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const RETRIES = 5;

  function showError(message) {
    error.textContent = message || form.dataset.errorGeneric;
    error.hidden = false;
  }

  function firstError(body) {
    if (body && body.errors) {
      const field = Object.keys(body.errors)[0];
      return body.errors[field][0];
    }
    return null;
  }

  function show(state) {
    const missing = state.missing.length;
    const total = Math.ceil(state.size_bytes / state.chunk_bytes);
    const percent = Math.floor(((total - missing) / total) * 100);
    bar.value = percent;
    label.textContent = form.dataset.sending + " " + percent + "%";
  }

  async function putChunk(state, file, offset) {
    const end = Math.min(offset + state.chunk_bytes, file.size);
    for (let attempt = 0; ; attempt++) {
      let response = null;
      try {
        response = await fetch(state.chunk_url, {
          method: "PUT",
          credentials: "same-origin",
          headers: {
            "X-CSRFToken": token,
            "Content-Type": "application/octet-stream",
            "Content-Range": "bytes " + offset + "-" + (end - 1) + "/" + file.size,
          },
          body: file.slice(offset, end),
        });
      } catch (err) {
        response = null; // the network dropped: try again after a pause
      }
      if (response) {
        const body = await response.json().catch(() => null);
        if (response.ok) return body;
        if (response.status < 500) throw new Error(firstError(body) || "");
      }
      if (attempt >= RETRIES) throw new Error("");
      await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** attempt));
    }
  }

  async function showImport(state) {
    const list = document.querySelector("[data-apple-health-exports]");
    const response = await fetch(state.progress_url, { credentials: "same-origin" });
    if (!response.ok || !list) return;
    const holder = document.createElement("div");
    holder.innerHTML = await response.text();
    const item = holder.firstElementChild;
    const old = document.getElementById(item.id);
    const empty = list.querySelector("[data-empty]");
    if (empty) empty.remove();
    if (old) old.replaceWith(item);
    else list.prepend(item);
    if (window.htmx) window.htmx.process(item);
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const file = input.files[0];
    if (!file) return;
    error.hidden = true;
    button.disabled = true;
    box.hidden = false;
    try {
      const data = new FormData();
      data.append("file_name", file.name);
      data.append("size_bytes", String(file.size));
      const started = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token },
        body: data,
      });
      let state = await started.json().catch(() => null);
      if (!started.ok) throw new Error(firstError(state) || "");
      show(state);
      for (const offset of state.missing.slice()) {
        state = await putChunk(state, file, offset);
        show(state);
      }
      label.textContent = form.dataset.sent;
      bar.value = 100;
      await showImport(state);
    } catch (err) {
      showError(err.message);
    } finally {
      button.disabled = false;
    }
  });
})();
