import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PartialAcceptTracker, isBlockReadyFor } from "../src/acceptance";

const item = { insertText: "total = first + second" };

describe("PartialAcceptTracker", () => {
  it("reports word accepts as running totals and stays quiet on a full accept", () => {
    const t = new PartialAcceptTracker();
    t.show("file:///a.py", item, 10);
    assert.deepEqual(t.change("file:///a.py", [{ offset: 10, removed: 0, text: "total" }]), {
      item,
      acceptedLength: 5,
    });
    assert.deepEqual(t.change("file:///a.py", [{ offset: 15, removed: 0, text: " =" }]), {
      item,
      acceptedLength: 7,
    });
    // The rest at once (Tab): the item's command reports it, not this.
    assert.equal(t.change("file:///a.py", [{ offset: 17, removed: 0, text: " first + second" }]), undefined);
  });

  it("takes typing through one key at a time for typing, not for an accept", () => {
    const t = new PartialAcceptTracker();
    t.show("u", item, 0);
    assert.equal(t.change("u", [{ offset: 0, removed: 0, text: "t" }]), undefined);
    assert.equal(t.change("u", [{ offset: 1, removed: 0, text: "o" }]), undefined);
    // Then a word accept of the rest of the word counts from the item's start.
    assert.deepEqual(t.change("u", [{ offset: 2, removed: 0, text: "tal" }]), { item, acceptedLength: 5 });
  });

  it("forgets the item when the user types something else, elsewhere or in another file", () => {
    const t = new PartialAcceptTracker();
    t.show("u", item, 0);
    assert.equal(t.change("other", [{ offset: 0, removed: 0, text: "total" }]), undefined);
    assert.equal(t.change("u", [{ offset: 0, removed: 0, text: "tot!" }]), undefined);
    assert.equal(t.change("u", [{ offset: 4, removed: 0, text: "al =" }]), undefined);
    t.show("u", item, 0);
    assert.equal(t.change("u", [{ offset: 3, removed: 0, text: "total" }]), undefined);
    assert.equal(t.change("u", [{ offset: 0, removed: 0, text: "total" }]), undefined);
  });

  it("counts a one-character piece when fim-lsp's accept command inserted it", () => {
    const t = new PartialAcceptTracker();
    t.show("u", { insertText: "a + b" }, 0);
    t.accepting();
    assert.deepEqual(t.change("u", [{ offset: 0, removed: 0, text: "a" }]), {
      item: { insertText: "a + b" },
      acceptedLength: 1,
    });
    // A later key typed by hand is typing, not an accept: the suggestion is already partial, so
    // it counts toward the total (as VS Code's own count would).
    assert.deepEqual(t.change("u", [{ offset: 1, removed: 0, text: " " }]), {
      item: { insertText: "a + b" },
      acceptedLength: 2,
    });
  });
});

describe("isBlockReadyFor", () => {
  const doc = { uri: { toString: () => "file:///a.py" }, version: 7 };
  it("holds for the same document at the same version only", () => {
    assert.equal(isBlockReadyFor({ uri: "file:///a.py", version: 7 }, doc), true);
    assert.equal(isBlockReadyFor({ uri: "file:///a.py", version: 6 }, doc), false);
    assert.equal(isBlockReadyFor({ uri: "file:///b.py", version: 7 }, doc), false);
  });
  it("ignores what is not such a notification", () => {
    assert.equal(isBlockReadyFor(null, doc), false);
    assert.equal(isBlockReadyFor("file:///a.py", doc), false);
    assert.equal(isBlockReadyFor({ uri: "file:///a.py", version: "7" }, doc), false);
  });
});
