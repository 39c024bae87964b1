"use strict";
// Overview's processes card: what `pyro-objects up` runs, its restarts and last exit codes.

const PROCESSES_MS = 2000;
const processCard = document.getElementById("processes");

function processState(process) {
  if (process.alive) return el("td", { class: "state up" }, el("span", { class: "dot up" }), "up");
  const what = process.state === "restarting" ? "restarting" : "down";
  return el("td", { class: "state down" }, el("span", { class: "dot down" }), what);
}

async function refreshProcesses() {
  let status;
  try {
    status = await api("/api/processes");
  } catch (err) {
    return;  // the names table above shows that the console is unreachable
  }
  show(processCard, status.supervised);
  processCard.querySelector("tbody").replaceChildren(...status.processes.map((process) =>
    el("tr", { "data-name": process.name },
       el("td", { class: "mono nowrap" }, process.name),
       el("td", { class: "num mono" }, String(process.pid)),
       processState(process),
       el("td", { class: "nowrap", title: ago(process.up_since) }, clock(process.up_since)),
       el("td", { class: "num restarts" }, String(process.restarts)),
       el("td", { class: "num last-exit" },
          process.last_exit === null ? "–" : String(process.last_exit)))));
}

every(PROCESSES_MS, refreshProcesses);
