import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkView, parseCheckResult } from "../src/check";

const good = {
  ok: true,
  lines: ["\u2713 backend: codestral (default)", "\u2713 FIM call: first token 2 ms, total 3 ms"],
  text: "",
};
const bad = {
  ok: false,
  lines: ["\u2713 backend: codestral (default)", "\u2717 cannot reach http://127.0.0.1:9: connection refused"],
  text: "",
};

describe("parseCheckResult", () => {
  it("reads the command's answer", () => {
    assert.deepEqual(parseCheckResult(good), { ok: true, lines: good.lines });
  });
  it("rejects anything else", () => {
    for (const raw of [null, undefined, "x", {}, { ok: "yes", lines: [] }, { ok: true, lines: "a" }, { ok: true, lines: [1] }]) {
      assert.equal(parseCheckResult(raw), undefined, JSON.stringify(raw));
    }
  });
});

describe("checkView", () => {
  it("shows a healthy setup as information", () => {
    const view = checkView(parseCheckResult(good)!);
    assert.equal(view.level, "info");
    assert.equal(view.message, "fim-lsp check: all 2 findings fine. Suggestions can be made with these settings.");
    assert.equal(view.report, [...good.lines, "", "Suggestions can be made with these settings."].join("\n"));
  });
  it("shows the failed lines as an error", () => {
    const view = checkView(parseCheckResult(bad)!);
    assert.equal(view.level, "error");
    assert.equal(view.message, "fim-lsp check: \u2717 cannot reach http://127.0.0.1:9: connection refused");
    assert.ok(view.report.endsWith("\n\nNo suggestion can be made with these settings."));
  });
  it("is an error when the server says no, even without a failed line", () => {
    const view = checkView({ ok: false, lines: ["\u2713 backend: codestral (default)"] });
    assert.equal(view.level, "error");
    assert.equal(view.message, "fim-lsp check: No suggestion can be made with these settings.");
  });
});
