// The scenarios shared with the browser (scenarios.mjs), here in Node with `ws`; tests/browser/sdk_scenarios.spec.mjs
// runs the same ones in headless Chromium (both from `make test`: tests/e2e/test_js_sdk.py).
import { describe, test } from "node:test";
import * as sdk from "../dist/index.js";
import { SCENARIOS } from "./scenarios.mjs";
import { connected, skipWithoutStack, user } from "./support.mjs";

const env = { sdk, connect: connected, user, storage: () => new sdk.MemoryStorage() };

describe("the scenarios shared with the browser, in Node", { skip: skipWithoutStack }, () => {
  for (const scenario of SCENARIOS) {
    test(scenario.name, () => scenario.run(env));
  }
});
