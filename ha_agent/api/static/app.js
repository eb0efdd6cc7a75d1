// The web chat page: talks to the agent's public chat API, as any client would.
// Streaming uses fetch and reads the server-sent events itself (EventSource cannot POST).
"use strict";

(() => {
  const KEY_STORE = "ha-agent.apiKey";
  const CONVERSATION_STORE = "ha-agent.conversationId";

  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const form = $("chat-form");
  const input = $("message");
  const sendButton = $("send");
  const errorBox = $("error");
  const keyPanel = $("key-panel");
  const keyToggle = $("key-toggle");
  const keyInput = $("key-input");
  const keyState = $("key-state");
  const conversationLabel = $("conversation-label");

  let conversationId = localStorage.getItem(CONVERSATION_STORE);
  let inFlight = null; // the AbortController of the turn being answered

  // --- small helpers --------------------------------------------------------------------------

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (name === "className") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  // JSON, indented, with each part that fits on a short line kept on one line.
  function pretty(value, indent = "") {
    if (value === undefined || value === null) return "—";
    if (typeof value === "string" && indent === "") return value;
    const flat = JSON.stringify(value);
    if (flat === undefined || typeof value !== "object" || flat.length + indent.length <= 64) return flat;
    const inner = `${indent}  `;
    if (Array.isArray(value)) {
      return `[\n${value.map((v) => inner + pretty(v, inner)).join(",\n")}\n${indent}]`;
    }
    const fields = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner)}`);
    return `{\n${fields.join(",\n")}\n${indent}}`;
  }

  function parseJson(text) {
    if (typeof text !== "string") return text;
    try { return JSON.parse(text); } catch { return text; }
  }

  function brief(args) {
    if (!args || typeof args !== "object") return args ? String(args) : "";
    return Object.entries(args)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ");
  }

  function ms(value) {
    if (typeof value !== "number") return "—";
    return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
  }

  function authHeaders(extra = {}) {
    const key = localStorage.getItem(KEY_STORE);
    return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
  }

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function failure(response) {
    let detail = response.statusText || "request failed";
    try {
      const body = await response.json();
      if (typeof body.detail === "string") detail = body.detail;
      else if (Array.isArray(body.detail)) detail = body.detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
    } catch { /* not JSON: keep the status text */ }
    return new ApiError(response.status, detail);
  }

  function explain(error) {
    if (error instanceof ApiError) {
      if (error.status === 401) {
        openKeyPanel();
        return localStorage.getItem(KEY_STORE)
          ? "The saved API key was not accepted: enter the right key under “API key”."
          : "This server needs an API key: enter the API key under “API key”.";
      }
      return `${error.message} (HTTP ${error.status})`;
    }
    if (error instanceof TypeError) return "Cannot reach the agent: is it running? Check the connection and try again.";
    return error.message || String(error);
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function setConversation(id) {
    conversationId = id;
    if (id) localStorage.setItem(CONVERSATION_STORE, id);
    else localStorage.removeItem(CONVERSATION_STORE);
    conversationLabel.textContent = id ? `Conversation ${id.slice(0, 8)}` : "";
    conversationLabel.title = id || "";
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  function keepInView(wasNearBottom) {
    if (wasNearBottom) log.scrollTop = log.scrollHeight;
  }

  // --- rendering ------------------------------------------------------------------------------

  function clearLog() {
    log.replaceChildren();
  }

  function showEmpty() {
    if (!log.querySelector(".msg")) {
      clearLog();
      log.append(el("div", { id: "empty", className: "empty" },
        el("p", { className: "empty-title", text: "Talk to your home" }),
        el("p", { text: "Try “turn on the kitchen lights” or “is the front door locked?”. Each answer lists the tools it used, how long each part took and the tokens it cost." })));
    }
  }

  function addUser(text) {
    $("empty")?.remove();
    const node = el("div", { className: "msg user" }, el("span", { className: "visually-hidden", text: "You: " }),
      el("span", { className: "text", text }));
    log.append(node);
    return node;
  }

  function renderCall(call) {
    const failed = call.error !== undefined && call.error !== null;
    const summary = el("summary", {},
      el("span", { className: "call-name", text: call.name || "tool" }),
      el("span", { className: "call-brief", text: brief(call.arguments) }),
      call.result === undefined && !failed ? null
        : el("span", { className: `call-status ${failed ? "failed" : "ok"}`, text: failed ? "error" : "ok" }),
      typeof call.duration_ms === "number" ? el("span", { className: "call-duration", text: ms(call.duration_ms) }) : null);
    const details = el("dl", {},
      el("dt", { text: "Arguments" }), el("dd", {}, el("pre", { text: pretty(call.arguments) })));
    if (failed) details.append(el("dt", { text: "Error" }), el("dd", { className: "error" }, el("pre", { text: pretty(call.error) })));
    else if (call.result !== undefined) details.append(el("dt", { text: "Result" }), el("dd", {}, el("pre", { text: pretty(call.result) })));
    return el("li", {}, el("details", { className: "call", "data-tool": call.name || "" }, summary, details));
  }

  function renderMeta(result) {
    const items = [];
    const chip = (label, value) => items.push(el("li", {}, `${label} `, el("b", { text: value })));
    if (result.path) chip("answered by", result.path === "llm" ? "model" : result.path);
    const t = result.timings || {};
    if (t.total_ms !== undefined) {
      chip("context", ms(t.context_ms));
      chip("model", ms(t.llm_ms));
      chip("tools", ms(t.tools_ms));
      chip("total", ms(t.total_ms));
    }
    const u = result.usage || {};
    if (u.prompt_tokens !== undefined) {
      chip("tokens in", String(u.prompt_tokens));
      chip("out", String(u.completion_tokens ?? 0));
      chip("cached", String(u.cached_tokens ?? 0));
    }
    return items;
  }

  // One assistant turn: its reply, its tool calls (by id), its numbers.
  function addTurn() {
    $("empty")?.remove();
    const reply = el("div", { className: "reply" });
    const calls = el("ul", { className: "calls", "aria-label": "Tool calls" });
    const meta = el("ul", { className: "meta", "aria-label": "Timings and tokens" });
    const problem = el("div", { className: "turn-error" });
    const node = el("article", { className: "msg assistant", "aria-label": "Assistant" }, reply, calls, problem, meta);
    log.append(node);
    const byId = new Map();
    return {
      node,
      pending(on) { node.classList.toggle("pending", on); node.setAttribute("aria-busy", String(on)); },
      appendText(delta) { const b = nearBottom(); reply.textContent += delta; keepInView(b); },
      setText(text) { reply.textContent = text; },
      call(data) {
        const b = nearBottom();
        const merged = { ...(byId.get(data.id)?.data || {}), ...data };
        const item = renderCall(merged);
        const old = byId.get(data.id);
        if (old) {
          item.querySelector("details").open = old.item.querySelector("details").open;
          old.item.replaceWith(item);
        } else calls.append(item);
        byId.set(data.id, { data: merged, item });
        keepInView(b);
      },
      finish(result) {
        if (result.reply !== undefined) reply.textContent = result.reply;
        for (const c of result.tool_calls || []) this.call(c);
        meta.replaceChildren(...renderMeta(result));
        this.pending(false);
      },
      fail(message) { problem.textContent = message; this.pending(false); },
    };
  }

  // A stored conversation: user and assistant text; an assistant's tool calls joined with the
  // tool messages that answered them. Timings and usage are not stored, so older turns show none.
  function renderConversation(messages) {
    clearLog();
    let turn = null;
    const calls = new Map();
    for (const m of messages) {
      if (m.role === "user") {
        addUser(m.content || "");
        turn = null;
      } else if (m.role === "assistant") {
        turn ??= addTurn();
        for (const tc of m.tool_calls || []) {
          const call = { id: tc.id, name: tc.function?.name ?? tc.name, arguments: parseJson(tc.function?.arguments ?? tc.arguments) };
          calls.set(call.id, turn);
          turn.call(call);
        }
        if (m.content) turn.appendText(turn.node.querySelector(".reply").textContent ? `\n${m.content}` : m.content);
      } else if (m.role === "tool") {
        const owner = calls.get(m.tool_call_id);
        if (!owner) continue;
        const content = parseJson(m.content);
        const failed = content && typeof content === "object" && !Array.isArray(content)
          && Object.keys(content).length === 1 && "error" in content;
        owner.call(failed ? { id: m.tool_call_id, error: content.error } : { id: m.tool_call_id, result: content });
      }
    }
    showEmpty();
    log.scrollTop = log.scrollHeight;
  }

  // --- the API --------------------------------------------------------------------------------

  async function* readEvents(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      buffer = buffer.replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (!line || line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event = text;
          else if (field === "data") data.push(text);
        }
        if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
      }
    }
  }

  async function loadConversation() {
    if (!conversationId) { showEmpty(); return; }
    try {
      const response = await fetch(`/api/v1/conversations/${encodeURIComponent(conversationId)}`, { headers: authHeaders() });
      if (response.status === 404) { setConversation(null); showEmpty(); return; }
      if (!response.ok) throw await failure(response);
      const conversation = await response.json();
      renderConversation(conversation.messages || []);
      showError("");
    } catch (error) {
      showEmpty();
      showError(explain(error));
    }
  }

  async function send(text, retried = false) {
    const controller = new AbortController();
    inFlight = controller;
    setBusy(true);
    showError("");
    const asked = retried ? [...log.querySelectorAll(".msg.user")].pop() : addUser(text);
    const turn = addTurn();
    turn.pending(true);
    log.scrollTop = log.scrollHeight;
    let started = false;
    let finished = false;
    try {
      const response = await fetch("/api/v1/chat", {
        method: "POST",
        headers: authHeaders({ "Content-Type": "application/json", Accept: "text/event-stream" }),
        body: JSON.stringify({ message: text, conversation_id: conversationId, stream: true }),
        signal: controller.signal,
      });
      if (response.status === 404 && conversationId && !retried) {
        // The stored conversation was deleted: start a new one with the same message.
        turn.node.remove();
        setConversation(null);
        return send(text, true);
      }
      if (!response.ok) throw await failure(response);
      for await (const { event, data } of readEvents(response.body)) {
        if (event === "start") { started = true; setConversation(data.conversation_id); }
        else if (event === "text") turn.appendText(data.delta);
        else if (event === "tool_call") turn.call(data);
        else if (event === "done") { turn.finish(data); finished = true; }
        else if (event === "error") throw new ApiError(data.status, data.detail);
      }
      if (!finished) throw new Error("The answer was cut off: try again.");
    } catch (error) {
      if (controller.signal.aborted) return;
      const message = explain(error);
      showError(message);
      if (!started && error instanceof ApiError && error.status < 500) {
        // Refused before it was stored (no key, a field to fix): give the text back to edit.
        turn.node.remove();
        asked?.remove();
        if (!input.value) { input.value = text; autosize(); }
        showEmpty();
      } else turn.fail(message);
    } finally {
      if (inFlight === controller) { inFlight = null; setBusy(false); }
    }
  }

  // --- the controls ---------------------------------------------------------------------------

  function setBusy(busy) {
    sendButton.disabled = busy;
    sendButton.textContent = busy ? "Sending…" : "Send";
    log.setAttribute("aria-busy", String(busy));
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 192)}px`;
  }

  function submit() {
    const text = input.value.trim();
    if (!text || inFlight) return;
    input.value = "";
    autosize();
    send(text);
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
  input.addEventListener("input", autosize);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });

  $("new-conversation").addEventListener("click", () => {
    inFlight?.abort();
    inFlight = null;
    setBusy(false);
    setConversation(null);
    clearLog();
    showEmpty();
    showError("");
    input.focus();
  });

  function refreshKeyState() {
    const saved = Boolean(localStorage.getItem(KEY_STORE));
    keyState.textContent = saved ? "A key is saved in this browser." : "No key saved.";
    keyToggle.textContent = saved ? "API key ✓" : "API key";
  }

  function openKeyPanel() {
    keyPanel.hidden = false;
    keyToggle.setAttribute("aria-expanded", "true");
    keyInput.focus();
  }

  keyToggle.addEventListener("click", () => {
    if (keyPanel.hidden) openKeyPanel();
    else { keyPanel.hidden = true; keyToggle.setAttribute("aria-expanded", "false"); }
  });

  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = keyInput.value.trim();
    if (!key) return;
    localStorage.setItem(KEY_STORE, key);
    keyInput.value = ""; // never shown again
    refreshKeyState();
    keyPanel.hidden = true;
    keyToggle.setAttribute("aria-expanded", "false");
    showError("");
    if (!log.querySelector(".msg")) loadConversation();
    input.focus();
  });

  $("key-forget").addEventListener("click", () => {
    localStorage.removeItem(KEY_STORE);
    keyInput.value = "";
    refreshKeyState();
  });

  refreshKeyState();
  setConversation(conversationId);
  loadConversation();
  input.focus();
})();
