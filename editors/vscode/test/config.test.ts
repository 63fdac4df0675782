import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  isAuthError,
  keyEnvVar,
  lastSuggestionText,
  launchSettings,
  parseStatus,
  serverEnv,
  serverSettings,
  statusView,
} from "../src/config";

const from = (values: Record<string, unknown>) => (key: string) => values[key];

describe("serverSettings", () => {
  it("gives the documented defaults and no endpoint when nothing is set", () => {
    assert.deepEqual(serverSettings(from({})), {
      enable: true,
      disabledLanguages: [],
      backend: "codestral",
      template: "",
      headers: {},
      caBundle: "",
      stream: true,
      multiline: "auto",
      contextChars: 3000,
      exclude: [],
      redactSecrets: true,
      speculateAfterAccept: true,
      workAhead: true,
      earlyFirstLine: true,
      firstLineMs: 250,
      partialFirstLine: true,
      readOnLines: 4,
      maxTokens: 256,
      temperature: 0,
      stop: [],
      debounceMs: 75,
      adaptiveDebounce: true,
      debounceMinMs: 30,
      debounceMaxMs: 300,
      maxPrefixChars: 6000,
      maxSuffixChars: 2000,
      timeoutMs: 10000,
    });
  });

  it("passes valid values through", () => {
    const s = serverSettings(
      from({
        enable: false,
        disabledLanguages: ["markdown"],
        endpoint: "http://127.0.0.1:8080/",
        model: "codestral-2501",
        maxTokens: 64,
        temperature: 0.2,
        stop: ["\n\n"],
        debounceMs: 0,
        adaptiveDebounce: false,
        maxPrefixChars: 100,
        maxSuffixChars: 50,
        timeoutMs: 500,
      }),
    );
    assert.equal(s.enable, false);
    assert.deepEqual(s.disabledLanguages, ["markdown"]);
    assert.equal(s.endpoint, "http://127.0.0.1:8080");
    assert.equal(s.model, "codestral-2501");
    assert.equal(s.maxTokens, 64);
    assert.equal(s.temperature, 0.2);
    assert.deepEqual(s.stop, ["\n\n"]);
    assert.equal(s.debounceMs, 0);
    assert.equal(s.adaptiveDebounce, false);
    assert.equal(s.maxPrefixChars, 100);
    assert.equal(s.maxSuffixChars, 50);
    assert.equal(s.timeoutMs, 500);
  });

  it("replaces invalid values with defaults", () => {
    const s = serverSettings(
      from({ enable: "no", maxTokens: 0, temperature: 3, debounceMs: -1, timeoutMs: 1.5, stop: ["x", 1], model: " " }),
    );
    assert.equal(s.enable, true);
    assert.equal(s.maxTokens, 256);
    assert.equal(s.temperature, 0);
    assert.equal(s.debounceMs, 75);
    assert.equal(s.timeoutMs, 10000);
    assert.deepEqual(s.stop, ["x"]);
    // No model: the server uses its backend's default (a Codestral name would reach Ollama).
    assert.equal(s.model, undefined);
  });

  it("passes the backend settings through and drops invalid ones", () => {
    const s = serverSettings(
      from({
        backend: "openai",
        template: "qwen",
        headers: { "X-Team": "a", bad: 3 },
        topP: 0.9,
        minTokens: 2,
        randomSeed: 7,
        stream: false,
        multiline: "never",
        contextChars: 0,
        exclude: ["*.csv", 4],
        redactSecrets: false,
      }),
    );
    assert.equal(s.backend, "openai");
    assert.equal(s.template, "qwen");
    assert.deepEqual(s.headers, { "X-Team": "a" });
    assert.deepEqual([s.topP, s.minTokens, s.randomSeed, s.stream], [0.9, 2, 7, false]);
    assert.deepEqual([s.multiline, s.contextChars, s.exclude, s.redactSecrets], ["never", 0, ["*.csv"], false]);
    const bad = serverSettings(from({ backend: "gpt", multiline: "yes", topP: 2, minTokens: -1 }));
    assert.deepEqual([bad.backend, bad.multiline, bad.topP, bad.minTokens], ["codestral", "auto", undefined, undefined]);
  });

  it("takes readOnLines from 0 to 100 and keeps its default otherwise", () => {
    assert.equal(serverSettings(from({ readOnLines: 0 })).readOnLines, 0);
    assert.equal(serverSettings(from({ readOnLines: 12 })).readOnLines, 12);
    for (const bad of [-1, 101, 2.5, "4"]) {
      assert.equal(serverSettings(from({ readOnLines: bad })).readOnLines, 4);
    }
  });

  it("never passes on keys outside the list, such as an apiKey from a folder's settings", () => {
    const s = serverSettings(from({ apiKey: "stolen", "server.path": "/bin/sh", completionItems: "on" }));
    assert.ok(!("apiKey" in s));
    assert.ok(!("server" in s));
    assert.ok(!("completionItems" in s));
  });
});

describe("launchSettings", () => {
  it("defaults to fim-lsp on PATH", () => {
    assert.deepEqual(launchSettings(from({}), "/home/u"), { path: "fim-lsp", args: [] });
  });

  it("expands ~ and keeps string arguments", () => {
    assert.deepEqual(
      launchSettings(from({ "server.path": "~/.local/bin/fim-lsp", "server.args": ["-v", 3] }), "/home/u"),
      { path: "/home/u/.local/bin/fim-lsp", args: ["-v"] },
    );
  });
});

describe("the API key's environment", () => {
  it("picks the variable by endpoint host", () => {
    assert.equal(keyEnvVar(undefined), "CODESTRAL_API_KEY");
    assert.equal(keyEnvVar("https://codestral.mistral.ai"), "CODESTRAL_API_KEY");
    assert.equal(keyEnvVar("https://API.mistral.ai/"), "MISTRAL_API_KEY");
    assert.equal(keyEnvVar("http://127.0.0.1:9999"), "CODESTRAL_API_KEY");
    assert.equal(keyEnvVar("not a url"), "CODESTRAL_API_KEY");
  });

  it("puts a stored key in one variable and drops inherited keys", () => {
    const base = { PATH: "/usr/bin", CODESTRAL_API_KEY: "old", MISTRAL_API_KEY: "old2", UNSET: undefined };
    assert.deepEqual(serverEnv(base, "new", "https://api.mistral.ai"), { PATH: "/usr/bin", MISTRAL_API_KEY: "new" });
    assert.deepEqual(serverEnv(base, "new", undefined), { PATH: "/usr/bin", CODESTRAL_API_KEY: "new" });
  });

  it("keeps the inherited environment when no key is stored", () => {
    assert.deepEqual(serverEnv({ PATH: "/p", MISTRAL_API_KEY: "shell" }, undefined, undefined), {
      PATH: "/p",
      MISTRAL_API_KEY: "shell",
    });
  });

  it("does not change the editor's own environment", () => {
    const base = { CODESTRAL_API_KEY: "old" };
    serverEnv(base, "new", undefined);
    assert.deepEqual(base, { CODESTRAL_API_KEY: "old" });
  });
});

describe("status with the last suggestion", () => {
  it("reads the last suggestion's latency and source, and shows them in the tooltip", () => {
    const status = parseStatus({ state: "idle", message: "", latencyMs: 243.4, source: "model" });
    assert.deepEqual(status, { state: "idle", message: "", last: { latencyMs: 243.4, source: "model" } });
    assert.equal(parseStatus({ state: "idle", latencyMs: "x", source: "model" })?.last, undefined);
    assert.equal(parseStatus({ state: "idle", latencyMs: 3, source: "oracle" })?.last, undefined);
    assert.equal(lastSuggestionText({ latencyMs: 0.6, source: "typed" }), "last suggestion 1 ms from typing through");
    const view = statusView("idle", "", true, { latencyMs: 243.4, source: "cache" });
    assert.equal(view.tooltip, "fim-lsp: ready (last suggestion 243 ms from the cache)");
    // An error or a missing key is what the tooltip must say first.
    assert.equal(statusView("off", "no API key", true, { latencyMs: 1, source: "model" }).tooltip.includes("last"), false);
  });
});

describe("status", () => {
  it("parses the server's notification and ignores malformed ones", () => {
    assert.deepEqual(parseStatus({ state: "fetching", message: "m" }), { state: "fetching", message: "m" });
    assert.deepEqual(parseStatus({ state: "idle" }), { state: "idle", message: "" });
    assert.equal(parseStatus({ state: "busy" }), undefined);
    assert.equal(parseStatus(null), undefined);
    assert.equal(parseStatus("idle"), undefined);
  });

  it("shows each state, and off whenever completions are disabled", () => {
    assert.equal(statusView("idle", "", true).text, "$(sparkle) FIM");
    assert.equal(statusView("fetching", "", true).text, "$(loading~spin) FIM");
    const error = statusView("error", "HTTP 401 Unauthorized", true);
    assert.equal(error.error, true);
    assert.match(error.tooltip, /401/);
    assert.equal(statusView("off", "", true).text, "$(circle-slash) FIM");
    assert.equal(statusView("fetching", "", false).text, "$(circle-slash) FIM");
    assert.equal(statusView("stopped", "", true).error, true);
    assert.equal(statusView("idle", "", true).needsKey, false);
  });

  it("asks for a key when the server has none or it was rejected", () => {
    const none = statusView("off", "no API key", true);
    assert.equal(none.text, "$(key) FIM");
    assert.equal(none.needsKey, true);
    assert.equal(none.error, false);
    const rejected = statusView("error", "API key rejected", true);
    assert.equal(rejected.needsKey, true);
    assert.equal(rejected.error, true);
    assert.equal(statusView("error", "API key rejected", false).needsKey, false);
  });

  it("recognises errors about the key", () => {
    assert.ok(isAuthError("HTTP 401: Unauthorized"));
    assert.ok(isAuthError("no API key: set CODESTRAL_API_KEY"));
    assert.ok(isAuthError("API key rejected"));
    assert.ok(!isAuthError("timed out after 10000 ms"));
    assert.ok(!isAuthError("HTTP 429 rate limited"));
  });
});
