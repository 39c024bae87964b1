"use strict";
// Calculator: one line to `calc` or a prompt command; every operation kept, newest first.

const form = document.getElementById("calc-form");
const input = document.getElementById("calc-input");
const result = document.getElementById("calc-result");
const historyBody = document.querySelector("#history tbody");

function outcome(row) {
  return row.ok ? [cut(row.output, "value mono")] : errorLines(row.output, row.hint);
}

const history = pager("history", async (page) => {
  const data = await api(`/api/history?page=${Math.max(1, page)}`);
  historyBody.replaceChildren(...data.rows.map((row) => el("tr", { class: row.ok ? "" : "failed" },
    el("td", { class: "nowrap", title: new Date(row.at * 1000).toISOString() }, clock(row.at)),
    el("td", {}, row.who),
    el("td", { class: "mono" }, cut(row.input)),
    el("td", { class: "mono" }, outcome(row)))));
  return data;
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  result.replaceChildren(el("span", { class: "muted" }, "…"));
  try {
    const row = await api("/api/calc", { method: "POST", body: { input: input.value } });
    result.replaceChildren(...outcome(row));
  } catch (err) {
    // A failed operation is still an operation: its row comes back with the error.
    const row = err.data && "output" in err.data ? err.data : null;
    result.replaceChildren(...(row ? outcome(row) : errorLines(err.message, err.hint)));
  } finally {
    button.disabled = false;
    input.select();
  }
  await history.go(1);
});

history.go(1);
