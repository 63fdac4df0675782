// Everything the extension decides without an editor: settings -> what the server gets, which
// environment carries the API key, what the status bar shows. Unit-tested with `node --test`.

/** Settings sent to the server, camelCase as on the wire (see the settings table in the top README). */
export interface ServerSettings {
  enable: boolean;
  disabledLanguages: string[];
  endpoint?: string;
  backend: string;
  template: string;
  headers: Record<string, string>;
  caBundle: string;
  model?: string;
  topP?: number;
  minTokens?: number;
  randomSeed?: number;
  stream: boolean;
  multiline: string;
  contextChars: number;
  exclude: string[];
  redactSecrets: boolean;
  speculateAfterAccept: boolean;
  workAhead: boolean;
  earlyFirstLine: boolean;
  firstLineMs: number;
  partialFirstLine: boolean;
  readOnLines: number;
  maxTokens: number;
  temperature: number;
  stop: string[];
  debounceMs: number;
  adaptiveDebounce: boolean;
  debounceMinMs: number;
  debounceMaxMs: number;
  maxPrefixChars: number;
  maxSuffixChars: number;
  timeoutMs: number;
}

export interface LaunchSettings {
  path: string;
  args: string[];
}

/** Reads one setting below `fimLsp.` (e.g. `maxTokens`, `server.path`); undefined when unset. */
export type SettingGetter = (key: string) => unknown;

const DEFAULTS: Omit<ServerSettings, "endpoint" | "model" | "topP" | "minTokens" | "randomSeed"> = {
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
};

function str(value: unknown, fallback: string): string {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : fallback;
}

function int(value: unknown, fallback: number, min: number, max = Infinity): number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
    ? value
    : fallback;
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === "boolean" ? value : fallback;
}

function oneOf(value: unknown, allowed: readonly string[], fallback: string): string {
  return typeof value === "string" && allowed.includes(value) ? value : fallback;
}

function headerMap(value: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [name, v] of Object.entries(value)) {
      if (typeof v === "string") {
        headers[name] = v;
      }
    }
  }
  return headers;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/**
 * The settings the server may see, and only those: a folder's `.vscode/settings.json` can hold any
 * `fimLsp.*` key (an `apiKey`, say), so nothing outside this list is ever passed on. Invalid values
 * fall back to the defaults rather than reaching the server.
 */
export function serverSettings(get: SettingGetter): ServerSettings {
  const temperature = get("temperature");
  const settings: ServerSettings = {
    enable: bool(get("enable"), DEFAULTS.enable),
    disabledLanguages: strings(get("disabledLanguages")),
    backend: oneOf(get("backend"), BACKENDS, DEFAULTS.backend),
    template: str(get("template"), ""),
    headers: headerMap(get("headers")),
    caBundle: str(get("caBundle"), ""),
    stream: bool(get("stream"), DEFAULTS.stream),
    multiline: oneOf(get("multiline"), ["auto", "always", "never"], DEFAULTS.multiline),
    contextChars: int(get("contextChars"), DEFAULTS.contextChars, 0),
    exclude: strings(get("exclude")),
    redactSecrets: bool(get("redactSecrets"), DEFAULTS.redactSecrets),
    speculateAfterAccept: bool(get("speculateAfterAccept"), DEFAULTS.speculateAfterAccept),
    workAhead: bool(get("workAhead"), DEFAULTS.workAhead),
    earlyFirstLine: bool(get("earlyFirstLine"), DEFAULTS.earlyFirstLine),
    firstLineMs: int(get("firstLineMs"), DEFAULTS.firstLineMs, 0),
    partialFirstLine: bool(get("partialFirstLine"), DEFAULTS.partialFirstLine),
    readOnLines: int(get("readOnLines"), DEFAULTS.readOnLines, 0, 100),
    maxTokens: int(get("maxTokens"), DEFAULTS.maxTokens, 1),
    temperature:
      typeof temperature === "number" && temperature >= 0 && temperature <= 1.5
        ? temperature
        : DEFAULTS.temperature,
    stop: strings(get("stop")),
    debounceMs: int(get("debounceMs"), DEFAULTS.debounceMs, 0),
    adaptiveDebounce:
      typeof get("adaptiveDebounce") === "boolean"
        ? (get("adaptiveDebounce") as boolean)
        : DEFAULTS.adaptiveDebounce,
    debounceMinMs: int(get("debounceMinMs"), DEFAULTS.debounceMinMs, 0),
    debounceMaxMs: int(get("debounceMaxMs"), DEFAULTS.debounceMaxMs, 0),
    maxPrefixChars: int(get("maxPrefixChars"), DEFAULTS.maxPrefixChars, 0),
    maxSuffixChars: int(get("maxSuffixChars"), DEFAULTS.maxSuffixChars, 0),
    timeoutMs: int(get("timeoutMs"), DEFAULTS.timeoutMs, 1),
  };
  // Unset or empty: the server's default, which depends on the backend (and the kind of key).
  const model = str(get("model"), "");
  if (model !== "") {
    settings.model = model;
  }
  const topP = get("topP");
  if (typeof topP === "number" && topP >= 0 && topP <= 1) {
    settings.topP = topP;
  }
  for (const name of ["minTokens", "randomSeed"] as const) {
    const value = int(get(name), -1, 0);
    if (value >= 0) {
      settings[name] = value;
    }
  }
  const endpoint = str(get("endpoint"), "");
  if (endpoint !== "") {
    settings.endpoint = endpoint.replace(/\/+$/, "");
  }
  return settings;
}

export const BACKENDS = ["codestral", "ollama", "llamacpp", "openai"] as const;

export function launchSettings(get: SettingGetter, home: string | undefined): LaunchSettings {
  let path = str(get("server.path"), "fim-lsp");
  if (home && (path === "~" || path.startsWith("~/"))) {
    path = home + path.slice(1);
  }
  return { path, args: strings(get("server.args")) };
}

export const KEY_ENV_VARS = ["CODESTRAL_API_KEY", "MISTRAL_API_KEY"] as const;
export type KeyEnvVar = (typeof KEY_ENV_VARS)[number];

/** Keys from the Mistral platform go to api.mistral.ai; everything else takes a Codestral key. */
export function keyEnvVar(endpoint: string | undefined): KeyEnvVar {
  if (endpoint) {
    try {
      if (new URL(endpoint).hostname.toLowerCase() === "api.mistral.ai") {
        return "MISTRAL_API_KEY";
      }
    } catch {
      // Not a URL: the server will report it; the key goes in the default variable.
    }
  }
  return "CODESTRAL_API_KEY";
}

/**
 * The server's environment. A stored key replaces any key inherited from the editor's environment,
 * in both variables, so that the server cannot prefer a stale one; without a stored key the
 * inherited environment is passed on unchanged (a key exported in the shell keeps working).
 */
export function serverEnv(
  base: Record<string, string | undefined>,
  apiKey: string | undefined,
  endpoint: string | undefined,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined) {
      env[name] = value;
    }
  }
  if (apiKey) {
    for (const name of KEY_ENV_VARS) {
      delete env[name];
    }
    env[keyEnvVar(endpoint)] = apiKey;
  }
  return env;
}

export type ServerState = "idle" | "fetching" | "error" | "off";
export type StatusState = ServerState | "starting" | "stopped";

export interface StatusView {
  text: string;
  tooltip: string;
  error: boolean;
  /** No key, or the key was rejected: clicking the item should ask for one. */
  needsKey: boolean;
}

/** The last suggestion, as `fimLsp/status` reports it: request-to-answer time and where it came from. */
export interface LastSuggestion {
  latencyMs: number;
  source: "model" | "cache" | "typed";
}

/** Reads a `fimLsp/status` notification's params; anything malformed is ignored (undefined). */
export function parseStatus(
  params: unknown,
): { state: ServerState; message: string; last?: LastSuggestion } | undefined {
  if (typeof params !== "object" || params === null) {
    return undefined;
  }
  const { state, message, latencyMs, source } = params as Record<string, unknown>;
  if (state !== "idle" && state !== "fetching" && state !== "error" && state !== "off") {
    return undefined;
  }
  const status: { state: ServerState; message: string; last?: LastSuggestion } = {
    state,
    message: typeof message === "string" ? message : "",
  };
  if (
    typeof latencyMs === "number" &&
    Number.isFinite(latencyMs) &&
    (source === "model" || source === "cache" || source === "typed")
  ) {
    status.last = { latencyMs, source };
  }
  return status;
}

const SOURCE_WORDS: Record<LastSuggestion["source"], string> = {
  model: "the model",
  cache: "the cache",
  typed: "typing through",
};

/** "last suggestion 243 ms from the model", as llama.vscode's timings line. */
export function lastSuggestionText(last: LastSuggestion): string {
  return `last suggestion ${Math.round(last.latencyMs)} ms from ${SOURCE_WORDS[last.source]}`;
}

/**
 * The status bar item for a state; `enable: false` always shows "off", whatever the server says.
 * `last` adds the last suggestion's latency and source to the tooltip.
 */
export function statusView(
  state: StatusState,
  message: string,
  enabled: boolean,
  last?: LastSuggestion,
): StatusView {
  const view = (text: string, tooltip: string, error = false, needsKey = false): StatusView => ({
    text: `${text} FIM`,
    tooltip: `fim-lsp: ${tooltip}` + (last && !error && !needsKey ? ` (${lastSuggestionText(last)})` : ""),
    error,
    needsKey,
  });
  if (!enabled) {
    return view("$(circle-slash)", "completions off (click for options)");
  }
  if ((state === "off" || state === "error") && isAuthError(message)) {
    return view("$(key)", `${message} (click to set the API key)`, state === "error", true);
  }
  const detail = message ? `: ${message}` : "";
  switch (state) {
    case "starting":
      return view("$(loading~spin)", "starting the server");
    case "idle":
      return view("$(sparkle)", `ready${detail}`);
    case "fetching":
      return view("$(loading~spin)", `asking the model${detail}`);
    case "off":
      return view("$(circle-slash)", `off${detail}`);
    case "error":
      return view("$(warning)", `error${detail}`, true);
    case "stopped":
      return view("$(error)", `server not running${detail}`, true);
  }
}

/** Whether a server error message is about the API key, so the user should be offered to set it. */
export function isAuthError(message: string): boolean {
  return /\b401\b|\b403\b|unauthori[sz]ed|forbidden|api key|no key/i.test(message);
}
