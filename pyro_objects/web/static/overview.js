"use strict";
// Overview: every registered name with its kind, address, metadata and live state.

const REFRESH_MS = 1000;  // the page reads the registry's snapshot: no call per refresh
const namesBody = document.querySelector("#names tbody");
const filterBox = document.getElementById("filter");
const problem = document.getElementById("overview-error");
let latest = null;

// What a state says, as text: up · 2.2 ms, down since 20:50:01 (4.0 s), probing…
function stateText(state, entry) {
  if (state === "up") return `up · ${entry.rtt_ms.toFixed(1)} ms`;
  if (state === "down" || state === "gone") {
    return `${state} since ${clock(entry.since)} (${ago(entry.since)})`;
  }
  return "probing…";
}

const WHY = { down: "registered, not answering", gone: "no longer registered" };

function stateCell(entry) {
  if (entry.state === "unknown") {  // the name server does not answer: nothing is known now
    const why = `unknown: the name server does not answer (${latest.error})`;
    return el("td", { class: "state unknown", title: why }, el("span", { class: "dot unknown" }),
              "unknown", entry.last_state ? el("span", { class: "muted small-text" },
                                               ` · was ${stateText(entry.last_state, entry)}`)
                                          : null);
  }
  return el("td", { class: `state ${entry.state}`, title: WHY[entry.state] || null },
            el("span", { class: `dot ${entry.state}` }), stateText(entry.state, entry));
}

function matches(entry, needle) {
  if (!needle) return true;
  return [entry.name, entry.kind, entry.address, entry.metadata.join(" "), entry.state]
    .some((field) => field.toLowerCase().includes(needle));
}

function draw() {
  if (!latest) return;
  const needle = filterBox.value.trim().toLowerCase();
  const shown = latest.names.filter((entry) => matches(entry, needle));
  namesBody.replaceChildren(...shown.map((entry) => el("tr", { "data-name": entry.name },
    el("td", { class: "mono nowrap" }, entry.name),
    el("td", {}, el("span", { class: `kind kind-${entry.kind.replace(/\W+/g, "-")}` },
                    entry.kind)),
    el("td", { class: "mono nowrap" }, entry.address),
    el("td", { class: "mono muted" }, entry.metadata.join(", ")),
    stateCell(entry))));
  document.getElementById("count").textContent =
    `${shown.length} of ${latest.names.length} names`;
}

async function refresh() {
  try {
    latest = await api("/api/names");
  } catch (err) {
    showError(problem, err);
    return;
  }
  const ns = latest.nameserver;
  document.getElementById("ns-location").textContent = ns.location;
  document.getElementById("ns-uri").textContent = ns.uri || "not found";
  const tls = document.getElementById("tls");
  tls.textContent = ns.tls ? "on (mutual certificates)" : "off";
  tls.className = ns.tls ? "ok" : "muted";
  document.getElementById("updated").textContent =
    (latest.updated ? clock(latest.updated) : "not yet") +
    (latest.error ? " · not since: the name server does not answer" : "");
  if (latest.error) {
    showError(problem, { message: latest.error, hint: latest.hint });
  } else {
    show(problem, false);
  }
  draw();
}

filterBox.addEventListener("input", draw);
every(REFRESH_MS, refresh);
