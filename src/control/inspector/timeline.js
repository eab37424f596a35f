// One call's stream on a time axis from the request's arrival: first byte, first token, each
// delta as a tick, the longest gap between deltas, an exception or a disconnection. Every kind of
// tick is one <path>, so a stream of thousands of events costs the same number of DOM nodes as a
// short one; the hover label finds the event under the pointer by binary search.
"use strict";

const AwsimTimeline = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const HEIGHT = 150;
  const PAD_LEFT = 12;
  const PAD_RIGHT = 12;
  // Vertical layout: two label rows, the delta band, the event band, the axis and its labels.
  const Y = { label1: 12, label2: 25, band: 34, bandEnd: 74, events: 80, eventsEnd: 92, axis: 100, axisLabel: 113, note: 131 };

  function fmtMs(ms) {
    if (ms == null || !isFinite(ms)) return "–";
    if (ms >= 10000) return (ms / 1000).toFixed(2) + " s";
    if (ms >= 100) return ms.toFixed(0) + " ms";
    if (ms >= 10) return ms.toFixed(1) + " ms";
    if (ms >= 1) return ms.toFixed(2) + " ms";
    return ms.toFixed(3) + " ms";
  }

  // What an event carries: "text", "reasoning" or "tool" (a delta), "exception", or "event"
  // (start, stop, metadata). ConverseStream names its events; InvokeModelWithResponseStream
  // wraps each family's own chunk.
  function classify(e) {
    if (e.messageType === "exception" || /Exception$/.test(e.type || "")) return "exception";
    if (e.type === "contentBlockDelta") return deltaKind(e.payload && e.payload.delta);
    if (e.type === "chunk" && e.chunk && typeof e.chunk === "object") return chunkKind(e.chunk);
    return "event";
  }

  function deltaKind(d) {
    if (!d || typeof d !== "object") return "event";
    if (typeof d.text === "string") return "text";
    if (d.reasoningContent) return "reasoning";
    if (d.toolUse) return "tool";
    return "event";
  }

  function chunkKind(c) {
    if (c.type === "content_block_delta" && c.delta) {
      const t = c.delta.type;
      if (t === "text_delta") return "text";
      if (t === "thinking_delta" || t === "signature_delta") return "reasoning";
      if (t === "input_json_delta") return "tool";
      return "event";
    }
    if (c.contentBlockDelta) return deltaKind(c.contentBlockDelta.delta);
    return deltaText(c) ? "text" : "event";
  }

  // The text a chunk of the other families carries, if any.
  function deltaText(c) {
    for (const key of ["outputText", "generation", "completion", "text"]) {
      if (typeof c[key] === "string" && c[key] !== "") return c[key];
    }
    const first = (list) => (Array.isArray(list) && list.length ? list[0] : null);
    const out = first(c.outputs);
    if (out && typeof out.text === "string" && out.text !== "") return out.text;
    const choice = first(c.choices);
    if (choice) {
      const content = choice.delta ? choice.delta.content : choice.text;
      if (typeof content === "string" && content !== "") return content;
    }
    return "";
  }

  // A short description of one event, for the hover label.
  function describe(e, kind) {
    let said = "";
    if (e.type === "contentBlockDelta" && e.payload && e.payload.delta) {
      const d = e.payload.delta;
      said = d.text ?? (d.reasoningContent && d.reasoningContent.text) ?? (d.toolUse && d.toolUse.input) ?? "";
    } else if (e.chunk && typeof e.chunk === "object") {
      const c = e.chunk;
      said = (c.delta && (c.delta.text ?? c.delta.thinking ?? c.delta.partial_json)) ?? deltaText(c);
    } else if (kind === "exception" && e.payload) {
      said = e.payload.message || "";
    }
    said = String(said || "");
    if (said.length > 40) said = said.slice(0, 40) + "…";
    return (e.type || "event") + (said ? " " + JSON.stringify(said) : "");
  }

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text != null) node.textContent = text;
    return node;
  }

  // Places a label at x, flipped to end there when it would run past the right edge.
  function place(label, x, width, text) {
    label.textContent = text;
    label.setAttribute("x", x.toFixed(1));
    label.setAttribute("text-anchor", x > width * 0.7 ? "end" : "start");
    label.setAttribute("visibility", "visible");
  }

  function hide(...nodes) {
    for (const n of nodes) n.setAttribute("visibility", "hidden");
  }

  // Draws `call` (one invocation with `events`) into `container`; returns the counts drawn.
  function render(container, call) {
    const width = Math.max(320, container.clientWidth || 800);
    const events = call.events || [];
    const kinds = events.map(classify);
    const last = events.length ? events[events.length - 1].offsetMs : 0;
    const end = Math.max(call.totalMs || 0, last, call.firstTokenMs || 0);
    const span = end > 0 ? end : 1;
    const plot = width - PAD_LEFT - PAD_RIGHT;
    const xOf = (ms) => PAD_LEFT + (Math.min(Math.max(ms, 0), span) / span) * plot;

    const svg = el("svg", { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: "img", "aria-label": "timeline" });
    // The axis: five gridlines at fixed fractions of the span, so the node count never varies.
    let grid = "";
    const axisLabels = [];
    for (let i = 0; i <= 4; i++) {
      const x = PAD_LEFT + (plot * i) / 4;
      grid += `M${x.toFixed(1)} ${Y.band}V${Y.axis}`;
      const label = el("text", { x: x.toFixed(1), y: Y.axisLabel, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" }, fmtMs((span * i) / 4));
      axisLabels.push(label);
    }
    svg.append(el("path", { class: "grid", d: grid }));
    svg.append(el("path", { class: "axis", d: `M${PAD_LEFT} ${Y.axis}H${PAD_LEFT + plot}` }));
    svg.append(...axisLabels);

    // One path per kind of tick.
    const paths = { text: "", reasoning: "", tool: "", event: "" };
    const counts = { text: 0, reasoning: 0, tool: 0, event: 0, exception: 0 };
    let fault = null;
    let prevDelta = null;
    let gap = null;
    events.forEach((e, i) => {
      const kind = kinds[i];
      counts[kind] += 1;
      const x = xOf(e.offsetMs).toFixed(1);
      if (kind === "exception") {
        fault = fault || { at: e.offsetMs, name: e.type || "exception" };
      } else if (kind === "event") {
        paths.event += `M${x} ${Y.events}V${Y.eventsEnd}`;
      } else {
        paths[kind] += `M${x} ${Y.band}V${Y.bandEnd}`;
        if (prevDelta != null) {
          const g = e.offsetMs - events[prevDelta].offsetMs;
          if (!gap || g > gap.ms) gap = { ms: g, from: events[prevDelta].offsetMs, to: e.offsetMs };
        }
        prevDelta = i;
      }
    });
    for (const kind of ["event", "tool", "reasoning", "text"]) {
      svg.append(el("path", { class: `tick-${kind}`, "data-kind": kind, "data-count": counts[kind], d: paths[kind] || "M0 0" }));
    }

    // Marks: each always present, hidden when it does not apply.
    const byteLine = el("path", { class: "mark first-byte" });
    const byteLabel = el("text", { class: "label-byte", y: Y.label1 });
    const tokenLine = el("path", { class: "mark first-token" });
    const tokenLabel = el("text", { class: "label-token ttft", y: Y.label2 });
    const gapLine = el("path", { class: "gap" });
    const gapLabel = el("text", { class: "label-gap", y: Y.note });
    const faultLine = el("path", { class: "fault" });
    const faultLabel = el("text", { class: "label-fault", y: Y.label1 });
    const cutLine = el("path", { class: "cut" });
    const cutLabel = el("text", { class: "label-fault", y: Y.label2 });
    svg.append(byteLine, tokenLine, gapLine, faultLine, cutLine, byteLabel, tokenLabel, gapLabel, faultLabel, cutLabel);

    if (events.length) {
      const at = events[0].offsetMs;
      const x = xOf(at);
      byteLine.setAttribute("d", `M${x.toFixed(1)} ${Y.label1 + 2}V${Y.axis}`);
      place(byteLabel, x, width, `first byte ${fmtMs(at)}`);
    } else {
      hide(byteLine, byteLabel);
    }
    if (call.firstTokenMs != null) {
      const x = xOf(call.firstTokenMs);
      tokenLine.setAttribute("d", `M${x.toFixed(1)} ${Y.label2 + 2}V${Y.axis}`);
      place(tokenLabel, x, width, `TTFT ${fmtMs(call.firstTokenMs)}`);
    } else {
      hide(tokenLine, tokenLabel);
    }
    if (gap && gap.ms > 0) {
      const x1 = xOf(gap.from);
      const x2 = xOf(gap.to);
      gapLine.setAttribute("d", `M${x1.toFixed(1)} ${Y.note - 12}v4H${x2.toFixed(1)}v-4`);
      place(gapLabel, (x1 + x2) / 2, width, `longest gap ${fmtMs(gap.ms)}`);
    } else {
      hide(gapLine, gapLabel);
    }
    if (fault) {
      const x = xOf(fault.at);
      faultLine.setAttribute("d", `M${x.toFixed(1)} ${Y.label1 + 2}V${Y.axis}`);
      place(faultLabel, x, width, `${fault.name} ${fmtMs(fault.at)}`);
    } else {
      hide(faultLine, faultLabel);
    }
    if (call.state === "disconnected" || call.state === "aborted") {
      const x = xOf(call.totalMs || end);
      const what = call.state === "aborted" ? "connection cut" : "client disconnected";
      cutLine.setAttribute("d", `M${x.toFixed(1)} ${Y.label2 + 2}V${Y.axis}`);
      place(cutLabel, x, width, `${what} ${fmtMs(call.totalMs)}`);
    } else {
      hide(cutLine, cutLabel);
    }

    // Hover: one cursor and one label, moved to the nearest event.
    const cursor = el("path", { class: "cursor", visibility: "hidden" });
    const hover = el("text", { class: "hover-label", y: Y.note, visibility: "hidden" });
    svg.append(cursor, hover);
    svg.addEventListener("mousemove", (ev) => {
      if (!events.length) return;
      const box = svg.getBoundingClientRect();
      const t = ((ev.clientX - box.left - PAD_LEFT) / plot) * span;
      const i = nearest(events, t);
      const x = xOf(events[i].offsetMs);
      cursor.setAttribute("d", `M${x.toFixed(1)} ${Y.band - 4}V${Y.axis}`);
      cursor.setAttribute("visibility", "visible");
      hide(gapLabel);
      place(hover, x, width, `#${i + 1} ${fmtMs(events[i].offsetMs)} ${describe(events[i], kinds[i])}`);
    });
    svg.addEventListener("mouseleave", () => {
      hide(cursor, hover);
      if (gap && gap.ms > 0) gapLabel.setAttribute("visibility", "visible");
    });

    container.replaceChildren(svg);
    return counts;
  }

  // The index of the event closest in time to `t` (events are in time order).
  function nearest(events, t) {
    let lo = 0;
    let hi = events.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (events[mid].offsetMs < t) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && t - events[lo - 1].offsetMs < events[lo].offsetMs - t) return lo - 1;
    return lo;
  }

  return { render, classify, fmtMs };
})();
