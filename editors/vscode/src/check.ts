// `fim-lsp check` as the server's `fimLsp.check` command answers it, read and summed up for VS Code.

/** The server's own command; vscode-languageclient registers it, so the extension's is `fimLsp.checkSetup`. */
export const SERVER_CHECK_COMMAND = "fimLsp.check";

export interface CheckResult {
  ok: boolean;
  lines: string[];
}

export const FAIL_MARK = "\u2717";

/** Reads the command's `{ok, lines, text}`; anything malformed is undefined. */
export function parseCheckResult(raw: unknown): CheckResult | undefined {
  if (typeof raw !== "object" || raw === null) {
    return undefined;
  }
  const { ok, lines } = raw as Record<string, unknown>;
  if (typeof ok !== "boolean" || !Array.isArray(lines) || !lines.every((line) => typeof line === "string")) {
    return undefined;
  }
  return { ok, lines: lines as string[] };
}

export interface CheckView {
  /** The text of the "fim-lsp check" output channel. */
  report: string;
  /** The pop-up: an error with the ✗ lines, or information when all is well. */
  level: "info" | "error";
  message: string;
}

/** What to show for a check: the whole report in the output channel, its gist in a pop-up. */
export function checkView(result: CheckResult): CheckView {
  const failed = result.lines.filter((line) => line.startsWith(FAIL_MARK));
  const verdict = result.ok
    ? "Suggestions can be made with these settings."
    : "No suggestion can be made with these settings.";
  const report = [...result.lines, "", verdict].join("\n");
  if (failed.length > 0 || !result.ok) {
    const why = failed.length > 0 ? failed.join(" ") : verdict;
    return { report, level: "error", message: `fim-lsp check: ${why}` };
  }
  return { report, level: "info", message: `fim-lsp check: all ${result.lines.length} findings fine. ${verdict}` };
}
