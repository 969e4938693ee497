// admin.js: the web admin page. Talks only to tern's admin API
// (/api/v1/..., docs/HTTP.md), so the page can do nothing the API and the
// CLI cannot. Sign in for a token (kept in sessionStorage: this tab only),
// then four tabs:
//   Accounts  find and page (the server pages: any number of accounts),
//             switch IMAP, POP3 and SMTP per account, for a selection or a
//             whole domain; create; per account: quota and usage, password,
//             app passwords, delete
//   Aliases   list, add, delete
//   Queue     the outbound queue with retry, hold/release and delete
//   Sessions  live sessions; kick an account's
// Destructive buttons ask for a second click instead of a dialog.
"use strict";

const PAGE = 50;
const state = { offset: 0, total: 0, rows: [], account: null };
const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem("tern-token"); }

async function api(method, path, params) {
  const body = params ? new URLSearchParams(params) : undefined;
  const url = method === "GET" && body ? path + "?" + body : path;
  const resp = await fetch(url, {
    method,
    headers: token() ? { Authorization: "Bearer " + token() } : {},
    body: method === "GET" ? undefined : body,
  });
  const data = await resp.json().catch(() => ({ error: resp.statusText }));
  if (resp.status === 401 && token()) signedOut();
  if (!resp.ok) throw new Error(data.error || resp.statusText);
  return data;
}

function say(text) { $("status").textContent = text; }

function cell(tr, content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.appendChild(content); else td.textContent = content;
  tr.appendChild(td);
  return td;
}

function button(label, className, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.className = className;
  b.addEventListener("click", onClick);
  return b;
}

// A button that acts on its second click within five seconds.
function confirmed(label, className, action) {
  const b = button(label, className + " danger", () => {
    if (b.dataset.armed) { delete b.dataset.armed; b.textContent = label; action(); return; }
    b.dataset.armed = "1";
    b.textContent = "Really " + label.toLowerCase() + "?";
    setTimeout(() => { delete b.dataset.armed; b.textContent = label; }, 5000);
  });
  return b;
}

function when(unix) {
  return unix ? new Date(unix * 1000).toISOString().replace(".000", "") : "";
}

// ---- tabs ----

const loaders = { accounts: load, aliases: loadAliases, queue: loadQueue, sessions: loadSessions };

function showTab(name) {
  for (const s of document.querySelectorAll("section.tab")) s.hidden = s.id !== name;
  for (const b of document.querySelectorAll("#tabs button"))
    b.classList.toggle("current", b.dataset.tab === name);
  say("");
  loaders[name]();
}

function signedIn(address) {
  $("signin").hidden = true;
  $("tabs").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = address;
  showTab("accounts");
}

function signedOut() {
  sessionStorage.removeItem("tern-token");
  sessionStorage.removeItem("tern-address");
  $("signin").hidden = false;
  $("tabs").hidden = true;
  for (const s of document.querySelectorAll("section.tab")) s.hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
}

// ---- accounts ----

function render() {
  const tbody = $("account-rows");
  tbody.replaceChildren();
  for (const a of state.rows) {
    const tr = document.createElement("tr");
    tr.dataset.address = a.address;
    if (!a.imap || !a.pop3 || !a.smtp) tr.className = "off";
    const pick = document.createElement("input");
    pick.type = "checkbox";
    pick.className = "pick";
    pick.addEventListener("change", countSelected);
    cell(tr, pick);
    cell(tr, a.address).className = "address";
    cell(tr, a.role);
    for (const proto of ["imap", "pop3", "smtp"]) {
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = a[proto];
      box.className = "toggle-" + proto;
      box.title = proto.toUpperCase() + " for " + a.address;
      box.addEventListener("change", () => setAccess({ addresses: a.address }, proto, box.checked));
      cell(tr, box);
    }
    cell(tr, button("Manage", "manage quota", () => showAccount(a.address)));
    tbody.appendChild(tr);
  }
  const last = Math.min(state.offset + state.rows.length, state.total);
  $("page-info").textContent = state.total === 0 ? "no accounts"
    : `${state.offset + 1}–${last} of ${state.total}`;
  $("prev").disabled = state.offset === 0;
  $("next").disabled = last >= state.total;
  $("select-all").checked = false;
  countSelected();
}

async function load() {
  try {
    const data = await api("GET", "/api/v1/accounts", {
      search: $("search").value, domain: $("domain").value, disabled: $("disabled").value,
      offset: state.offset, limit: PAGE,
    });
    state.rows = data.accounts;
    state.total = data.total;
    render();
  } catch (e) { say(e.message); }
}

function selected() {
  return [...document.querySelectorAll("#account-rows tr")]
    .filter((tr) => tr.querySelector(".pick").checked)
    .map((tr) => tr.dataset.address);
}

function countSelected() { $("selected-count").textContent = selected().length + " selected"; }

async function setAccess(target, proto, on) {
  try {
    const r = await api("POST", "/api/v1/access", { ...target, [proto]: on ? "on" : "off" });
    say(`${proto.toUpperCase()} ${on ? "on" : "off"}: ${r.changed} account(s) changed` +
        (r.missing ? `, ${r.missing} not found` : ""));
  } catch (e) { say(e.message); }
  load();
}

function bulk(on) {
  const list = selected();
  if (list.length === 0) { say("Select accounts first."); return; }
  setAccess({ addresses: list.join(",") }, $("bulk-proto").value, on);
}

function wholeDomain(on) {
  const domain = $("domain").value.trim();
  if (!domain) { say("Type the domain first."); return; }
  setAccess({ domain }, $("bulk-proto").value, on);
}

async function addAccount(ev) {
  ev.preventDefault();
  try {
    const r = await api("POST", "/api/v1/accounts/add",
                        { address: $("new-address").value, password: $("new-password").value });
    $("new-address").value = "";
    $("new-password").value = "";
    say(`Account ${r.address} created`);
    $("search").value = r.address;
    $("domain").value = "";
    state.offset = 0;
    load();
  } catch (e) { say(e.message); }
}

const MIB = 1024 * 1024;

function limitText(used, limit, unit) {
  return limit === 0 ? `${used}${unit} (no limit)` : `${used}${unit} of ${limit}${unit}`;
}

// One account's panel: quota and usage, password, app passwords, delete.
async function showAccount(address) {
  state.account = address;
  $("account-panel").hidden = false;
  $("panel-address").textContent = address;
  $("app-new").textContent = "";
  const del = confirmed("Delete account", "", deleteAccount);
  del.id = "account-delete";
  $("account-delete").replaceWith(del);
  await Promise.all([showQuota(address), loadAppPasswords(address)]);
}

async function showQuota(address) {
  try {
    const q = await api("GET", "/api/v1/quota", { address });
    $("quota-usage").textContent =
      `storage ${limitText((q.storage_used / MIB).toFixed(1), (q.storage_limit / MIB), " MiB")}, ` +
      `messages ${limitText(q.messages_used, q.messages_limit, "")}`;
    $("quota-storage").value = Math.round(q.storage_limit / MIB);
    $("quota-messages").value = q.messages_limit;
  } catch (e) { say(e.message); }
}

async function saveQuota(ev) {
  ev.preventDefault();
  const address = state.account;
  try {
    await api("POST", "/api/v1/quota/set", {
      address, storage: Number($("quota-storage").value) * MIB,
      messages: Number($("quota-messages").value),
    });
    say(`Quota of ${address} saved`);
    showQuota(address);
  } catch (e) { say(e.message); }
}

async function savePassword(ev) {
  ev.preventDefault();
  try {
    await api("POST", "/api/v1/accounts/password",
              { address: state.account, password: $("panel-password").value });
    $("panel-password").value = "";
    say(`Password of ${state.account} changed`);
  } catch (e) { say(e.message); }
}

async function deleteAccount() {
  const address = state.account;
  try {
    await api("POST", "/api/v1/accounts/delete", { address });
    $("account-panel").hidden = true;
    state.account = null;
    say(`Account ${address} deleted`);
    load();
  } catch (e) { say(e.message); }
}

async function loadAppPasswords(address) {
  try {
    const r = await api("GET", "/api/v1/app-passwords", { address });
    const tbody = $("app-rows");
    tbody.replaceChildren();
    for (const p of r.app_passwords) {
      const tr = document.createElement("tr");
      tr.dataset.name = p.name;
      cell(tr, p.name);
      cell(tr, p.protocols);
      cell(tr, when(p.created));
      cell(tr, confirmed("Revoke", "revoke", () => revokeAppPassword(address, p.name)));
      tbody.appendChild(tr);
    }
  } catch (e) { say(e.message); }
}

async function addAppPassword(ev) {
  ev.preventDefault();
  const address = state.account;
  try {
    const r = await api("POST", "/api/v1/app-passwords/add", {
      address, name: $("app-name").value, protocols: $("app-protocols").value,
    });
    $("app-name").value = "";
    $("app-new").textContent = `${r.name}: ${r.password} (shown once)`;
    say(`App password ${r.name} of ${address} created`);
    loadAppPasswords(address);
  } catch (e) { say(e.message); }
}

async function revokeAppPassword(address, name) {
  try {
    await api("POST", "/api/v1/app-passwords/delete", { address, name });
    say(`App password ${name} of ${address} revoked`);
    loadAppPasswords(address);
  } catch (e) { say(e.message); }
}

// ---- aliases ----

async function loadAliases() {
  try {
    const r = await api("GET", "/api/v1/aliases");
    const tbody = $("alias-rows");
    tbody.replaceChildren();
    for (const a of r.aliases) {
      const tr = document.createElement("tr");
      tr.dataset.alias = a.alias;
      tr.dataset.target = a.target;
      cell(tr, a.alias);
      cell(tr, a.target);
      cell(tr, when(a.created));
      cell(tr, confirmed("Delete", "alias-delete", () => deleteAlias(a.alias, a.target)));
      tbody.appendChild(tr);
    }
    if (r.aliases.length === 0) cell(tbody.insertRow(), "no aliases").colSpan = 4;
  } catch (e) { say(e.message); }
}

async function addAlias(ev) {
  ev.preventDefault();
  try {
    const r = await api("POST", "/api/v1/aliases/add",
                        { alias: $("alias-name").value, target: $("alias-target").value });
    $("alias-name").value = "";
    $("alias-target").value = "";
    say(`Alias ${r.alias} → ${r.target} added`);
    loadAliases();
  } catch (e) { say(e.message); }
}

async function deleteAlias(alias, target) {
  try {
    await api("POST", "/api/v1/aliases/delete", { alias, target });
    say(`Alias ${alias} → ${target} deleted`);
    loadAliases();
  } catch (e) { say(e.message); }
}

// ---- the outbound queue ----

async function loadQueue() {
  try {
    const r = await api("GET", "/api/v1/queue", { limit: 1000 });
    $("queue-counts").textContent = `${r.total} message(s): ${r.counts.queued} queued, ` +
      `${r.counts.deferred} deferred, ${r.counts.held} held`;
    const tbody = $("queue-rows");
    tbody.replaceChildren();
    for (const m of r.messages) {
      const tr = document.createElement("tr");
      tr.dataset.id = m.id;
      tr.className = "q-" + m.state;
      cell(tr, button(m.id, "q-show link", () => showMessage(m.id)));
      cell(tr, m.state).className = "q-state";
      cell(tr, String(m.attempts));
      cell(tr, when(m.created));
      cell(tr, m.sender || "<>");
      cell(tr, m.rcpts.join(", "));
      cell(tr, String(m.size));
      const td = cell(tr, button("Retry", "q-retry", () => queueOp("retry", m.id)));
      td.appendChild(m.state === "held"
        ? button("Release", "q-release", () => queueOp("release", m.id))
        : button("Hold", "q-hold", () => queueOp("hold", m.id)));
      td.appendChild(confirmed("Delete", "q-delete", () => queueOp("delete", m.id)));
      tbody.appendChild(tr);
    }
  } catch (e) { say(e.message); }
}

async function queueOp(op, id) {
  try {
    const r = await api("POST", "/api/v1/queue/" + op, id ? { ids: id } : { all: "yes" });
    say(`${op}: ${r.done} message(s)` + (r.missing ? `, ${r.missing} gone` : ""));
  } catch (e) { say(e.message); }
  $("queue-detail").hidden = true;
  loadQueue();
}

async function showMessage(id) {
  try {
    const m = await api("GET", "/api/v1/queue/show", { id });
    const lines = [`${m.id}${m.held ? " (held)" : ""}`, `from <${m.sender}> by ${m.account}`,
      `created ${when(m.created)}, ${m.size} bytes, ${m.attempts} attempt(s)` +
      (m.next ? `, next ${when(m.next)}` : "")];
    for (const r of m.rcpts) lines.push(`  ${r.address}: ${r.state} ${r.last}`);
    $("queue-detail").textContent = lines.join("\n");
    $("queue-detail").hidden = false;
  } catch (e) { say(e.message); }
}

// ---- live sessions ----

async function loadSessions() {
  try {
    const r = await api("GET", "/api/v1/sessions");
    $("sessions-info").textContent = `${r.total} session(s)`;
    const tbody = $("session-rows");
    tbody.replaceChildren();
    for (const x of r.sessions) {
      const tr = document.createElement("tr");
      tr.dataset.sid = x.sid;
      tr.dataset.user = x.user;
      cell(tr, x.sid);
      cell(tr, x.proto);
      cell(tr, x.ip);
      cell(tr, x.user || "–");
      cell(tr, x.age_s + " s");
      cell(tr, x.user ? button("Kick", "kick", () => kick(x.user)) : "");
      tbody.appendChild(tr);
    }
  } catch (e) { say(e.message); }
}

async function kick(address) {
  try {
    await api("POST", "/api/v1/sessions/kick", { address });
    say(`Sessions of ${address} disconnected`);
  } catch (e) { say(e.message); }
  // The sessions end after their running command: look again shortly.
  setTimeout(loadSessions, 300);
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("signin-error").textContent = "";
    try {
      const r = await api("POST", "/api/v1/login",
                          { address: $("address").value, password: $("password").value });
      sessionStorage.setItem("tern-token", r.token);
      sessionStorage.setItem("tern-address", r.address);
      $("password").value = "";
      signedIn(r.address);
    } catch (e) { $("signin-error").textContent = e.message; }
  });
  $("logout").addEventListener("click", async () => {
    await api("POST", "/api/v1/logout").catch(() => {});
    signedOut();
  });
  for (const b of document.querySelectorAll("#tabs button"))
    b.addEventListener("click", () => showTab(b.dataset.tab));
  $("search-form").addEventListener("submit", (ev) => { ev.preventDefault(); state.offset = 0; load(); });
  $("prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); load(); });
  $("next").addEventListener("click", () => { state.offset += PAGE; load(); });
  $("select-all").addEventListener("change", () => {
    for (const box of document.querySelectorAll(".pick")) box.checked = $("select-all").checked;
    countSelected();
  });
  $("add-form").addEventListener("submit", addAccount);
  $("quota-panel").addEventListener("submit", saveQuota);
  $("password-form").addEventListener("submit", savePassword);
  $("app-form").addEventListener("submit", addAppPassword);
  $("bulk-off").addEventListener("click", () => bulk(false));
  $("bulk-on").addEventListener("click", () => bulk(true));
  $("domain-off").addEventListener("click", () => wholeDomain(false));
  $("domain-on").addEventListener("click", () => wholeDomain(true));
  $("alias-form").addEventListener("submit", addAlias);
  $("queue-refresh").addEventListener("click", loadQueue);
  $("queue-retry-all").addEventListener("click", () => queueOp("retry", null));
  $("sessions-refresh").addEventListener("click", loadSessions);
  if (token()) signedIn(sessionStorage.getItem("tern-address")); else signedOut();
});
