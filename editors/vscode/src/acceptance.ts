// What the user did with a shown suggestion, for the server's local statistics: VS Code tells an
// extension when an inline item is accepted in full (the item's command) but not when a word or a
// line of it is (those hooks are proposed API). A partial accept shows as one document change
// that inserts the next piece of the shown text, right after fim-lsp's accept-word command
// (bound to Ctrl+Right) ran, or, from VS Code's own commands, more than one character at once
// where typing inserts one at a time.

/** An inline item as the server sent it (the part Copilot's notifications carry back). */
export interface WireItem {
  insertText: string;
  range?: { start: { line: number; character: number }; end: { line: number; character: number } };
}

/** One content change of a document, in offsets. */
export interface Change {
  offset: number;
  removed: number;
  text: string;
}

interface Shown {
  uri: string;
  item: WireItem;
  /** Document offset where the item's text starts. */
  start: number;
  /** UTF-16 units of insertText accepted (or typed) so far. */
  accepted: number;
  partial: boolean;
  /** The next change comes from an accept-word / accept-line command, even if one character. */
  accepting: boolean;
}

/** Follows the last shown item of each document and reports partial accepts of it. */
export class PartialAcceptTracker {
  private shown: Shown | undefined;

  /** The client showed `item`, whose text starts at document offset `start` (the cursor). */
  show(uri: string, item: WireItem, start: number): void {
    this.shown = { uri, item, start, accepted: 0, partial: false, accepting: false };
  }

  /** The user runs fim-lsp's accept-next-word or accept-next-line command. */
  accepting(): void {
    if (this.shown) {
      this.shown.accepting = true;
    }
  }

  /**
   * A document changed. Returns the item and the total length accepted so far when the change
   * accepted a piece of the shown suggestion (longer than one character, not all of it).
   */
  change(uri: string, changes: readonly Change[]): { item: WireItem; acceptedLength: number } | undefined {
    const shown = this.shown;
    if (!shown || shown.uri !== uri) {
      return undefined;
    }
    if (changes.length !== 1) {
      this.shown = undefined;
      return undefined;
    }
    const [change] = changes;
    const rest = shown.item.insertText.slice(shown.accepted);
    // An auto-closed bracket the suggestion rewrites may be replaced along with the piece.
    const at = shown.start + shown.accepted;
    if (change.offset !== at || !rest.startsWith(change.text) || change.text === "") {
      this.shown = undefined;
      return undefined;
    }
    shown.accepted += change.text.length;
    if (shown.accepted >= shown.item.insertText.length) {
      // Accepted (or typed) to the end: a full accept is reported by the item's command.
      this.shown = undefined;
      return undefined;
    }
    const accepting = shown.accepting;
    shown.accepting = false;
    if (change.text.length < 2 && !shown.partial && !accepting) {
      return undefined; // typing through, one key at a time
    }
    shown.partial = true;
    return { item: shown.item, acceptedLength: shown.accepted };
  }

  /** The document was closed or the client restarted. */
  forget(): void {
    this.shown = undefined;
  }
}

/**
 * Whether a `fimLsp/blockReady` notification is for this document as it is now: the server showed
 * a suggestion's first line (or its first words) at that version, and more has come since.
 */
export function isBlockReadyFor(
  params: unknown,
  doc: { uri: { toString(): string }; version: number },
): boolean {
  if (typeof params !== "object" || params === null) {
    return false;
  }
  const { uri, version } = params as { uri?: unknown; version?: unknown };
  return uri === doc.uri.toString() && version === doc.version;
}
