// The campaign page: reads the campaign's progress every two seconds with the marketer's
// bearer token (kept in this tab's sessionStorage only) and sends pause / resume.
"use strict";

const KEY = "campaign_token";
const id = location.pathname.split("/").slice(-2)[0];
const api = "/api/notifications/campaigns/" + encodeURIComponent(id);
const $ = (name) => document.getElementById(name);
let timer = null;

function counts(map) {
  const parts = Object.entries(map || {}).map(([reason, n]) => reason + ": " + n);
  return parts.length ? parts.join(", ") : "0";
}

function show(campaign) {
  $("signin").hidden = true;
  $("progress").hidden = false;
  $("channel").textContent = campaign.channel === "sms" ? "SMS" : "email";
  $("promotion").textContent = campaign.promotion.name;
  $("status").textContent = campaign.status;
  $("waiting").textContent = campaign.waiting
    ? "(ждёт до " + new Date(campaign.waiting.until).toLocaleString() + ": " + campaign.waiting.reason + ")"
    : "";
  const skipped = Object.values(campaign.skipped || {}).reduce((a, b) => a + b, 0);
  const done = campaign.sent + campaign.failed + skipped;
  const audience = campaign.audience || 0;
  $("bar").max = Math.max(audience, done, 1);
  $("bar").value = done;
  $("audience").textContent = campaign.audience === null ? "—" : String(audience);
  $("sent").textContent = String(campaign.sent);
  $("failed").textContent = counts(campaign.failures);
  $("skipped").textContent = counts(campaign.skipped);
  $("pause").disabled = !["scheduled", "running"].includes(campaign.status);
  $("resume").disabled = campaign.status !== "paused";
}

async function call(method, path) {
  const token = sessionStorage.getItem(KEY);
  const response = await fetch(api + path, {
    method: method,
    headers: { Authorization: "Bearer " + token },
    cache: "no-store",
    credentials: "omit",
  });
  const body = await response.json();
  if (!response.ok) {
    if (response.status === 401 || response.status === 403) {
      sessionStorage.removeItem(KEY);
      $("signin").hidden = false;
    }
    $("message").textContent = body.title + (body.detail ? ": " + body.detail : "");
    return null;
  }
  $("message").textContent = "";
  show(body);
  return body;
}

async function refresh() {
  clearTimeout(timer);
  if (!sessionStorage.getItem(KEY)) return;
  await call("GET", "").catch(() => { $("message").textContent = "Нет связи"; });
  timer = setTimeout(refresh, 2000);
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    refresh();
  });
  $("pause").addEventListener("click", () => call("POST", "/pause"));
  $("resume").addEventListener("click", () => call("POST", "/resume"));
  refresh();
});
