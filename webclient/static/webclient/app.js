// OMS web client: chat over the public API, live through the event stream, and offline-first
// (sends wait in a queue on the device, each with its Idempotency-Key, until the network returns).

const API = "/api";
const PAGE_SIZE = 30;
const TYPING_SEND_EVERY_MS = 2500;
const TYPING_SHOW_MS = 5000;
const LONG_POLL_TIMEOUT_S = 25;
const USERNAME_RE = /^[A-Za-z0-9@.+_-]{1,150}$/;
// Close codes of /ws/events: the token is no good; our last event id is older than the kept log.
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_RESYNC = 4410;

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// Storage: the token and everything kept for one user survive reloads and closed tabs.

const store = {
  get(key, fallback = null) {
    try {
      const raw = localStorage.getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    localStorage.setItem(key, JSON.stringify(value));
  },
  remove(key) {
    localStorage.removeItem(key);
  },
};

const state = {
  token: store.get("oms.token"),
  username: store.get("oms.username"),
  conversations: new Map(), // peer -> {peer, last_message, unread}
  conversationsNext: null,
  blocked: new Set(),
  peer: null, // the open conversation
  messages: new Map(), // id -> message, for the open conversation
  olderCursor: null,
  loadingOlder: false,
  outbox: [],
  flushing: false,
  inFlight: null, // the queued message whose send is under way
  lastEventId: null,
  typing: new Map(), // peer -> timer that ends their "typing…"
  lastTypingSent: 0,
};

const userKey = (name) => `oms.${name}.${state.username}`;

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID exists only in secure contexts; getRandomValues everywhere.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------------------------------------
// HTTP

class NetworkError extends Error {}
class SessionExpired extends Error {}
class ApiError extends Error {
  constructor(status, data) {
    super(errorText(data) || `The server answered ${status}.`);
    this.status = status;
    this.data = data;
  }
}

/** The API's own words for an error: `detail`, or the first message of each field. */
function errorText(data) {
  if (!data || typeof data !== "object") return "";
  if (typeof data.detail === "string") return data.detail;
  return Object.entries(data)
    .map(([field, messages]) => {
      const text = Array.isArray(messages) ? messages.join(" ") : String(messages);
      return field === "non_field_errors" ? text : `${field}: ${text}`;
    })
    .join(" ");
}

async function api(method, path, { body, headers = {}, auth = true, expire = true } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (auth) init.headers.Authorization = `Token ${state.token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path.startsWith("/") ? path : `${API}/${path}`, init);
  } catch (error) {
    throw new NetworkError(error.message);
  }
  const text = await response.text().catch(() => "");
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (response.status === 401 && auth && expire) {
    endSession("Your session has expired or was logged out. Please log in again.");
    throw new SessionExpired();
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return { status: response.status, data, headers: response.headers };
}

/** A `next` link from the API, as a path on this origin (the server may see another scheme). */
function samePath(url) {
  if (!url) return null;
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

// ---------------------------------------------------------------------------------------------
// Screens

function showAuth(message = "") {
  $("app-screen").hidden = true;
  $("auth-screen").hidden = false;
  $("auth-message").textContent = message;
  $("login-username").focus();
}

function showApp() {
  $("auth-screen").hidden = true;
  $("app-screen").hidden = false;
  $("me").textContent = state.username;
}

function setConnection(text, kind) {
  const el = $("connection");
  el.textContent = text;
  el.dataset.kind = kind;
}

function setError(id, text) {
  $(id).textContent = text || "";
}

async function startSession(token, username) {
  state.token = token;
  state.username = username;
  store.set("oms.token", token);
  store.set("oms.username", username);
  state.outbox = store.get(userKey("outbox"), []);
  state.lastEventId = store.get(userKey("last-event-id"));
  state.conversations.clear();
  state.blocked.clear();
  closeConversation();
  showApp();
  events.start();
  await catchUp();
  flushOutbox();
}

function endSession(message) {
  events.stop();
  state.token = null;
  store.remove("oms.token");
  store.remove("oms.username");
  closeConversation();
  $("conversation-list").replaceChildren();
  $("me").textContent = "";
  showAuth(message);
}

// ---------------------------------------------------------------------------------------------
// Auth forms

async function submitAuth(event, kind) {
  event.preventDefault();
  const form = event.target;
  const errorId = `${kind}-error`;
  setError(errorId, "");
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    setError(errorId, "Enter a username and a password.");
    return;
  }
  const body = { username, password };
  if (kind === "register" && form.email.value.trim()) body.email = form.email.value.trim();
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const { data } = await api("POST", `auth/${kind}`, { body, auth: false });
    form.reset();
    await startSession(data.token, data.user.username);
  } catch (error) {
    setError(errorId, error instanceof NetworkError ? "No connection to the server." : error.message);
  } finally {
    button.disabled = false;
  }
}

async function logout(everywhere) {
  // The server closes this token's socket as it logs out: that is no expiry to report.
  events.stop();
  try {
    await api("POST", everywhere ? "auth/logoutall" : "auth/logout", { expire: false });
  } catch {
    // Offline, or the token had already expired: it is forgotten here all the same.
  }
  endSession(everywhere ? "You are logged out on every device." : "You are logged out.");
}

// ---------------------------------------------------------------------------------------------
// Conversation list

function messageTime(message) {
  return new Date(message.created).getTime();
}

/** Usernames match without regard to case, as the API matches them. */
function same(a, b) {
  return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}

function conversationWith(peer) {
  for (const entry of state.conversations.values()) if (same(entry.peer, peer)) return entry;
  return undefined;
}

function peerOf(message) {
  return message.sender === state.username ? message.receiver : message.sender;
}

async function loadConversations(path = "conversation") {
  const { data } = await api("GET", path);
  if (path === "conversation") state.conversations.clear();
  for (const entry of data.results) state.conversations.set(entry.peer, entry);
  state.conversationsNext = samePath(data.next);
  renderConversations();
}

async function loadBlocks() {
  const blocked = new Set();
  let path = "block";
  while (path) {
    const { data } = await api("GET", path);
    for (const block of data.results) blocked.add(block.blocked.toLowerCase());
    path = samePath(data.next);
  }
  state.blocked = blocked;
  renderConversationHeader();
}

function renderConversations() {
  const list = $("conversation-list");
  const entries = [...state.conversations.values()].sort(
    (a, b) => messageTime(b.last_message) - messageTime(a.last_message) || b.last_message.id - a.last_message.id,
  );
  list.replaceChildren(
    ...entries.map((entry) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "conversation-item";
      button.dataset.peer = entry.peer;
      if (same(entry.peer, state.peer)) button.setAttribute("aria-current", "true");
      const name = document.createElement("span");
      name.className = "peer";
      name.textContent = entry.peer;
      const preview = document.createElement("span");
      preview.className = "preview";
      const mine = entry.last_message.sender === state.username;
      preview.textContent = (mine ? "You: " : "") + entry.last_message.content;
      button.append(name, preview);
      if (entry.unread > 0) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = String(entry.unread);
        badge.setAttribute("aria-label", `${entry.unread} unread`);
        button.append(badge);
      }
      button.addEventListener("click", () => openConversation(entry.peer));
      item.append(button);
      return item;
    }),
  );
  $("no-conversations").hidden = entries.length > 0;
  $("more-conversations").hidden = !state.conversationsNext;
}

/** Keeps the list's entry for a conversation in step with a message seen elsewhere. */
function noteMessage(message, { countUnread }) {
  const peer = peerOf(message);
  const entry = state.conversations.get(peer) || { peer, last_message: message, unread: 0 };
  if (message.id >= entry.last_message.id) {
    entry.last_message = message;
  }
  if (countUnread && message.receiver === state.username && message.sender !== state.username && !message.read_at) {
    entry.unread += 1;
  }
  state.conversations.set(peer, entry);
  renderConversations();
}

// ---------------------------------------------------------------------------------------------
// One conversation

function closeConversation() {
  state.peer = null;
  state.messages.clear();
  state.olderCursor = null;
  $("conversation").hidden = true;
  $("empty-state").hidden = false;
  document.body.classList.remove("in-conversation");
  renderTyping();
}

async function openConversation(peer, { focus = true } = {}) {
  setError("new-conversation-error", "");
  let data;
  try {
    ({ data } = await api("GET", `conversation/${encodeURIComponent(peer)}?page_size=${PAGE_SIZE}`));
  } catch (error) {
    if (error instanceof SessionExpired) return false;
    setError("new-conversation-error", error instanceof NetworkError ? "You are offline; try again when connected." : error.message);
    return false;
  }
  // The name as registered, when anything shows it; otherwise as typed (it matches either way).
  state.peer = data.results.length ? peerOf(data.results[0]) : conversationWith(peer)?.peer || peer;
  state.messages.clear();
  for (const message of data.results) keepMessage(message);
  state.olderCursor = samePath(data.next);
  renderTyping();
  $("conversation").hidden = false;
  $("empty-state").hidden = true;
  document.body.classList.add("in-conversation");
  setError("conversation-error", "");
  renderConversationHeader();
  renderMessages({ scroll: "bottom" });
  renderConversations();
  markRead();
  if (focus) $("composer-input").focus();
  return true;
}

function renderConversationHeader() {
  if (!state.peer) return;
  $("peer-name").textContent = state.peer;
  $("composer-label").textContent = `Message to ${state.peer}`;
  const blocked = state.blocked.has(state.peer.toLowerCase());
  const toggle = $("block-toggle");
  toggle.textContent = blocked ? `Unblock ${state.peer}` : `Block ${state.peer}`;
  toggle.dataset.blocked = String(blocked);
}

async function loadOlder() {
  if (!state.olderCursor || state.loadingOlder || !state.peer) return;
  state.loadingOlder = true;
  const peer = state.peer;
  const box = $("messages");
  const fromBottom = box.scrollHeight - box.scrollTop;
  try {
    const { data } = await api("GET", state.olderCursor);
    if (peer !== state.peer) return;
    for (const message of data.results) keepMessage(message);
    state.olderCursor = samePath(data.next);
    renderMessages();
    // Keep what the reader was looking at in place while older messages appear above it.
    box.scrollTop = box.scrollHeight - fromBottom;
  } catch (error) {
    if (!(error instanceof SessionExpired)) setError("conversation-error", error.message);
  } finally {
    state.loadingOlder = false;
  }
}

/** The newest page again, merged: receipts and anything missed while away. */
async function refreshConversation() {
  if (!state.peer) return;
  const peer = state.peer;
  const { data } = await api("GET", `conversation/${encodeURIComponent(peer)}?page_size=${PAGE_SIZE}`);
  if (peer !== state.peer) return;
  for (const message of data.results) keepMessage(message);
  renderMessages({ scroll: "bottom-if-near" });
  markRead();
}

/** Into the open conversation. Receipts only go from none to a time: a copy that is older than
 * what we know (the late answer to a send, after its read receipt) never takes one back. */
function keepMessage(message) {
  const known = state.messages.get(message.id);
  state.messages.set(
    message.id,
    known
      ? {
          ...known,
          ...message,
          delivered_at: message.delivered_at || known.delivered_at,
          read_at: message.read_at || known.read_at,
        }
      : message,
  );
}

function deliveryState(message) {
  if (message.read_at) return "Read";
  if (message.delivered_at) return "Delivered";
  return "Sent";
}

function messageItem({ id, key, content, created, mine, status, failed }) {
  const item = document.createElement("li");
  item.className = `message ${mine ? "mine" : "theirs"}`;
  if (id) item.dataset.id = String(id);
  if (key) item.dataset.key = key;
  if (status === "Pending") item.classList.add("pending");
  if (failed) item.classList.add("failed");
  const text = document.createElement("p");
  text.className = "content";
  text.textContent = content;
  const meta = document.createElement("p");
  meta.className = "meta";
  const time = document.createElement("time");
  time.dateTime = created;
  time.textContent = new Date(created).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  meta.append(time);
  if (mine) {
    const stateEl = document.createElement("span");
    stateEl.className = "state";
    stateEl.textContent = status;
    meta.append(" · ", stateEl);
  }
  item.append(text, meta);
  return item;
}

function renderMessages({ scroll } = {}) {
  const box = $("messages");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const sorted = [...state.messages.values()].sort((a, b) => messageTime(a) - messageTime(b) || a.id - b.id);
  const items = sorted.map((message) =>
    messageItem({
      id: message.id,
      content: message.content,
      created: message.created,
      mine: message.sender === state.username,
      status: deliveryState(message),
    }),
  );
  for (const queued of state.outbox) {
    if (!same(queued.to, state.peer)) continue;
    // Its echo from the event stream arrived before the answer to the send: show it once.
    if (!queued.error && queued.echoId && state.messages.has(queued.echoId)) continue;
    const item = messageItem({
      key: queued.key,
      content: queued.content,
      created: queued.queuedAt,
      mine: true,
      status: queued.error ? `Not sent: ${queued.error}` : "Pending",
      failed: Boolean(queued.error),
    });
    if (queued.error) {
      const discard = document.createElement("button");
      discard.type = "button";
      discard.className = "link";
      discard.textContent = "Discard";
      discard.setAttribute("aria-label", `Discard unsent message: ${queued.content.slice(0, 40)}`);
      discard.addEventListener("click", () => discardQueued(queued.key));
      item.querySelector(".meta").append(" ", discard);
    }
    items.push(item);
  }
  $("message-list").replaceChildren(...items);
  $("load-older").hidden = !state.olderCursor;
  if (scroll === "bottom" || (scroll === "bottom-if-near" && nearBottom)) box.scrollTop = box.scrollHeight;
  // A short first page leaves nothing to scroll: fetch older ones until the box can scroll.
  if (state.olderCursor && box.scrollHeight <= box.clientHeight) loadOlder();
}

let markingRead = false;
let markAgain = false;
async function markRead() {
  if (!state.peer || document.visibilityState === "hidden") return;
  if (markingRead) {
    // A message that arrived during a mark is marked right after it.
    markAgain = true;
    return;
  }
  const unread = [...state.messages.values()].filter(
    (m) => same(m.sender, state.peer) && m.receiver === state.username && !m.read_at,
  );
  const entry = conversationWith(state.peer);
  if (unread.length === 0 && !(entry && entry.unread > 0)) return;
  markingRead = true;
  try {
    await api("POST", "message/read", { body: { sender: state.peer } });
    const now = new Date().toISOString();
    for (const message of unread) message.read_at = now;
    if (entry) entry.unread = 0;
    renderConversations();
  } catch (error) {
    // Offline or refused: the marks are made on the next visit.
  } finally {
    markingRead = false;
    if (markAgain) {
      markAgain = false;
      markRead();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sending, with the outbox

function saveOutbox() {
  store.set(userKey("outbox"), state.outbox);
}

function queueMessage(to, content) {
  state.outbox.push({ key: newKey(), to, content, queuedAt: new Date().toISOString(), error: null });
  saveOutbox();
  renderMessages({ scroll: "bottom" });
  flushOutbox();
}

function discardQueued(key) {
  state.outbox = state.outbox.filter((queued) => queued.key !== key);
  saveOutbox();
  renderMessages();
}

let retryTimer = null;
function scheduleFlush(ms) {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(flushOutbox, ms);
}

/**
 * Sends queued messages one at a time, oldest first, so they arrive in the order written. A send
 * whose answer was lost is sent again with the same Idempotency-Key: the server stores it once.
 */
async function flushOutbox() {
  if (state.flushing || !state.token) return;
  state.flushing = true;
  try {
    while (true) {
      const queued = state.outbox.find((q) => !q.error);
      if (!queued) break;
      let data;
      state.inFlight = queued;
      try {
        ({ data } = await api("POST", "message", {
          body: { receiver: queued.to, content: queued.content },
          headers: { "Idempotency-Key": queued.key },
        }));
      } catch (error) {
        if (error instanceof NetworkError) {
          setConnection("Offline: messages wait on this device", "offline");
          scheduleFlush(3000);
          return;
        }
        if (error instanceof SessionExpired) return;
        if (error.status === 429 || error.status >= 500) {
          scheduleFlush(5000);
          return;
        }
        queued.error = error.message;
        saveOutbox();
        if (same(queued.to, state.peer)) {
          setError("conversation-error", error.message);
          renderMessages();
        }
        continue;
      }
      state.outbox = state.outbox.filter((q) => q.key !== queued.key);
      saveOutbox();
      addMessage(data);
    }
  } finally {
    state.inFlight = null;
    state.flushing = false;
  }
}

/** A message from the API or the event stream; seen twice, it is shown once. */
function addMessage(message) {
  const known = state.messages.has(message.id);
  if (same(peerOf(message), state.peer)) {
    if (state.peer !== peerOf(message)) {
      state.peer = peerOf(message);
      renderConversationHeader();
    }
    keepMessage(message);
    renderMessages({ scroll: message.sender === state.username ? "bottom" : "bottom-if-near" });
  }
  const open = same(state.peer, peerOf(message)) && document.visibilityState !== "hidden";
  noteMessage(message, { countUnread: !known && !open });
  if (open && message.sender !== state.username) markRead();
}

// ---------------------------------------------------------------------------------------------
// Events: WebSocket first, long-poll when a socket cannot be opened; replay from the last id.

function rememberEventId(id) {
  if (typeof id !== "number") return;
  if (state.lastEventId === null || id > state.lastEventId) {
    state.lastEventId = id;
    store.set(userKey("last-event-id"), id);
  }
}

/** Receipts name their messages as `ids`; a delete as `id`. */
function idsIn(data) {
  if (Array.isArray(data.ids)) return data.ids;
  if (data.id !== undefined) return [data.id];
  return [];
}

let refreshSoon = null;
function refreshListsSoon() {
  clearTimeout(refreshSoon);
  refreshSoon = setTimeout(() => {
    loadConversations().catch(() => {});
  }, 300);
}

function applyEvent(event) {
  if (typeof event.id === "number" && state.lastEventId !== null && event.id <= state.lastEventId) return;
  const data = event.data || {};
  switch (event.type) {
    case "message.created": {
      const message = data; // the message, as the API shows it
      if (message.id !== undefined) {
        stopTyping(message.sender);
        const sending = state.inFlight;
        if (
          sending &&
          !sending.echoId &&
          message.sender === state.username &&
          same(message.receiver, sending.to) &&
          message.content === sending.content
        ) {
          sending.echoId = message.id;
        }
        addMessage(message);
      }
      refreshListsSoon();
      break;
    }
    case "message.delivered":
    case "message.read": {
      const field = event.type === "message.read" ? "read_at" : "delivered_at";
      const when = data[field] || event.created || new Date().toISOString();
      let applied = false;
      for (const id of idsIn(data)) {
        const message = state.messages.get(id);
        if (!message) continue;
        message[field] = message[field] || when;
        if (field === "read_at") message.delivered_at = message.delivered_at || when;
        applied = true;
      }
      if (applied) renderMessages();
      refreshListsSoon();
      break;
    }
    case "message.deleted": {
      for (const id of idsIn(data)) state.messages.delete(id);
      renderMessages();
      refreshListsSoon();
      break;
    }
    case "block.created":
    case "block.deleted": {
      const who = data.blocked;
      if (who) {
        if (event.type === "block.created") state.blocked.add(who.toLowerCase());
        else state.blocked.delete(who.toLowerCase());
        renderConversationHeader();
      } else {
        loadBlocks().catch(() => {});
      }
      break;
    }
    default:
      break;
  }
  rememberEventId(event.id);
}

function showTyping(from) {
  if (typeof from !== "string") return;
  clearTimeout(state.typing.get(from));
  state.typing.set(
    from,
    setTimeout(() => stopTyping(from), TYPING_SHOW_MS),
  );
  renderTyping();
}

function stopTyping(from) {
  if (!state.typing.has(from)) return;
  clearTimeout(state.typing.get(from));
  state.typing.delete(from);
  renderTyping();
}

/** "bob is typing…" in the open conversation, or under the list for anyone else. */
function renderTyping() {
  const here = [...state.typing.keys()].find((peer) => same(peer, state.peer));
  $("typing").textContent = here ? `${here} is typing…` : "";
  const elsewhere = [...state.typing.keys()].filter((peer) => !same(peer, state.peer));
  $("sidebar-typing").textContent = elsewhere.length ? `${elsewhere.join(", ")} ${elsewhere.length > 1 ? "are" : "is"} typing…` : "";
}

const events = {
  socket: null,
  mode: null, // "socket" | "poll"
  running: false,
  opened: false,
  failures: 0,
  reconnectTimer: null,
  pollController: null,

  start() {
    this.stop();
    this.running = true;
    this.failures = 0;
    if ("WebSocket" in window) this.connect();
    else this.poll();
  },

  stop() {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close(1000);
      this.socket = null;
    }
    if (this.pollController) this.pollController.abort();
    this.pollController = null;
    this.mode = null;
  },

  connect() {
    this.mode = "socket";
    this.opened = false;
    setConnection("Connecting…", "connecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let socket;
    try {
      socket = new WebSocket(`${scheme}//${location.host}/ws/events`);
    } catch {
      this.poll();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.opened = true;
      this.failures = 0;
      const auth = { type: "auth", token: state.token };
      if (state.lastEventId !== null) auth.since = state.lastEventId;
      socket.send(JSON.stringify(auth));
    };
    socket.onmessage = (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame.type === "typing") showTyping(frame.from);
      // After the replay: the id to resume from, also when we had none to give.
      else if (frame.type === "ready") {
        rememberEventId(frame.next_since);
        setConnection("Live", "live");
      }
      else if (typeof frame.id === "number") applyEvent(frame);
    };
    socket.onclose = (close) => {
      this.socket = null;
      if (!this.running) return;
      if (close.code === CLOSE_RESYNC) {
        resync();
        this.retry();
        return;
      }
      if (close.code === CLOSE_UNAUTHORIZED) {
        // The token is no longer taken: the API confirms it and sends us to the login screen.
        api("GET", "message/unread").then(
          () => this.retry(),
          () => {},
        );
        return;
      }
      if (!this.opened) {
        this.failures += 1;
        // A socket that cannot be opened at all (a proxy without WebSocket support): long-poll.
        if (this.failures >= 2 && navigator.onLine) {
          this.poll();
          return;
        }
      }
      this.retry();
    };
  },

  retry() {
    if (!this.running) return;
    setConnection(navigator.onLine ? "Reconnecting…" : "Offline: messages wait on this device", "offline");
    const delay = Math.min(1000 * 2 ** Math.min(this.failures, 4), 15000);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), navigator.onLine ? delay : 2000);
  },

  /** Reconnect at once (the network came back). */
  wake() {
    if (!this.running) return;
    if (this.mode === "socket" && !this.socket) {
      clearTimeout(this.reconnectTimer);
      this.connect();
    }
  },

  async poll() {
    this.mode = "poll";
    setConnection("Live (long-poll)", "live");
    while (this.running && this.mode === "poll") {
      // Without an id of ours the server waits only for what comes next, and says where that is.
      const since = state.lastEventId === null ? "" : `&since=${state.lastEventId}`;
      this.pollController = new AbortController();
      try {
        const response = await fetch(`${API}/events?timeout=${LONG_POLL_TIMEOUT_S}${since}`, {
          headers: { Authorization: `Token ${state.token}`, Accept: "application/json" },
          signal: this.pollController.signal,
        });
        if (response.status === 401) {
          endSession("Your session has expired or was logged out. Please log in again.");
          return;
        }
        const data = await response.json().catch(() => null);
        if (response.status === 410) {
          resync();
          continue;
        }
        if (!response.ok || !data) throw new Error(`events: ${response.status}`);
        setConnection("Live (long-poll)", "live");
        for (const event of data.events) applyEvent(event);
        if (typeof data.next_since === "number") rememberEventId(data.next_since);
      } catch (error) {
        if (!this.running || this.mode !== "poll") return;
        setConnection(navigator.onLine ? "Reconnecting…" : "Offline: messages wait on this device", "offline");
        await new Promise((resolve) => setTimeout(resolve, navigator.onLine ? 3000 : 1000));
      }
    }
  },
};

/** The server no longer holds what came after our last id: start over from the lists, and
 * from the newest event on. */
function resync() {
  state.lastEventId = null;
  store.remove(userKey("last-event-id"));
  catchUp();
}

/** Everything that may have changed while away: the lists, the open conversation and the blocks. */
async function catchUp() {
  try {
    await Promise.all([loadConversations(), loadBlocks(), refreshConversation()]);
  } catch (error) {
    if (error instanceof NetworkError) setConnection("Offline: messages wait on this device", "offline");
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring

function sendTyping() {
  const now = Date.now();
  if (!state.peer || now - state.lastTypingSent < TYPING_SEND_EVERY_MS) return;
  const socket = events.socket;
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  state.lastTypingSent = now;
  socket.send(JSON.stringify({ type: "typing", to: state.peer }));
}

function submitComposer(event) {
  event.preventDefault();
  const input = $("composer-input");
  const content = input.value;
  if (!state.peer || !content.trim()) return;
  setError("conversation-error", "");
  input.value = "";
  state.lastTypingSent = 0;
  queueMessage(state.peer, content);
}

async function submitNewConversation(event) {
  event.preventDefault();
  const peer = $("new-peer").value.trim();
  setError("new-conversation-error", "");
  if (!USERNAME_RE.test(peer)) {
    setError("new-conversation-error", "A username is letters, digits and @ . + - _ only.");
    return;
  }
  if (await openConversation(peer)) $("new-peer").value = "";
}

async function toggleBlock() {
  const peer = state.peer;
  if (!peer) return;
  setError("conversation-error", "");
  try {
    if (state.blocked.has(peer.toLowerCase())) {
      await api("DELETE", `block/${encodeURIComponent(peer)}`);
      state.blocked.delete(peer.toLowerCase());
    } else {
      await api("POST", "block", { body: { blocked: peer } });
      state.blocked.add(peer.toLowerCase());
    }
    renderConversationHeader();
    $("block-toggle").focus();
  } catch (error) {
    if (error instanceof SessionExpired) return;
    setError("conversation-error", error instanceof NetworkError ? "You are offline; try again when connected." : error.message);
  }
}

function wire() {
  $("login-form").addEventListener("submit", (e) => submitAuth(e, "login"));
  $("register-form").addEventListener("submit", (e) => submitAuth(e, "register"));
  $("logout").addEventListener("click", () => logout(false));
  $("logout-all").addEventListener("click", () => logout(true));
  $("new-conversation-form").addEventListener("submit", submitNewConversation);
  $("more-conversations").addEventListener("click", () =>
    loadConversations(state.conversationsNext).catch(() => {}),
  );
  $("composer").addEventListener("submit", submitComposer);
  $("composer-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("composer-input").addEventListener("input", sendTyping);
  $("block-toggle").addEventListener("click", toggleBlock);
  $("load-older").addEventListener("click", loadOlder);
  $("messages").addEventListener("scroll", () => {
    if ($("messages").scrollTop < 60) loadOlder();
  });
  $("back").addEventListener("click", () => {
    const peer = state.peer;
    closeConversation();
    renderConversations();
    const button = document.querySelector(`.conversation-item[data-peer="${CSS.escape(peer || "")}"]`);
    (button || $("new-peer")).focus();
  });
  window.addEventListener("online", () => {
    if (!state.token) return;
    setConnection("Back online: catching up…", "connecting");
    events.wake();
    flushOutbox();
    catchUp();
  });
  window.addEventListener("offline", () => {
    if (state.token) setConnection("Offline: messages wait on this device", "offline");
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") markRead();
  });
  // Another tab of the same browser logged out: follow it.
  window.addEventListener("storage", (event) => {
    if (event.key === "oms.token" && event.newValue === null && state.token) endSession("You are logged out.");
  });
}

wire();
if (state.token && state.username) startSession(state.token, state.username);
else showAuth();
