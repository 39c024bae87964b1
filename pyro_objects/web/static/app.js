"use strict";
// Shared by every page: the JSON API (with the session's CSRF token), and elements built from
// text nodes only: nothing a user typed or a remote object returned is ever parsed as HTML.

const CSRF = document.querySelector('meta[name="csrf-token"]').content;

class ApiError extends Error {
  constructor(status, data) {
    super(data.error || `HTTP ${status}`);
    this.status = status;
    this.data = data;
    this.hint = data.hint || "";
  }
}

async function api(path, { method = "GET", body } = {}) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (method !== "GET") init.headers["X-CSRF-Token"] = CSRF;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, { error: "the console does not answer",
                            hint: "is pyro-objects web still running?" });
  }
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (response.status === 401) {
    window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);  // strings become text
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attrs);
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function setAttributes(node, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
}

function show(node, visible) {
  node.hidden = !visible;
}

// An error line as the prompt prints it, and its hint.
function errorLines(message, hint) {
  const lines = [el("span", { class: "error" }, `error: ${message}`)];
  if (hint) lines.push(el("span", { class: "hint" }, `hint: ${hint}`));
  return lines;
}

function showError(node, err) {
  node.replaceChildren(...errorLines(err.message, err.hint));
  show(node, true);
}

// --- formatting --------------------------------------------------------------------------

function clock(unixSeconds) {
  if (unixSeconds === null || unixSeconds === undefined) return "";
  const when = new Date(unixSeconds * 1000);
  const today = new Date().toDateString() === when.toDateString();
  return today ? when.toLocaleTimeString() : when.toLocaleString();
}

function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

function ago(unixSeconds) {
  return duration(Math.max(0, Date.now() / 1000 - unixSeconds));
}

function count(n) {
  if (n === null || n === undefined) return "";
  return Math.abs(n) >= 1e6 ? sci(n) : Number(n).toLocaleString();
}

// A number as Python's f"{x:.3e}" writes it (and the prompt prints it): 1.000e-09, the one
// scientific format of the console (plot.scientific on the server side).
function sci(x) {
  if (x === null || x === undefined) return "";
  const value = Number(x);
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  const [mantissa, exponent] = value.toExponential(3).split("e");
  const power = Number(exponent);
  return `${mantissa}e${power < 0 ? "-" : "+"}${String(Math.abs(power)).padStart(2, "0")}`;
}

const PREVIEW_CHARS = 200;

// `text` in a span; past PREVIEW_CHARS cut short, saying how long it is, with a button that
// shows it whole (and short again): a 4000-digit result must not make the page 40,000 px wide.
function cut(text, className = "") {
  if (text.length <= PREVIEW_CHARS) return el("span", { class: className }, text);
  const digits = /^[-+]?\d+$/.test(text) ? text.replace(/\D/g, "").length : null;
  const size = digits === null ? `${text.length} characters` : `${digits} digits`;
  const value = el("span", { class: `long ${className}` }, text.slice(0, PREVIEW_CHARS));
  const more = el("span", { class: "muted" }, `… (${size})`);
  const toggle = el("button", { type: "button", class: "small", "aria-expanded": "false" },
                    "show all");
  toggle.addEventListener("click", () => {
    const whole = toggle.getAttribute("aria-expanded") === "false";
    value.textContent = whole ? text : text.slice(0, PREVIEW_CHARS);
    show(more, !whole);
    toggle.setAttribute("aria-expanded", String(whole));
    toggle.textContent = whole ? "show less" : "show all";
  });
  return el("span", { class: "cut", title: `${size}` }, value, more, toggle);
}

// Call `task` now and then every `ms` after each run finishes (never two at once).
function every(ms, task) {
  const loop = async () => {
    try {
      await task();
    } finally {
      window.setTimeout(loop, ms);
    }
  };
  loop();
}

// Page buttons for a paged list: `load(page)` fetches and draws; returns load.
function pager(prefix, load) {
  const newer = document.getElementById(`${prefix}-newer`);
  const older = document.getElementById(`${prefix}-older`);
  const info = document.getElementById(`${prefix}-page`);
  let page = 1;
  const go = async (wanted) => {
    const data = await load(wanted);
    page = data.page;
    info.textContent = `page ${data.page} of ${data.pages} (${data.total})`;
    newer.disabled = data.page <= 1;
    older.disabled = data.page >= data.pages;
    return data;
  };
  newer.addEventListener("click", () => go(page - 1));
  older.addEventListener("click", () => go(page + 1));
  return { go, current: () => page };
}
