// The inspector page: the invocation log, newest first and live (it polls the log with a cursor, so
// each poll carries only the calls that began or changed since the last), the rules in force,
// and the server's status. It speaks to awsim only through the /_awsim/ endpoints, with
// same-origin requests that send JSON, as awsim's guard on those endpoints asks.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const fmtMs = AwsimTimeline.fmtMs;
  const LOG_POLL_MS = 1000;
  const RULES_POLL_MS = 2000;
  const HEALTH_POLL_MS = 5000;
  // The most calls the page lists: the newest, however many the log keeps.
  const MAX_ROWS = 1000;

  const api = {
    async request(method, path, body) {
      const headers = { Accept: "application/json" };
      // State-changing calls say they send JSON (awsim refuses other content types there).
      if (method !== "GET") headers["Content-Type"] = "application/json";
      const resp = await fetch(path, { method, headers, body, cache: "no-store" });
      const raw = await resp.text();
      let json = null;
      try {
        json = raw ? JSON.parse(raw) : null;
      } catch (_) {
        json = null;
      }
      if (!resp.ok) {
        const type = resp.headers.get("x-amzn-errortype") || `HTTP ${resp.status}`;
        throw new Error(`${type}: ${(json && json.message) || raw}`);
      }
      return { json, raw };
    },
    async get(path) {
      return (await this.request("GET", path)).json;
    },
    async text(path) {
      return (await this.request("GET", path)).raw;
    },
    async send(method, path, body) {
      return (await this.request(method, path, body)).json;
    },
  };

  // ---- the invocation log ----

  const calls = new Map(); // seq → call (the list view's entry)
  const rows = new Map(); // seq → <tr>
  let cursor = null; // the log's next sequence number, once read
  let selected = null; // request id of the call shown
  const known = { models: new Set(), operations: new Set() };

  function status(call) {
    if (call.state === "inProgress") return "inProgress";
    if (call.state === "disconnected" || call.state === "aborted") return "disconnected";
    if (call.error || (call.status != null && call.status >= 400)) return "error";
    return "ok";
  }

  function statusText(call) {
    const s = status(call);
    if (s === "inProgress") return ["in progress", "s-progress"];
    if (s === "disconnected") return [call.state === "aborted" ? "cut by a rule" : "client disconnected", "s-error"];
    if (call.error) return [`${call.status ?? ""} ${call.error.code}`.trim(), "s-error"];
    return [String(call.status ?? ""), s === "ok" ? "s-ok" : "s-error"];
  }

  function clock(rfc3339) {
    const d = new Date(rfc3339);
    if (isNaN(d)) return rfc3339;
    const pad = (n, w = 2) => String(n).padStart(w, "0");
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  function cell(row, value, cls) {
    const td = row.insertCell();
    td.textContent = value == null ? "" : String(value);
    if (cls) td.className = cls;
    return td;
  }

  function fillRow(row, call) {
    row.replaceChildren();
    row.dataset.requestId = call.requestId;
    row.dataset.status = status(call);
    cell(row, clock(call.time), "mono");
    cell(row, call.operation);
    const model = cell(row, "", "model mono");
    const sent = document.createElement("div");
    sent.textContent = call.modelId;
    model.append(sent);
    if (call.resolvedModelId && call.resolvedModelId !== call.modelId) {
      const resolved = document.createElement("div");
      resolved.className = "resolved";
      resolved.textContent = `→ ${call.resolvedModelId}`;
      model.append(resolved);
    }
    model.title = `${call.modelId}${call.resolvedModelId ? " → " + call.resolvedModelId : ""}`;
    const [label, cls] = statusText(call);
    const shown = cell(row, "", cls);
    const [code, ...why] = label.split(" ");
    shown.append(document.createTextNode(why.length && /^\d+$/.test(code) ? code : label));
    if (why.length && /^\d+$/.test(code)) {
      const error = document.createElement("div");
      error.className = "error-code";
      error.textContent = why.join(" ");
      shown.append(error);
    }
    const r = call.response;
    cell(row, r && r.stopReason);
    const usage = (r && r.usage) || {};
    cell(row, usage.inputTokens == null && usage.outputTokens == null ? "" : `${usage.inputTokens ?? "–"} / ${usage.outputTokens ?? "–"}`, "num");
    cell(row, call.firstTokenMs != null ? fmtMs(call.firstTokenMs) : "", "num");
    cell(row, call.totalMs != null ? fmtMs(call.totalMs) : "", "num");
    cell(row, call.rule, "mono");
    row.classList.toggle("selected", call.requestId === selected);
    row.hidden = !matches(call);
  }

  function matches(call) {
    const model = $("filter-model").value;
    const operation = $("filter-operation").value;
    const wanted = $("filter-status").value;
    if (model && call.modelId !== model && call.resolvedModelId !== model) return false;
    if (operation && call.operation !== operation) return false;
    if (wanted && status(call) !== wanted) return false;
    return true;
  }

  function learn(select, set, value) {
    if (!value || set.has(value)) return;
    set.add(value);
    const option = document.createElement("option");
    option.value = value;
    option.textContent = value;
    const after = [...select.options].slice(1).find((o) => o.value > value);
    select.insertBefore(option, after || null);
  }

  function upsert(call) {
    const seq = call.seq;
    calls.set(seq, call);
    learn($("filter-model"), known.models, call.modelId);
    learn($("filter-model"), known.models, call.resolvedModelId);
    learn($("filter-operation"), known.operations, call.operation);
    let row = rows.get(seq);
    if (!row) {
      row = document.createElement("tr");
      rows.set(seq, row);
      // Newest first: a new call goes above every older one.
      const body = $("invocation-rows");
      const newer = [...rows.keys()].filter((s) => s > seq);
      const before = newer.length ? rows.get(Math.min(...newer)).nextSibling : body.firstChild;
      body.insertBefore(row, newer.length ? before : body.firstChild);
    }
    fillRow(row, call);
  }

  function forget(seq) {
    calls.delete(seq);
    const row = rows.get(seq);
    if (row) row.remove();
    rows.delete(seq);
  }

  function refreshCounts() {
    let visible = 0;
    for (const row of rows.values()) if (!row.hidden) visible += 1;
    const total = calls.size;
    $("shown").textContent = visible === total ? `${total} calls` : `${visible} of ${total} calls`;
    $("empty").hidden = total > 0;
  }

  async function pollLog() {
    // From the oldest call still in progress (it may have ended since), else from the cursor.
    let since = cursor;
    for (const [seq, call] of calls) if (call.state === "inProgress" && (since == null || seq < since)) since = seq;
    const path = since == null ? `/_awsim/invocations?limit=${MAX_ROWS}` : `/_awsim/invocations?since=${since}&limit=${MAX_ROWS}`;
    const log = await api.get(path);
    const message = $("log-message");
    message.hidden = log.enabled !== false;
    message.textContent = log.enabled === false ? log.message : "";
    if (log.enabled === false) {
      for (const seq of [...calls.keys()]) forget(seq);
      refreshCounts();
      return;
    }
    // Calls the log dropped (its bound, a clear, a reset) leave the page too.
    for (const seq of [...calls.keys()]) if (seq < log.oldestSeq) forget(seq);
    let changedSelected = false;
    for (const call of [...log.invocations].reverse()) {
      const before = calls.get(call.seq);
      if (before && before.state === call.state && before.status === call.status) continue;
      upsert(call);
      if (call.requestId === selected) changedSelected = true;
    }
    const seqs = [...calls.keys()].sort((a, b) => a - b);
    for (const seq of seqs.slice(0, Math.max(0, seqs.length - MAX_ROWS))) forget(seq);
    cursor = log.nextSeq;
    // The ring holds the calls numbered oldestSeq to nextSeq - 1.
    $("status-log").textContent = `${log.nextSeq - log.oldestSeq} / ${log.capacity} calls`;
    refreshCounts();
    if (changedSelected) open(selected);
  }

  async function open(requestId) {
    selected = requestId;
    for (const row of rows.values()) row.classList.toggle("selected", row.dataset.requestId === requestId);
    try {
      const call = await api.get(`/_awsim/invocations/${encodeURIComponent(requestId)}`);
      if (selected === requestId) AwsimInvocation.show(call);
    } catch (err) {
      $("detail").hidden = false;
      $("detail-error").hidden = false;
      $("detail-error").textContent = err.message;
    }
  }

  function applyFilters() {
    for (const [seq, row] of rows) row.hidden = !matches(calls.get(seq));
    refreshCounts();
  }

  // ---- rules ----

  let rulesShown = "";

  const EXAMPLES = {
    respond: {
      match: { prompt: { contains: "weather" } },
      respond: { text: "It is sunny in Paris, 24 °C.", tokenMs: 40 },
    },
    throttle: {
      match: { modelId: "anthropic.*" },
      fault: { kind: "throttling", retryAfterSeconds: 2 },
    },
    midstream: {
      match: { operation: "ConverseStream" },
      fault: { kind: "modelStreamErrorException", at: { afterTokens: 5 } },
      times: 1,
    },
    paced: {
      respond: { text: "A slow answer: one word every 50 ms, after 300 ms of thought.", firstTokenMs: 300, tokenMs: 50 },
      times: 1,
    },
  };

  function describeAction(rule) {
    const action = {};
    for (const key of ["respond", "fault", "quota", "times", "probability"]) if (key in rule) action[key] = rule[key];
    return JSON.stringify(action);
  }

  async function pollRules() {
    const listed = await api.get("/_awsim/rules");
    const raw = JSON.stringify(listed.rules);
    $("rule-count").textContent = listed.rules.length ? `(${listed.rules.length})` : "";
    if (raw === rulesShown) return;
    rulesShown = raw;
    const body = $("rule-rows");
    const out = [];
    for (const rule of listed.rules) {
      const row = document.createElement("tr");
      row.dataset.ruleId = rule.id;
      cell(row, rule.id, "mono");
      cell(row, JSON.stringify(rule.match ?? {}), "json");
      cell(row, describeAction(rule), "json");
      cell(row, rule.hits, "num hits");
      cell(row, rule.source);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "delete-rule";
      remove.textContent = "Delete";
      remove.title = `DELETE /_awsim/rules/${rule.id}`;
      remove.addEventListener("click", () => act(() => api.send("DELETE", `/_awsim/rules/${encodeURIComponent(rule.id)}`), `Deleted ${rule.id}.`));
      row.insertCell().append(remove);
      out.push(row);
    }
    body.replaceChildren(...out);
    $("no-rules").hidden = listed.rules.length > 0;
  }

  // Runs a state-changing call, says how it went, and shows its effect at once.
  async function act(call, done) {
    const result = $("rule-result");
    try {
      const answer = await call();
      result.className = "message ok";
      result.textContent = typeof done === "function" ? done(answer) : done;
    } catch (err) {
      result.className = "message error";
      result.textContent = err.message;
    }
    await Promise.allSettled([pollRules(), pollLog()]);
  }

  function addRule(ev) {
    ev.preventDefault();
    const text = $("rule-json").value;
    try {
      JSON.parse(text);
    } catch (err) {
      $("rule-result").className = "message error";
      $("rule-result").textContent = `Not JSON: ${err.message}`;
      return;
    }
    act(() => api.send("POST", "/_awsim/rules", text), (answer) => `Added ${answer.ids.join(", ")}.`);
  }

  // ---- status ----

  let health = null;
  let healthAt = 0;

  function uptime() {
    if (!health) return;
    const s = Math.floor(health.uptimeSeconds + (Date.now() - healthAt) / 1000);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    $("status-uptime").textContent = h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
  }

  async function pollHealth() {
    health = await api.get("/_awsim/health");
    healthAt = Date.now();
    $("status-version").textContent = health.version;
    uptime();
    const backend = $("status-backend");
    const probe = health.backendStatus;
    const dot = document.createElement("span");
    dot.className = "dot" + (probe ? (probe.reachable === false ? " down" : " up") : " up");
    dot.title = probe ? (probe.reachable === false ? `not answering: ${probe.error || ""}` : "answering") : "canned answers";
    backend.replaceChildren(dot, document.createTextNode(typeof health.backend === "string" ? health.backend : JSON.stringify(health.backend)));
    $("status-format").textContent = health.streamFormat;
    const log = health.invocationLog;
    $("status-log").textContent = log ? (log.capacity ? `${log.size} / ${log.capacity} calls` : "off") : "–";
  }

  // ---- wiring ----

  function tab(panel) {
    for (const button of document.querySelectorAll(".tab")) {
      const on = button.dataset.panel === panel;
      button.setAttribute("aria-selected", String(on));
      $(`panel-${button.dataset.panel}`).hidden = !on;
    }
    if (panel === "invocations") AwsimInvocation.resized();
  }

  // Polls `fn` every `ms`; a failure (awsim stopped) shows in the status bar and polling goes on.
  function every(ms, fn) {
    const run = async () => {
      try {
        await fn();
        document.body.classList.remove("offline");
      } catch (err) {
        document.body.classList.add("offline");
        $("status-version").textContent = "unreachable";
      }
      setTimeout(run, ms);
    };
    run();
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll(".tab")) button.addEventListener("click", () => tab(button.dataset.panel));
    for (const id of ["filter-model", "filter-operation", "filter-status"]) $(id).addEventListener("change", applyFilters);
    $("invocation-rows").addEventListener("click", (ev) => {
      const row = ev.target.closest("tr");
      if (row && row.dataset.requestId) open(row.dataset.requestId);
    });
    $("detail-close").addEventListener("click", () => {
      selected = null;
      for (const row of rows.values()) row.classList.remove("selected");
      AwsimInvocation.hide();
    });
    $("show-frames").addEventListener("click", () => AwsimInvocation.frames(api));
    $("show-events").addEventListener("click", () => AwsimInvocation.eventsAsJson());
    $("clear-log").addEventListener("click", () => act(() => api.send("DELETE", "/_awsim/invocations"), (a) => `Cleared ${a.cleared} calls.`));
    $("rule-form").addEventListener("submit", addRule);
    for (const button of document.querySelectorAll("[data-example]")) {
      button.addEventListener("click", () => {
        $("rule-json").value = JSON.stringify(EXAMPLES[button.dataset.example], null, 2);
      });
    }
    $("rule-json").value = JSON.stringify(EXAMPLES.throttle, null, 2);
    $("delete-rules").addEventListener("click", () => act(() => api.send("DELETE", "/_awsim/rules"), "Deleted every rule."));
    $("reset").addEventListener("click", () => {
      if (confirm("Reset awsim? Rules added here, hit counts, quotas, the invocation log and all control-plane state are forgotten.")) {
        act(() => api.send("POST", "/_awsim/reset"), "awsim was reset.");
      }
    });
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => AwsimInvocation.resized(), 100);
    });
    every(LOG_POLL_MS, pollLog);
    every(RULES_POLL_MS, pollRules);
    every(HEALTH_POLL_MS, pollHealth);
    setInterval(uptime, 1000);
  });
})();
