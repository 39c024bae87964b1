"use strict";
// Ring: the nodes on a circle with their live state; a message's route drawn on it.

const REFRESH_MS = 2000;
const SIZE = 440;
const CENTER = SIZE / 2;
const RADIUS = 150;
const NODE_R = 26;
const drawing = document.getElementById("ring-drawing");
const startSelect = document.getElementById("ring-start");
const problem = document.getElementById("ring-error");
let nodes = [];
let lastRoute = null;
const RTT_MEANING = "handshake round trip from the console to the node (a probe, no call)";
const HOP_MS_MEANING = "time the message spent at this node and beyond it";

function angle(index, total) {
  return -Math.PI / 2 + (2 * Math.PI * index) / total;  // node 1 at the top, then clockwise
}

function at(index, total, radius = RADIUS) {
  const a = angle(index, total);
  return [CENTER + radius * Math.cos(a), CENTER + radius * Math.sin(a)];
}

function polar(a, radius) {
  return `${(CENTER + radius * Math.cos(a)).toFixed(1)} ${(CENTER + radius * Math.sin(a)).toFixed(1)}`;
}

function arc(fromIndex, toIndex, total, hopNumber) {  // hopNumber: as in the route list
  // Clockwise along the ring from one node to the next. A hop that passes skipped nodes
  // leaves its node outwards, goes round outside the ring and comes back into the next one,
  // so the skipped nodes stay in view.
  let span = angle(toIndex, total) - angle(fromIndex, total);
  while (span <= 1e-9) span += 2 * Math.PI;
  const detour = span > (2 * Math.PI) / total + 1e-6;
  const start = angle(fromIndex, total);
  let d;
  let mid;
  let label;
  if (detour) {
    const outer = RADIUS + NODE_R + 22;
    const a0 = start + 0.06;
    const a1 = start + span - 0.06;
    mid = (a0 + a1) / 2;  // two half arcs: also a full circle back to the same node
    d = `M ${polar(a0, RADIUS + NODE_R)} L ${polar(a0, outer)} A ${outer} ${outer} 0 0 1 ` +
        `${polar(mid, outer)} A ${outer} ${outer} 0 0 1 ${polar(a1, outer)} ` +
        `L ${polar(a1, RADIUS + NODE_R + 4)}`;
    label = outer + 14;
  } else {
    const gap = NODE_R / RADIUS + 0.04;
    const a0 = start + gap;
    const a1 = start + span - gap;
    mid = (a0 + a1) / 2;
    d = `M ${polar(a0, RADIUS)} A ${RADIUS} ${RADIUS} 0 0 1 ${polar(mid, RADIUS)} ` +
        `A ${RADIUS} ${RADIUS} 0 0 1 ${polar(a1, RADIUS)}`;
    label = RADIUS - 22;
  }
  const [x, y] = polar(mid, label).split(" ");
  return [svg("path", { d, class: detour ? "hop detour" : "hop", "marker-end": "url(#arrow)" }),
          svg("text", { x, y: (Number(y) + 4).toFixed(1), class: "hop-number",
                        "text-anchor": "middle" }, String(hopNumber))];
}

function draw() {
  const total = nodes.length;
  const parts = [svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "8",
                                                  refY: "5", markerWidth: "7", markerHeight: "7",
                                                  orient: "auto-start-reverse" },
                                          svg("path", { d: "M 0 0 L 10 5 L 0 10 z",
                                                        class: "arrow-head" }))),
                 svg("circle", { cx: CENTER, cy: CENTER, r: RADIUS, class: "track" })];
  if (total === 0) {
    parts.push(svg("text", { x: CENTER, y: CENTER, "text-anchor": "middle", class: "empty" },
                   "no ring nodes registered"));
  }
  const index = new Map(nodes.map((node, i) => [node.id, i]));
  const skipped = new Set();
  if (lastRoute) {
    // Each arrow is a hop: the message passed on from a node, numbered as in the route list.
    const visited = numbered(lastRoute.hops).filter((h) => h.step === "passed" ||
                                                           h.step === "complete")
                                            .filter((h) => index.has(h.node));
    for (const h of lastRoute.hops) if (h.step === "skipped") skipped.add(h.node);
    for (let i = 1; i < visited.length; i += 1) {
      parts.push(...arc(index.get(visited[i - 1].node), index.get(visited[i].node), total,
                        visited[i - 1].number));
    }
  }
  nodes.forEach((node, i) => {
    const [x, y] = at(i, total);
    const [lx, ly] = at(i, total, RADIUS - NODE_R - 24);  // the state inside the ring,
    const side = Math.cos(angle(i, total));                  // written away from the node
    const anchor = side > 0.3 ? "end" : side < -0.3 ? "start" : "middle";
    const status = node.state === "up" ? `${node.rtt_ms.toFixed(1)} ms` : node.state;
    const meaning = node.state === "up" ? `${status}: ${RTT_MEANING}` : status;
    const classes = ["node", node.state, skipped.has(node.id) ? "skipped" : ""].join(" ");
    parts.push(svg("g", { class: classes, "data-id": String(node.id), "data-state": node.state },
      svg("title", {}, node.name ? `${node.name} (${node.address})` : `node ${node.id}`),
      svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: NODE_R }),
      svg("text", { x: x.toFixed(1), y: (y + 6).toFixed(1), "text-anchor": "middle",
                    class: "node-id" }, String(node.id)),
      svg("g", { class: "node-label" }, svg("title", {}, meaning),
          svg("text", { x: lx.toFixed(1), y: (ly + 4).toFixed(1), "text-anchor": anchor,
                        class: "node-state" }, skipped.has(node.id) ? `skipped · ${status}`
                                                                    : status))));
  });
  drawing.replaceChildren(...parts);
}

// The hops with the number each passed-on line has in the route list and on its arrow; a
// skipped node or the closing line has none (they are not hops).
function numbered(hops) {
  let number = 0;
  return hops.map((h) => ({ ...h, number: h.step === "passed" ? (number += 1) : null }));
}

function routeLine(h) {
  // The closing node only sees the message come back: its 0 ms says nothing.
  const timed = typeof h.ms === "number" && h.step !== "complete";
  const ms = timed ? `${h.ms.toFixed(1)} ms` : null;
  return el("li", { class: `step-${h.step}`, "data-hop": h.number === null ? null : h.number },
            el("span", { class: "hop-text" }, h.text),
            ms ? el("span", { class: "hop-ms muted", title: HOP_MS_MEANING }, ` · ${ms}`) : null);
}

function fillStarts() {
  const chosen = startSelect.value;
  const ids = nodes.map((node) => String(node.id));
  if (ids.join(",") === [...startSelect.options].map((o) => o.value).join(",")) return;
  startSelect.replaceChildren(...nodes.map((node) =>
    el("option", { value: String(node.id) }, `${node.id}`)));
  if (ids.includes(chosen)) startSelect.value = chosen;
}

async function refresh() {
  try {
    const data = await api("/api/ring");
    nodes = data.nodes;
    if (data.error) showError(problem, { message: data.error, hint: data.hint });
    else show(problem, false);
  } catch (err) {
    showError(problem, err);
  }
  fillStarts();
  draw();
}

document.getElementById("ring-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = event.target.querySelector("button");
  const time = document.getElementById("ring-time");
  const route = document.getElementById("route");
  button.disabled = true;
  time.replaceChildren(el("span", { class: "muted" }, "sending…"));
  route.replaceChildren();
  try {
    lastRoute = await api("/api/ring/send", { method: "POST", body: {
      message: document.getElementById("ring-message").value,
      start: Number(startSelect.value || 1) } });
    time.replaceChildren(`round trip ${lastRoute.ms.toFixed(1)} ms from node ${lastRoute.start}`);
    route.replaceChildren(...numbered(lastRoute.hops).map(routeLine));
  } catch (err) {
    lastRoute = null;
    time.replaceChildren(...errorLines(err.message, err.hint));
  } finally {
    button.disabled = false;
  }
  draw();
});

every(REFRESH_MS, refresh);
