// Drives a running code-server (a real VS Code) through Chromium with playwright-core for
// tests/editors/test_vscode.py: no key reported, a wrong key set through the command palette is
// rejected, the right one gives ghost text, Tab accepts it, the file is saved, the log opens and
// the toggle turns completions off. Reads its job from the JSON file named by argv[2]:
//   {url, file, key, wrongKey, typed, expected, screenshots, playwrightCore, chromium}
// Prints one JSON line per finished step; on failure takes a screenshot into `screenshots`,
// prints its path and exits 1.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const { chromium } = require(job.playwrightCore);

const started = Date.now();
const step = (name, extra = {}) =>
  console.log(JSON.stringify({ step: name, seconds: (Date.now() - started) / 1000, ...extra }));

// Monaco draws spaces in ghost text as no-break spaces.
const plain = (s) => (s || "").replace(/\u00a0/g, " ");

async function ghostText(page) {
  return plain(
    await page.evaluate(() =>
      [...document.querySelectorAll(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text")]
        .map((e) => e.textContent)
        .join(""),
    ),
  );
}

async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input").first();
  await input.waitFor({ state: "visible" });
  await input.fill(`>${title}`);
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: title }).first().waitFor();
  await page.keyboard.press("Enter");
}

async function main() {
  const browser = await chromium.launch({
    executablePath: job.chromium,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(60_000);
  try {
    await page.goto(job.url);
    await page.locator(".monaco-workbench").waitFor();
    step("workbench");

    // The status bar item appears when the extension has activated. Keys typed before the server
    // runs get no suggestion.
    const status = page.locator('[id="fim-lsp.fim-lsp.fimLsp.status"]');
    await status.waitFor();
    step("extension activated");

    const name = path.basename(job.file);
    await page.locator(".explorer-folders-view .monaco-list-row", { hasText: name }).first().click();
    const editor = page.locator(".editor-instance .monaco-editor .view-lines").first();
    await editor.waitFor();
    step("file opened");

    // No key yet: the status item asks for one (or, while the server's first status is lost, the
    // server's own "no API key" notification says so).
    const keyIcon = status.locator(".codicon-key");
    const keyToast = page.locator(".notification-toast", { hasText: "no API key" });
    await keyIcon.or(keyToast).first().waitFor();
    const noKey = (await keyIcon.count()) > 0 ? "status bar" : "notification";
    step("no key reported", { by: noKey });

    async function setKey(key) {
      await runCommand(page, "fim-lsp: Set API key");
      const keyInput = page.locator('.quick-input-widget input[type="password"]');
      await keyInput.waitFor({ state: "visible" });
      await keyInput.fill(key);
      await page.keyboard.press("Enter");
      const saved = page.locator(".notification-toast", { hasText: "API key saved" }).first();
      await saved.waitFor({ timeout: 30_000 });
      await saved.hover();
      await saved.locator(".codicon-notifications-clear, .codicon-close").first().click();
      await status.locator(".codicon-sparkle").waitFor({ timeout: 30_000 });
    }

    // A wrong key: the mock answers 401 and the status item turns to the key icon.
    await setKey(job.wrongKey);
    await editor.click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type(job.typed, { delay: 30 });
    await status.locator(".codicon-key").waitFor({ timeout: 30_000 });
    step("wrong key rejected", { status: await status.getAttribute("aria-label") });
    await page.keyboard.press("Escape");
    // Back to the file as it was (its undo history starts when it was opened).
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press("Control+Z");
    }

    await setKey(job.key);
    step("key set, server restarted");

    await editor.click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type(job.typed, { delay: 30 });
    // Ghost text may be split over several decorations: poll the whole of it.
    const deadline = Date.now() + 40_000;
    let shown = "";
    while (Date.now() < deadline) {
      shown = await ghostText(page);
      if (shown.includes(job.expected)) {
        break;
      }
      await page.waitForTimeout(250);
    }
    if (!shown.includes(job.expected)) {
      throw new Error(`ghost text ${JSON.stringify(shown)} does not show ${JSON.stringify(job.expected)}`);
    }
    step("ghost text shown", { ghost: shown });
    fs.mkdirSync(job.screenshots, { recursive: true });
    await page.screenshot({ path: path.join(job.screenshots, "ghost-text.png") });

    await page.keyboard.press("Tab");
    await page.keyboard.press("Control+S");
    const deadlineSave = Date.now() + 15_000;
    while (Date.now() < deadlineSave && !fs.readFileSync(job.file, "utf8").includes(job.expected)) {
      await page.waitForTimeout(200);
    }
    step("accepted and saved");

    await runCommand(page, "fim-lsp: Show log");
    await page.locator(".part.panel", { hasText: "Starting" }).first().waitFor();
    step("log shown");

    await runCommand(page, "fim-lsp: Toggle completions on/off");
    await status.locator(".codicon-circle-slash").waitFor();
    step("turned off");
  } catch (error) {
    fs.mkdirSync(job.screenshots, { recursive: true });
    const shot = path.join(job.screenshots, `failure-${Date.now()}.png`);
    await page.screenshot({ path: shot }).catch(() => undefined);
    console.error(`screenshot: ${shot}`);
    throw error;
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
