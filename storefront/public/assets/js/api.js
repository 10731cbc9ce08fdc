// The public API through the gateway (same origin): JSON in, JSON or problem+json out.
import { accessToken, forgetToken } from "./auth.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && problem.title) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** ``auth``: send the access token when the visitor has one (cart, checkout, orders). */
export async function api(path, { method = "GET", body, auth = false, headers = {} } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (auth) {
    const token = await accessToken();
    if (token) sent.Authorization = `Bearer ${token}`;
  }
  const response = await fetch(path, {
    method,
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : null;
  if (response.status === 401 && auth) forgetToken();
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
