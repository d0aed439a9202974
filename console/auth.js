// Signing in. Locally (config.mode "local") a development sign-in: POST /dev/sign-in with a name, and whether to
// sign in as an admin, answers a console token. In AWS (mode "cognito") Cognito's managed login with the
// authorization code flow and PKCE: the page sends the browser to the user pool's /oauth2/authorize with a
// code challenge, and on the way back exchanges the code (with its verifier) at /oauth2/token. The ID token
// (it names the operator as cognito:username and their groups as cognito:groups) is kept in memory only
// (api.js). Only the verifier and the state survive the redirect, in sessionStorage, and are removed as soon
// as the code is exchanged: they are worthless without the code, which only Cognito's redirect carries.

import { h } from "./dom.js";

const PENDING = "parley-console-pkce"; // sessionStorage: { verifier, state } while Cognito's login runs

export async function devSignIn(username, admin) {
  const answer = await fetch("./dev/sign-in", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username, admin }),
  });
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(data?.error?.message ?? `The sign-in answered ${answer.status}.`);
  return { token: data.token, operator: data.username };
}

function base64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const randomText = (size) => base64url(crypto.getRandomValues(new Uint8Array(size)));

function cognitoOrigin(domain) {
  return domain.startsWith("https://") ? domain.replace(/\/$/, "") : `https://${domain}`;
}

/** Send the browser to Cognito's managed login. */
export async function startCognitoSignIn(cognito) {
  const verifier = randomText(48);
  const state = randomText(24);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const params = new URLSearchParams({
    response_type: "code", client_id: cognito.clientId, redirect_uri: cognito.redirectUri,
    scope: "openid email profile", state, code_challenge: challenge, code_challenge_method: "S256",
  });
  window.location.assign(`${cognitoOrigin(cognito.domain)}/oauth2/authorize?${params}`);
}

/** Back from Cognito with ?code=&state=: the tokens, or null when this load is not such a return. */
export async function finishCognitoSignIn(cognito) {
  const params = new URLSearchParams(window.location.search);
  const code = params.get("code");
  if (!code && !params.get("error")) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  sessionStorage.removeItem(PENDING);
  window.history.replaceState(null, "", window.location.pathname + window.location.hash); // the code goes
  if (params.get("error")) throw new Error(`Cognito refused the sign-in: ${params.get("error")}.`);
  if (!pending || pending.state !== params.get("state")) throw new Error("The sign-in's state does not match.");
  const answer = await fetch(`${cognitoOrigin(cognito.domain)}/oauth2/token`, {
    method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", client_id: cognito.clientId, code, redirect_uri: cognito.redirectUri,
      code_verifier: pending.verifier,
    }),
  });
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok || !data.id_token) throw new Error(`Cognito did not exchange the code (${data.error ?? answer.status}).`);
  const claims = JSON.parse(atob(data.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  return { token: data.id_token, operator: claims["cognito:username"] ?? claims.sub };
}

/** The sign-in form: the dev one locally, a button to Cognito in AWS. */
export function signInView(config, onSignedIn, failure) {
  const message = h("p", { class: "error", role: "alert", "data-testid": "sign-in-error" }, failure ?? "");
  message.hidden = !failure;
  const fail = (error) => {
    message.textContent = error.message;
    message.hidden = false;
  };
  if (config.mode === "cognito") {
    return h("section", { class: "panel sign-in", "data-testid": "sign-in" },
      h("h1", {}, "Sign in"),
      h("p", {}, "Operators sign in with the console's Cognito user pool; only members of its admins group may use it."),
      h("button", { type: "button", "data-testid": "sign-in-cognito",
        onclick: () => startCognitoSignIn(config.cognito).catch(fail) }, "Sign in"),
      message);
  }
  const form = h("form", { class: "panel sign-in", "data-testid": "sign-in" },
    h("h1", {}, "Sign in (development)"),
    h("p", { class: "muted" }, "The local stack's development sign-in: no password, on this machine only. In AWS "
      + "operators sign in with Cognito."),
    h("label", {}, "Name ", h("input", { name: "username", required: true, autocomplete: "username",
      "data-testid": "sign-in-name", value: "operator" })),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "admin", checked: true,
      "data-testid": "sign-in-admin" }), " in the admins group"),
    h("button", { type: "submit", "data-testid": "sign-in-submit" }, "Sign in"),
    message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      onSignedIn(await devSignIn(form.elements.username.value.trim(), form.elements.admin.checked));
    } catch (error) {
      fail(error);
    }
  });
  return form;
}
