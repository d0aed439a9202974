// The console's shell: reads config.json, signs the operator in (auth.js), then shows the page the location's
// hash names (#/overview, #/reports, #/reports/<id>, #/users/<id>, #/conversations/<id>, #/audit). Every page
// asks the server API for what it shows; the server checks the operator on every call, so a page shows the
// server's refusal rather than deciding anything itself.

import * as api from "./api.js";
import { finishCognitoSignIn, signInView } from "./auth.js";
import { h, problem, show } from "./dom.js";
import { auditPage } from "./pages/audit.js";
import { conversationPage } from "./pages/conversation.js";
import { overviewPage } from "./pages/overview.js";
import { reportPage } from "./pages/report.js";
import { reportsPage } from "./pages/reports.js";
import { userPage } from "./pages/user.js";

const main = document.getElementById("main");
const nav = document.querySelector("[data-testid=nav]");
const operatorBadge = document.querySelector("[data-testid=operator]");
const signOutButton = document.querySelector("[data-testid=sign-out]");
let config = null;
let shown = 0; // each route() counts: an older page that answers late does not replace a newer one

const routes = [
  [/^\/overview$/, () => overviewPage()],
  [/^\/reports$/, () => reportsPage()],
  [/^\/reports\/(.+)$/, (id) => reportPage(id)],
  [/^\/users\/(.+)$/, (id) => userPage(id)],
  [/^\/conversations\/(.+)$/, (id) => conversationPage(id)],
  [/^\/audit$/, () => auditPage()],
];

async function route() {
  const mine = ++shown;
  if (!api.signedIn()) {
    showSignIn();
    return;
  }
  const path = window.location.hash.replace(/^#/, "") || "/overview";
  for (const link of nav.querySelectorAll("a[data-page]")) {
    link.classList.toggle("current", path.startsWith(`/${link.dataset.page}`));
  }
  const match = routes.map(([pattern, page]) => [path.split("?")[0].match(pattern), page]).find(([m]) => m);
  main.setAttribute("aria-busy", "true");
  let content;
  try {
    content = match ? await match[1](...match[0].slice(1).map(decodeURIComponent))
      : h("p", {}, "No such page. ", h("a", { href: "#/overview" }, "Overview"));
  } catch (error) {
    if (error.status === 401 && mine === shown) { // the token expired (Cognito's last an hour) or was refused
      api.signOut();
      showSignIn(`Sign in again: ${error.message}`);
      return;
    }
    content = problem(error);
  }
  if (mine !== shown) return;
  show(main, content);
  main.removeAttribute("aria-busy");
  main.dataset.page = match ? path.split("/")[1] : "none";
}

function signedIn({ token, operator }) {
  api.signIn(token, operator);
  operatorBadge.textContent = operator;
  nav.hidden = false;
  signOutButton.hidden = false;
  if (window.location.hash) route();
  else window.location.hash = "#/overview"; // hashchange shows it
}

function showSignIn(failure) {
  nav.hidden = true;
  signOutButton.hidden = true;
  operatorBadge.textContent = "";
  main.dataset.page = "sign-in";
  main.removeAttribute("aria-busy");
  show(main, signInView(config, signedIn, failure));
}

signOutButton.addEventListener("click", () => {
  api.signOut();
  showSignIn();
});

document.querySelector("[data-testid=goto]").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const id = form.elements.id.value.trim();
  if (id) window.location.hash = `#/${form.elements.kind.value}/${encodeURIComponent(id)}`;
  form.reset();
});

window.addEventListener("hashchange", route);

async function start() {
  try {
    const answer = await fetch("./config.json", { cache: "no-store" });
    if (!answer.ok) throw new Error(`config.json answered ${answer.status}`);
    config = await answer.json();
  } catch (error) {
    show(main, problem(new Error(`The console has no configuration: ${error.message}.`)));
    return;
  }
  api.configure(config.apiBase ?? "/console");
  if (config.mode === "cognito") {
    try {
      const back = await finishCognitoSignIn(config.cognito);
      if (back) {
        signedIn(back);
        return;
      }
    } catch (error) {
      showSignIn(error.message);
      return;
    }
  }
  showSignIn();
}

start();
