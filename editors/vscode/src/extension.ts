// The VS Code side of fim-lsp: starts the server, hands it the settings and the API key, and shows
// its state in the status bar. Ghost text itself comes from vscode-languageclient's built-in
// inline completion feature; accepting a suggestion runs the item's `fimLsp.accepted` command,
// which the client forwards to the server because the server advertises it (so the extension must
// never register a command by that name itself).
import * as os from "node:os";
import * as vscode from "vscode";
import {
  type ConfigurationParams,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  MessageType,
  type ServerOptions,
  ShowMessageNotification,
  type ShowMessageParams,
  State,
} from "vscode-languageclient/node";
import { PartialAcceptTracker, type WireItem, isBlockReadyFor } from "./acceptance";
import { SERVER_CHECK_COMMAND, checkView, parseCheckResult } from "./check";
import {
  isAuthError,
  type LastSuggestion,
  type StatusState,
  keyEnvVar,
  launchSettings,
  parseStatus,
  serverEnv,
  serverSettings,
  statusView,
} from "./config";

const SECTION = "fimLsp";
const SECRET_KEY = "fimLsp.apiKey";
// Changing one of these needs a new server process (its command line or its environment).
const RESTART_SETTINGS = ["fimLsp.server", "fimLsp.endpoint"];
// Copilot's notifications, which fim-lsp counts in its local statistics (never sent anywhere).
const DID_SHOW = "textDocument/didShowCompletion";
const DID_PARTIALLY_ACCEPT = "textDocument/didPartiallyAcceptCompletion";

function wireItem(item: vscode.InlineCompletionItem): WireItem {
  const text = typeof item.insertText === "string" ? item.insertText : item.insertText.value;
  const range = item.range && {
    start: { line: item.range.start.line, character: item.range.start.character },
    end: { line: item.range.end.line, character: item.range.end.character },
  };
  return range ? { insertText: text, range } : { insertText: text };
}

function settings(scope?: vscode.Uri) {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  return (key: string) => config.get(key);
}

class FimExtension implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly output = vscode.window.createOutputChannel("fim-lsp", { log: true });
  private readonly checkOutput = vscode.window.createOutputChannel("fim-lsp check");
  private readonly status = vscode.window.createStatusBarItem("fimLsp.status", vscode.StatusBarAlignment.Right, 100);
  private state: StatusState = "starting";
  private message = "";
  private last: LastSuggestion | undefined;
  private readonly partial = new PartialAcceptTracker();
  // Pop-ups about the API key, closed when the server restarts (after "Set API key").
  private readonly keyNotices = new Set<() => void>();
  // Starts and stops run one after another, never interleaved.
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly context: vscode.ExtensionContext) {
    this.status.name = "fim-lsp";
    this.render();
    this.status.show();
    context.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((event) => {
        const accepted = this.partial.change(
          event.document.uri.toString(),
          event.contentChanges.map((c) => ({ offset: c.rangeOffset, removed: c.rangeLength, text: c.text })),
        );
        if (accepted && this.client?.isRunning()) {
          void this.client.sendNotification(DID_PARTIALLY_ACCEPT, accepted);
        }
      }),
    );
  }

  /**
   * The server's pop-ups. One about the API key is shown as a notification that closes by itself
   * when the server restarts (as "Set API key" does): VS Code cannot close a plain message.
   */
  private showServerMessage(params: ShowMessageParams): void {
    const { type, message } = params;
    if (isAuthError(message)) {
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: message, cancellable: true },
        (_progress, token) =>
          new Promise<void>((resolve) => {
            const close = () => {
              this.keyNotices.delete(close);
              resolve();
            };
            this.keyNotices.add(close);
            token.onCancellationRequested(close);
          }),
      );
      return;
    }
    if (type === MessageType.Error) {
      void vscode.window.showErrorMessage(message);
    } else if (type === MessageType.Warning) {
      void vscode.window.showWarningMessage(message);
    } else {
      void vscode.window.showInformationMessage(message);
    }
  }

  /**
   * The server's `window/showMessage` pop-ups go to `showServerMessage` instead of
   * vscode-languageclient's. The one about a missing key comes during `initialize`, before the
   * client installs handlers registered with `onNotification`, so the connection's own
   * registration of the default handler is redirected (vscode-languageclient is pinned).
   */
  private routeServerMessages(client: LanguageClient): void {
    type Connection = { onNotification: (type: unknown, handler: unknown) => unknown };
    const internals = client as unknown as { createConnection?: () => Promise<Connection> };
    const create = internals.createConnection;
    if (typeof create !== "function") {
      client.onNotification(ShowMessageNotification.type, (params) => this.showServerMessage(params));
      return;
    }
    internals.createConnection = async () => {
      const connection = await create.call(client);
      const register = connection.onNotification.bind(connection);
      connection.onNotification = (type: unknown, handler: unknown) => {
        const method = typeof type === "string" ? type : (type as { method?: string } | undefined)?.method;
        if (method === ShowMessageNotification.method) {
          return register(type, (params: ShowMessageParams) => this.showServerMessage(params));
        }
        return register(type, handler);
      };
      return connection;
    };
  }

  private closeKeyNotices(): void {
    for (const close of [...this.keyNotices]) {
      close();
    }
  }

  restart(): Promise<void> {
    return this.enqueue(async () => {
      await this.stopClient();
      await this.startClient();
    });
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.stopClient());
  }

  private enqueue(operation: () => Promise<void>): Promise<void> {
    // One failed start must not block every later restart.
    this.queue = this.queue.then(operation).catch((error: unknown) => this.output.error(String(error)));
    return this.queue;
  }

  private async startClient(): Promise<void> {
    const launch = launchSettings(settings(), os.homedir());
    const endpoint = serverSettings(settings()).endpoint;
    const apiKey = await this.context.secrets.get(SECRET_KEY);
    // Say where the key comes from, never the key itself.
    this.output.info(
      apiKey
        ? `Starting ${launch.path} with the stored API key in ${keyEnvVar(endpoint)}`
        : `Starting ${launch.path}; no stored API key (the server may find one in its environment)`,
    );
    const serverOptions: ServerOptions = {
      command: launch.path,
      args: launch.args,
      options: { env: serverEnv(process.env, apiKey, endpoint) },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      outputChannel: this.output,
      // Codestral's key travels in its environment variable; another backend's key (a team's
      // vLLM gateway, say) goes beside the endpoint it is for, both from user settings.
      initializationOptions: () => {
        const current = serverSettings(settings());
        return apiKey && current.backend !== "codestral" ? { ...current, apiKey } : current;
      },
      synchronize: { configurationSection: SECTION },
      middleware: {
        // The first item VS Code got back (and will show, unless typing moved on) is reported as
        // shown; its word / line accepts are then followed in the document's changes.
        provideInlineCompletionItems: async (document, position, context, token, next) => {
          const result = await next(document, position, context, token);
          const items = Array.isArray(result) ? result : result?.items;
          const first = items?.[0];
          if (first && !token.isCancellationRequested && this.client === client && client.isRunning()) {
            const item = wireItem(first);
            const start = first.range ? document.offsetAt(first.range.start) : document.offsetAt(position);
            this.partial.show(document.uri.toString(), item, start);
            void client.sendNotification(DID_SHOW, { item });
          }
          return result;
        },
        workspace: {
          // Answer pulls and pushes with the filtered settings, never the raw `fimLsp` section,
          // which holds whatever a folder's settings file put there.
          configuration: (params: ConfigurationParams, token, next) => {
            const ours = (section: string | undefined) =>
              section === SECTION || (section?.startsWith(`${SECTION}.`) ?? false);
            if (!params.items.some((item) => ours(item.section))) {
              return next(params, token);
            }
            // The server asks for its own section only; anything else beside it reads as unset.
            return params.items.map((item) => {
              if (!item.section || !ours(item.section)) {
                return null;
              }
              const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
              const filtered: Record<string, unknown> = { ...serverSettings(settings(scope)) };
              return item.section === SECTION ? filtered : (filtered[item.section.slice(SECTION.length + 1)] ?? null);
            });
          },
          didChangeConfiguration: async () => {
            await client.sendNotification(DidChangeConfigurationNotification.type, {
              settings: { [SECTION]: serverSettings(settings()) },
            });
          },
        },
      },
    };
    const client = new LanguageClient("fimLsp", "fim-lsp", serverOptions, clientOptions);
    this.client = client;
    this.setState("starting", "");
    client.onDidChangeState((event) => {
      if (this.client !== client) {
        return;
      }
      if (event.newState === State.Stopped) {
        this.setState("stopped", "");
      } else if (event.newState === State.Running && (this.state === "starting" || this.state === "stopped")) {
        // Also after vscode-languageclient restarted a crashed server by itself.
        this.setState("idle", "");
      }
    });
    // A suggestion shown by its first line or that line's first words (the model was slow) now
    // has its whole line or block: ask again while the document is as it was, and the server
    // answers from memory. Hidden first:
    // VS Code does not ask again at the same place and version when the line shown was asked
    // for explicitly (its "satisfies" check), and the block replaces the line a moment later.
    client.onNotification("fimLsp/blockReady", (params: unknown) => {
      const editor = vscode.window.activeTextEditor;
      if (this.client === client && editor && isBlockReadyFor(params, editor.document)) {
        void vscode.commands
          .executeCommand("editor.action.inlineSuggest.hide")
          .then(() => vscode.commands.executeCommand("editor.action.inlineSuggest.trigger"));
      }
    });
    client.onNotification("fimLsp/status", (params: unknown) => {
      const status = parseStatus(params);
      if (status && this.client === client) {
        this.last = status.last ?? this.last;
        this.setState(status.state, status.message);
      }
    });
    this.routeServerMessages(client);
    try {
      await client.start();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // vscode-languageclient has already shown its own notification with a "Go to output" button.
      this.output.error(
        `Could not start "${launch.path}": ${reason}. Install fim-lsp, or set fimLsp.server.path ` +
          "to its full path (in a remote window: in the Remote settings), then run fim-lsp: Restart server.",
      );
      this.setState("stopped", `could not start "${launch.path}"`);
    }
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.closeKeyNotices();
    this.partial.forget();
    this.last = undefined;
    if (client) {
      try {
        await client.dispose(2000);
      } catch {
        // A server that never started or already died: nothing left to stop.
      }
    }
  }

  private setState(state: StatusState, message: string): void {
    this.state = state;
    this.message = message;
    this.render();
  }

  render(): void {
    const view = statusView(this.state, this.message, settings()("enable") !== false, this.last);
    this.status.text = view.text;
    this.status.tooltip = view.tooltip;
    this.status.accessibilityInformation = { label: view.tooltip };
    // Without a usable key the one useful action is to set one.
    this.status.command = view.needsKey ? "fimLsp.setApiKey" : "fimLsp.showMenu";
    this.status.backgroundColor = view.error ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  /** Run one of VS Code's accept-part commands, telling the statistics it is an accept. */
  async acceptPart(command: string): Promise<void> {
    this.partial.accepting();
    await vscode.commands.executeCommand(command);
  }

  showLog(): void {
    this.output.show(true);
  }

  /** `fim-lsp check` in the running server: the lines in the "fim-lsp check" output, the gist in a pop-up. */
  async checkSetup(): Promise<void> {
    // A start or restart under way (e.g. right after "Restart server"): check the new server.
    await this.queue;
    const client = this.client;
    if (!client?.isRunning()) {
      void vscode.window.showErrorMessage(
        "fim-lsp: the server is not running, so it cannot check the setup. See fim-lsp: Show log.",
      );
      return;
    }
    this.output.info("Checking the setup (the server's fimLsp.check command)");
    let raw: unknown;
    try {
      raw = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: "fim-lsp: checking the setup…" },
        () => client.sendRequest(ExecuteCommandRequest.type, { command: SERVER_CHECK_COMMAND, arguments: [] }),
      );
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.output.error(`The check failed: ${reason}`);
      void vscode.window.showErrorMessage(`fim-lsp check failed: ${reason}`);
      return;
    }
    const result = parseCheckResult(raw);
    if (!result) {
      void vscode.window.showErrorMessage("fim-lsp check: the server gave an answer this extension does not understand.");
      return;
    }
    const view = checkView(result);
    this.output.info(`Check done: ${view.message}`);
    this.checkOutput.clear();
    this.checkOutput.appendLine(view.report);
    this.checkOutput.show(true);
    void (view.level === "error"
      ? vscode.window.showErrorMessage(view.message)
      : vscode.window.showInformationMessage(view.message));
  }

  dispose(): void {
    this.status.dispose();
    this.output.dispose();
    this.checkOutput.dispose();
  }
}

async function setApiKey(context: vscode.ExtensionContext, extension: FimExtension): Promise<void> {
  const key = await vscode.window.showInputBox({
    title: "fim-lsp: API key",
    prompt: "A Codestral key (codestral.mistral.ai) or, with fimLsp.endpoint set to https://api.mistral.ai, a Mistral key. Stored in VS Code's secret storage.",
    placeHolder: "Paste the key",
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined || key.trim() === "") {
    return;
  }
  await context.secrets.store(SECRET_KEY, key.trim());
  await extension.restart();
  void vscode.window.showInformationMessage("fim-lsp: API key saved; the server was restarted.");
}

async function showMenu(): Promise<void> {
  const enabled = settings()("enable") !== false;
  const items: (vscode.QuickPickItem & { command: string })[] = [
    { label: enabled ? "$(circle-slash) Turn completions off" : "$(sparkle) Turn completions on", command: "fimLsp.toggle" },
    { label: "$(key) Set API key", command: "fimLsp.setApiKey" },
    { label: "$(debug-restart) Restart server", command: "fimLsp.restart" },
    { label: "$(checklist) Check setup", command: "fimLsp.checkSetup" },
    { label: "$(output) Show log", command: "fimLsp.showLog" },
    { label: "$(gear) Settings", command: "workbench.action.openSettings" },
  ];
  const choice = await vscode.window.showQuickPick(items, { title: "fim-lsp" });
  if (choice) {
    await (choice.command === "workbench.action.openSettings"
      ? vscode.commands.executeCommand(choice.command, "fimLsp")
      : vscode.commands.executeCommand(choice.command));
  }
}

let extension: FimExtension | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const ext = new FimExtension(context);
  extension = ext;
  context.subscriptions.push(
    ext,
    vscode.commands.registerCommand("fimLsp.setApiKey", () => setApiKey(context, ext)),
    vscode.commands.registerCommand("fimLsp.clearApiKey", async () => {
      await context.secrets.delete(SECRET_KEY);
      await ext.restart();
      void vscode.window.showInformationMessage("fim-lsp: API key removed; the server was restarted.");
    }),
    vscode.commands.registerCommand("fimLsp.toggle", async () => {
      const config = vscode.workspace.getConfiguration(SECTION);
      await config.update("enable", config.get("enable") === false, vscode.ConfigurationTarget.Global);
    }),
    vscode.commands.registerCommand("fimLsp.restart", () => ext.restart()),
    // VS Code's own partial accepts, marked so the change they make counts as an accept.
    vscode.commands.registerCommand("fimLsp.acceptNextWord", () =>
      ext.acceptPart("editor.action.inlineSuggest.acceptNextWord"),
    ),
    vscode.commands.registerCommand("fimLsp.acceptNextLine", () =>
      ext.acceptPart("editor.action.inlineSuggest.acceptNextLine"),
    ),
    vscode.commands.registerCommand("fimLsp.showLog", () => ext.showLog()),
    vscode.commands.registerCommand("fimLsp.checkSetup", () => ext.checkSetup()),
    vscode.commands.registerCommand("fimLsp.showMenu", showMenu),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("fimLsp.enable")) {
        ext.render();
      }
      if (RESTART_SETTINGS.some((section) => event.affectsConfiguration(section))) {
        void ext.restart();
      }
    }),
  );
  void ext.restart();
}

export async function deactivate(): Promise<void> {
  await extension?.stop();
  extension = undefined;
}
