// The console's calls to the server API (under config.apiBase, on the page's own origin). The token lives in
// this module's variable only: never in localStorage, sessionStorage or a cookie, so nothing another script
// could read survives a reload (reload = sign in again).

let base = "/console";
let token = null;
let operator = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function configure(apiBase) {
  base = apiBase.replace(/\/$/, "");
}

export function signIn(newToken, name) {
  token = newToken;
  operator = name;
}

export function signOut() {
  token = null;
  operator = null;
}

export const signedIn = () => token !== null;
export const operatorName = () => operator;

/** Call the server API: call("GET", "/v1/reports", { query: { status: "open" } }). */
export async function call(method, path, { query, body } = {}) {
  if (token === null) throw new ApiError(401, "signed_out", "Sign in first.");
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const search = params.toString();
  const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(`${base}${path}${search ? `?${search}` : ""}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit",
    cache: "no-store",
  });
  const text = await answer.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!answer.ok) {
    const error = data?.error ?? {};
    throw new ApiError(answer.status, error.code ?? `http_${answer.status}`,
      error.message ?? data?.message ?? `The server answered ${answer.status}.`);
  }
  return data;
}

/** A path segment. */
export const seg = (value) => encodeURIComponent(String(value));
