"use strict";
// Chat: the console joins the room on this page's behalf and streams the room's events here
// (server-sent events). Every nick and message reaches the page as a text node.

const MAX_LINES = 1000;
const joinForm = document.getElementById("chat-join");
const roomBox = document.getElementById("chat-room");
const nickBox = document.getElementById("chat-nick");
const enterButton = document.getElementById("chat-enter");
const leaveButton = document.getElementById("chat-leave");
const statusLine = document.getElementById("chat-status");
const box = document.getElementById("chat-box");
const log = document.getElementById("chat-log");
const whoList = document.getElementById("chat-who");
const sayForm = document.getElementById("chat-form");
const textBox = document.getElementById("chat-text");
let session = null;
let stream = null;
let present = new Set();

function notice(text) {
  return el("li", { class: "notice" }, text);
}

function entry(event) {
  switch (event.kind) {
    case "message":
      if (typeof event.action === "string") { // a /me: the console decoded it
        return el("li", { class: "message action", "data-seq": event.seq },
                  el("time", {}, clock(event.time)),
                  el("span", { class: "text" }, `* ${event.nick} ${event.action}`));
      }
      return el("li", { class: "message", "data-seq": event.seq },
                el("time", {}, clock(event.time)), el("span", { class: "nick" }, event.nick),
                el("span", { class: "text" }, event.text));
    case "entered":
      if (event.restarted) return notice(`the chat server restarted: back in ${event.room}`);
      if (event.rejoined) return notice(`the chat server had lost us: back in ${event.room}`);
      return notice(`you are ${event.nick} in ${event.room}`);
    case "joined":
      return notice(`${event.nick} joined`);
    case "left":
      return notice(`${event.nick} left`);
    case "dropped":
      return notice(`${event.nick} was dropped (not responding)`);
    case "gap":
      return notice(event.missed === 1 ? "1 earlier message is no longer held"
        : `${event.missed} earlier messages are no longer held`);
    default:
      return null;
  }
}

function track(event) {
  if (event.kind === "entered") present = new Set(event.who);
  else if (event.kind === "joined") present.add(event.nick);
  else if (event.kind === "left" || event.kind === "dropped") present.delete(event.nick);
  else return;
  whoList.replaceChildren(...[...present].sort().map((nick) => el("li", {}, nick)));
}

function receive(event) {
  track(event);
  const item = entry(event);
  if (item) append(item);
}

function append(item) {
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(item);
  while (log.children.length > MAX_LINES) log.firstElementChild.remove();
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function inRoom(yes) {
  show(box, yes);
  show(leaveButton, yes);
  show(enterButton, !yes);
  roomBox.disabled = yes;
  if (!nickBox.readOnly) nickBox.disabled = yes;
}

async function enter() {
  statusLine.replaceChildren();
  try {
    const joined = await api("/api/chat/join", { method: "POST",
      body: { room: roomBox.value.trim(), nick: nickBox.value.trim() } });
    session = joined.session;
    log.replaceChildren();
    follow();
    inRoom(true);
    textBox.focus();
  } catch (err) {
    showError(statusLine, err);
  }
}

function follow() {
  const source = new EventSource(`/api/chat/events?session=${encodeURIComponent(session)}`);
  stream = source;
  source.onmessage = (message) => {
    if (source === stream) receive(JSON.parse(message.data));
  };
  source.addEventListener("ended", async () => {
    // A /join ends the old session: its answer, in flight, may bring the new one.
    if (answering) await answering.catch(() => {});
    if (source === stream) end("the chat session ended: enter again");
    else source.close();
  });
  source.onerror = () => {
    // Otherwise EventSource connects again by itself and carries on after the last event.
    if (source === stream && source.readyState === EventSource.CLOSED) {
      end("the console does not answer: enter again");
    }
  };
}

function end(why) {
  if (stream) stream.close();
  stream = null;
  session = null;
  inRoom(false);
  statusLine.replaceChildren(...(why ? [el("span", { class: "muted" }, why)] : []));
}

async function leave() {
  const leaving = session;
  end("");
  if (leaving) {
    await api("/api/chat/leave", { method: "POST", body: { session: leaving } }).catch(() => {});
  }
}

// crypto.randomUUID needs a secure context; a console on a LAN may be plain http.
function newMessageId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

let pending = null; // { text, id }: a message sent but not confirmed keeps its id for a retry
let answering = null; // the line being answered

// The console reads the line as the terminal does (/me, /who, /rooms, /join, /help, /quit, //).
async function send() {
  const text = textBox.value;
  if (!text || !session || answering) return;
  if (!pending || pending.text !== text) pending = { text, id: newMessageId() };
  answering = api("/api/chat/line", { method: "POST",
    body: { session, line: text, message_id: pending.id } });
  try {
    const answer = await answering;
    pending = null;
    textBox.value = "";
    statusLine.replaceChildren();
    for (const line of answer.notice || []) append(notice(line));
    if (answer.session) { // /join: the same nick in another room
      if (stream) stream.close();
      session = answer.session;
      roomBox.value = answer.room;
      follow();
    } else if (answer.command === "quit") {
      end("");
    }
  } catch (err) {
    showError(statusLine, err);
  } finally {
    answering = null;
  }
}

joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  enter();
});
leaveButton.addEventListener("click", leave);
sayForm.addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});
window.addEventListener("pagehide", () => {
  // Leave at once when the page goes, freeing the nick (a page that crashes is left once its
  // stream has been gone a few seconds). A beacon sends no header: the form carries the token.
  if (!session) return;
  const form = new FormData();
  form.append("session", session);
  form.append("csrf_token", CSRF);
  navigator.sendBeacon("/api/chat/leave", form);
  end("you left the room when the page was put away: enter again");
});
