// One invocation: what was asked, what the client would have assembled, the call's facts, its
// timeline, and its events (decoded frames of an event stream, or the events as JSON).
"use strict";

const AwsimInvocation = (() => {
  const $ = (id) => document.getElementById(id);
  const fmtMs = AwsimTimeline.fmtMs;
  let shown = null;

  function text(tag, value, cls) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    node.textContent = value;
    return node;
  }

  function pretty(value) {
    return JSON.stringify(value, null, 2);
  }

  // The answer as the client assembles it: text, then reasoning and tool calls apart.
  function answer(call) {
    const box = $("answer");
    const r = call.response;
    const parts = [];
    if (!r) {
      parts.push(text("p", call.state === "inProgress" ? "The answer is still being written." : "No answer.", "muted"));
    } else {
      if (r.reasoning) {
        const part = text("div", "", "answer-part reasoning");
        part.append(text("h4", "reasoning"), text("p", r.reasoning, "answer-text"));
        parts.push(part);
      }
      if (r.text) parts.push(text("p", r.text, "answer-text"));
      for (const tool of r.toolUses || []) {
        const part = text("div", "", "answer-part tool");
        part.append(text("h4", `tool call: ${tool.name}`), text("pre", pretty(tool.input), "code"));
        parts.push(part);
      }
      if (!r.text && !r.reasoning && !(r.toolUses || []).length) parts.push(text("p", "(no text)", "muted"));
    }
    if (call.error) parts.push(text("p", `${call.error.code}: ${call.error.message}`, "error"));
    box.replaceChildren(...parts);
  }

  // The facts of the call, with the headers that matter.
  function facts(call) {
    const usage = (call.response && call.response.usage) || {};
    const contentType = { eventstream: "application/vnd.amazon.eventstream", json: "application/json (a JSON array)" };
    const rows = [
      ["x-amzn-RequestId", call.requestId],
      ["time", call.time],
      ["operation", call.operation],
      ["model id (sent)", call.modelId],
      ["resolved to", call.resolvedModelId ?? "(did not resolve)"],
      ["region", call.region],
      ["state", call.state],
      ["status", call.status ?? "–"],
      ["stream format", call.format ? `${call.format} · ${contentType[call.format] || ""}` : null],
      ["frames", call.frames],
      ["stop reason", call.response && call.response.stopReason],
      ["input tokens", usage.inputTokens],
      ["output tokens", usage.outputTokens],
      ["time to first token", call.firstTokenMs != null ? fmtMs(call.firstTokenMs) : null],
      ["duration", call.totalMs != null ? fmtMs(call.totalMs) : null],
      ["rule", call.rule],
      ["backend model", call.backendModel],
    ];
    const nodes = [];
    for (const [name, value] of rows) {
      if (value == null || value === "") continue;
      nodes.push(text("dt", name), text("dd", String(value)));
    }
    for (const note of call.notes || []) nodes.push(text("dt", "note"), text("dd", note));
    $("facts").replaceChildren(...nodes);
  }

  function legend(counts, call) {
    const items = [
      ["l-text", `${counts.text} text`],
      ["l-reasoning", `${counts.reasoning} reasoning`],
      ["l-tool", `${counts.tool} tool input`],
      ["l-event", `${counts.event} other events`],
    ];
    const nodes = [];
    for (const [cls, label] of items) {
      const swatch = document.createElement("i");
      swatch.className = cls;
      nodes.push(swatch, document.createTextNode(label));
    }
    if (call.eventsOmitted) nodes.push(document.createTextNode(` · ${call.eventsOmitted} events not kept`));
    $("timeline-legend").replaceChildren(...nodes);
  }

  // Shows `call` (the per-call view of the log, with `events`).
  function show(call) {
    const same = shown && shown.requestId === call.requestId;
    shown = call;
    $("detail").hidden = false;
    $("detail-title").textContent = `${call.operation} · ${call.modelId}`;
    const error = $("detail-error");
    error.hidden = !call.error;
    error.textContent = call.error ? `${call.error.code}: ${call.error.message}` : "";
    const counts = AwsimTimeline.render($("timeline"), call);
    legend(counts, call);
    answer(call);
    facts(call);
    $("request").textContent = call.request == null ? "(no body)" : pretty(call.request);
    const events = (call.events || []).length;
    $("event-count").textContent = `${events} kept${call.eventsOmitted ? `, ${call.eventsOmitted} not kept` : ""}`;
    $("show-frames").hidden = call.format !== "eventstream";
    if (!same) $("frames").hidden = true;
  }

  function hide() {
    shown = null;
    $("detail").hidden = true;
  }

  async function frames(api) {
    if (!shown) return;
    const out = $("frames");
    out.hidden = false;
    out.textContent = "…";
    try {
      out.textContent = await api.text(`/_awsim/invocations/${encodeURIComponent(shown.requestId)}/frames`);
    } catch (err) {
      out.textContent = String(err.message || err);
    }
  }

  function eventsAsJson() {
    if (!shown) return;
    const out = $("frames");
    out.hidden = false;
    out.textContent = pretty(shown.events || []);
  }

  // Re-renders the timeline at the detail pane's new width.
  function resized() {
    if (shown) AwsimTimeline.render($("timeline"), shown);
  }

  return { show, hide, frames, eventsAsJson, resized, current: () => shown };
})();
