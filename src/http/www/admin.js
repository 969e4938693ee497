// admin.js: the web admin page. Talks only to tern's admin API
// (/api/v1/..., docs/HTTP.md): sign in for a token, then page through
// accounts, switch IMAP, POP3 and SMTP per account, for a selection or for
// a whole domain, and see and set an account's quota. The token lives in sessionStorage (this tab only).
"use strict";

const PAGE = 50;
const state = { offset: 0, total: 0, rows: [] };
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

function signedIn(address) {
  $("signin").hidden = true;
  $("accounts").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = address;
  load();
}

function signedOut() {
  sessionStorage.removeItem("tern-token");
  sessionStorage.removeItem("tern-address");
  $("signin").hidden = false;
  $("accounts").hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
}

function say(text) { $("status").textContent = text; }

function cell(tr, content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.appendChild(content); else td.textContent = content;
  tr.appendChild(td);
  return td;
}

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
    const quota = document.createElement("button");
    quota.type = "button";
    quota.className = "quota";
    quota.textContent = "Quota";
    quota.addEventListener("click", () => showQuota(a.address));
    cell(tr, quota);
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

const MIB = 1024 * 1024;

function limitText(used, limit, unit) {
  return limit === 0 ? `${used}${unit} (no limit)` : `${used}${unit} of ${limit}${unit}`;
}

async function showQuota(address) {
  try {
    const q = await api("GET", "/api/v1/quota", { address });
    $("quota-panel").hidden = false;
    $("quota-address").textContent = q.address;
    $("quota-usage").textContent =
      `storage ${limitText((q.storage_used / MIB).toFixed(1), (q.storage_limit / MIB), " MiB")}, ` +
      `messages ${limitText(q.messages_used, q.messages_limit, "")}`;
    $("quota-storage").value = Math.round(q.storage_limit / MIB);
    $("quota-messages").value = q.messages_limit;
  } catch (e) { say(e.message); }
}

async function saveQuota(ev) {
  ev.preventDefault();
  const address = $("quota-address").textContent;
  try {
    await api("POST", "/api/v1/quota/set", {
      address, storage: Number($("quota-storage").value) * MIB,
      messages: Number($("quota-messages").value),
    });
    say(`Quota of ${address} saved`);
    showQuota(address);
  } catch (e) { say(e.message); }
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
  $("search-form").addEventListener("submit", (ev) => { ev.preventDefault(); state.offset = 0; load(); });
  $("prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); load(); });
  $("next").addEventListener("click", () => { state.offset += PAGE; load(); });
  $("select-all").addEventListener("change", () => {
    for (const box of document.querySelectorAll(".pick")) box.checked = $("select-all").checked;
    countSelected();
  });
  $("quota-panel").addEventListener("submit", saveQuota);
  $("bulk-off").addEventListener("click", () => bulk(false));
  $("bulk-on").addEventListener("click", () => bulk(true));
  $("domain-off").addEventListener("click", () => wholeDomain(false));
  $("domain-on").addEventListener("click", () => wholeDomain(true));
  if (token()) signedIn(sessionStorage.getItem("tern-address")); else signedOut();
});
