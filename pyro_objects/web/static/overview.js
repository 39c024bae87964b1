"use strict";
// Overview: every registered name with its kind, address, metadata and live state.

const REFRESH_MS = 2000;
const namesBody = document.querySelector("#names tbody");
const filterBox = document.getElementById("filter");
const problem = document.getElementById("overview-error");
let latest = null;

function stateCell(entry) {
  if (entry.state === "up") {
    return el("td", { class: "state up" }, el("span", { class: "dot up" }),
              `up · ${entry.rtt_ms.toFixed(1)} ms`);
  }
  if (entry.state === "down" || entry.state === "gone") {
    const what = entry.state;
    const why = entry.state === "down" ? "registered, not answering" : "no longer registered";
    return el("td", { class: `state ${entry.state}`, title: why },
              el("span", { class: `dot ${entry.state}` }),
              `${what} since ${clock(entry.since)} (${ago(entry.since)})`);
  }
  return el("td", { class: "state probing" }, el("span", { class: "dot probing" }), "probing…");
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
    latest.updated ? clock(latest.updated) : "not yet";
  if (latest.error) {
    showError(problem, { message: latest.error, hint: latest.hint });
  } else {
    show(problem, false);
  }
  draw();
}

filterBox.addEventListener("input", draw);
every(REFRESH_MS, refresh);
