"use strict";
// π: submit runs, watch the one going on (live, from the console's event stream), see results.

const POLL_MS = 1000;
const runsBody = document.querySelector("#runs tbody");
const message = document.getElementById("pi-message");
let lastFinished = null;
let shownRun = null;
let noted = null;        // the run the note under the form is about, until it has ended
let lastLive = null;
let lastIds = "";        // the runs going on and queued, as last drawn in the Runs table

// --- submitting ----------------------------------------------------------------------------

document.getElementById("pi-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = (id) => document.getElementById(id).value.trim();
  try {
    const run = await api("/api/pi/runs", { method: "POST", body: {
      terms: value("pi-terms"), workers: value("pi-workers"), slice: value("pi-slice") } });
    noted = run;
    message.replaceChildren(`run #${run.id} queued: ${count(run.terms)} terms`);
    if (lastLive) note(lastLive);  // the stream may have told of its start already
    runs.go(1);
  } catch (err) {
    noted = null;
    message.replaceChildren(...errorLines(err.message, err.hint));
  }
});

// The note of the run submitted here follows it: queued, running, then how it ended.
async function note(live) {
  if (!noted) return;
  const run = noted;
  if (live.current && live.current.id === run.id) {
    message.replaceChildren(`run #${run.id} running: ${count(run.terms)} terms`);
    return;
  }
  if ((live.queued || []).some((q) => q.id === run.id)) return;
  const ended = await api(`/api/pi/runs/${run.id}`);
  if (noted !== run || ["queued", "running"].includes(ended.state)) return;
  noted = null;
  if (ended.state === "done") {
    message.replaceChildren(`run #${run.id} done: π ≈ ${ended.result.pi}, |error| ` +
                            `${sci(ended.result.error)} in ${duration(ended.result.seconds)}`);
  } else {
    message.replaceChildren(`run #${run.id} ${ended.state}: `,
                            ...errorLines(ended.error || ended.state, ended.hint));
  }
}

async function cancel(id) {
  try {
    await api(`/api/pi/runs/${id}/cancel`, { method: "POST" });
  } catch (err) {
    message.replaceChildren(...errorLines(err.message, err.hint));
  }
}

// --- the run going on ----------------------------------------------------------------------

function bar(share, extraClass = "") {
  const fill = el("div", { class: `fill ${extraClass}` });
  fill.style.width = `${Math.min(100, Math.max(0, share * 100)).toFixed(2)}%`;
  return el("div", { class: "bar" }, fill);
}

function drawLive(live) {
  lastLive = live;
  const current = live.current;
  show(document.getElementById("idle"), !current);
  show(document.getElementById("current"), Boolean(current));
  if (current) {
    const share = current.terms ? current.done / current.terms : 0;
    document.getElementById("current-title").textContent =
      `Run #${current.id}: ${count(current.terms)} terms`;
    const overall = document.getElementById("overall");
    overall.style.width = `${(share * 100).toFixed(2)}%`;
    overall.dataset.done = String(current.done);
    const eta = current.eta === null ? "ETA ?" : `ETA ${duration(current.eta)}`;
    document.getElementById("overall-text").textContent =
      `${(share * 100).toFixed(1)}% · ${count(current.done)} of ${count(current.terms)} terms · ` +
      `${sci(current.rate)} terms/s · ${duration(current.seconds)} · ${eta}`;
    document.getElementById("cancel").onclick = () => cancel(current.id);
    document.querySelector("#worker-bars tbody").replaceChildren(...current.workers.map((w) =>
      el("tr", { class: w.lost ? "failed" : "" },
        el("td", { class: "mono" }, w.name, w.lost ? " (lost)" : ""),
        el("td", { class: "wide" }, bar(current.terms ? w.terms / current.terms : 0,
                                        w.lost ? "lost" : "")),
        el("td", { class: "num" }, count(w.terms)),
        el("td", { class: "num" }, `${sci(w.rate)}/s`),
        el("td", { class: "num" }, String(w.slices)))));
  }
  const queue = live.queued || [];
  show(document.getElementById("queue-box"), queue.length > 0);
  document.getElementById("queue").replaceChildren(...queue.map((q) => el("li", {},
    `#${q.id}: ${count(q.terms)} terms (${q.who}) `,
    el("button", { type: "button", class: "small danger", onclick: () => cancel(q.id) },
       "Cancel"))));
  const finishedNow = live.finished !== null && live.finished !== lastFinished;
  if (finishedNow) {
    lastFinished = live.finished;
    finished(live.finished);
  }
  // Runs submitted elsewhere (another browser, a script) show up, and the count with them.
  const ids = [current ? current.id : "", ...queue.map((q) => q.id)].join(",");
  if (ids !== lastIds) {
    lastIds = ids;
    if (!finishedNow) runs.go(runs.current());
  }
  note(live);
}

async function finished(id) {
  document.getElementById("plot").src = `/api/pi/plot.svg?after=${id}`;
  await runs.go(runs.current());
  const run = await api(`/api/pi/runs/${id}`);
  if (run.state === "done") showResult(run);
}

function follow() {
  const stream = new EventSource("/api/pi/events");
  stream.onmessage = (event) => drawLive(JSON.parse(event.data));
  stream.onerror = () => {
    if (stream.readyState === EventSource.CLOSED) {  // refused (too many streams): poll
      every(POLL_MS, async () => drawLive(await api("/api/pi/live")));
    }
  };
}

// --- results -------------------------------------------------------------------------------

function showResult(run) {
  shownRun = run.id;
  const r = run.result;
  document.getElementById("result-title").textContent = `Run #${run.id}`;
  const facts = [["π estimate", String(r.pi)], ["|error|", sci(r.error)],
                 ["bound 1/N", sci(r.bound)], ["N", count(r.terms)],
                 ["seconds", r.seconds.toFixed(3)], ["terms/s", sci(r.terms_per_second)],
                 ["workers", String(r.workers.length)],
                 ["failed slices", String(r.failed_slices.length)]];
  document.getElementById("result").replaceChildren(...facts.map(([term, value]) =>
    el("div", {}, el("dt", {}, term), el("dd", { class: "mono" }, value))));
  document.querySelector("#result-workers tbody").replaceChildren(...r.workers.map((w) =>
    el("tr", {}, el("td", { class: "mono" }, w.name), el("td", { class: "num" }, String(w.slices)),
       el("td", { class: "num" }, count(w.terms)),
       el("td", { class: "num" }, w.seconds.toFixed(3)))));
  show(document.getElementById("failed-box"), r.failed_slices.length > 0);
  document.getElementById("failed").replaceChildren(...r.failed_slices.map((f) =>
    el("li", {}, `${count(f.start)}..${count(f.stop)} on ${f.worker}: ${f.reason}`)));
  document.getElementById("result-json").href = `/api/pi/runs/${run.id}/json`;
  show(document.getElementById("result-box"), true);
}

function runRow(run) {
  const r = run.result;
  const cells = r ? [String(r.pi), sci(r.error), sci(r.bound), r.seconds.toFixed(2),
                     sci(r.terms_per_second), String(r.failed_slices.length)]
                  : ["", "", "", "", "", ""];
  const state = el("td", { class: `run-state ${run.state}`, title: run.error || "" }, run.state);
  if (run.error) state.append(el("div", { class: "muted small-text" }, run.error));
  return el("tr", { "data-id": String(run.id) },
    el("td", { class: "num" }, String(run.id)), el("td", { class: "nowrap" }, clock(run.submitted)),
    el("td", {}, run.who), el("td", { class: "num" }, count(run.terms)), state,
    ...cells.map((c, i) => el("td", { class: i === 0 ? "num mono" : "num" }, c)),
    el("td", {}, r ? el("button", { type: "button", class: "small",
                                    onclick: () => showResult(run) }, "details") : null,
       r ? el("a", { href: `/api/pi/runs/${run.id}/json`, download: "", class: "small-link" },
              "JSON") : null));
}

const runs = pager("runs", async (page) => {
  const data = await api(`/api/pi/runs?page=${Math.max(1, page)}`);
  runsBody.replaceChildren(...data.rows.map(runRow));
  if (shownRun === null) {
    const done = data.rows.find((run) => run.state === "done");
    if (done) showResult(done);
  }
  return data;
});

runs.go(1);
follow();
