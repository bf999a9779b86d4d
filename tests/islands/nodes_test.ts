import assert from "node:assert/strict";
import { NodeIndex } from "../../islands/player/nodes.ts";
import { fullSnapshot } from "./_events.ts";

const indexed = () => {
  const index = new NodeIndex();
  index.reset((fullSnapshot(0).data as { node: unknown }).node);
  return index;
};

Deno.test("nodes: a click on a span inside a button names the button by its text", () => {
  const index = indexed();
  assert.equal(index.describe(9), "button “Buy now”");
  assert.equal(index.describe(8), "button “Buy now”");
  // A text node resolves to its element.
  assert.equal(index.describe(10), "button “Buy now”");
});

Deno.test("nodes: links read as links; role=button uses its aria-label", () => {
  const index = indexed();
  assert.equal(index.describe(12), "link “Pricing”");
  assert.equal(index.describe(18), "div “Close dialog”");
});

Deno.test("nodes: form fields are named by label attributes, never by their value or text", () => {
  const index = indexed();
  assert.equal(index.describe(11), "input “Email”");
  const textarea = index.describe(16);
  assert.equal(textarea, "textarea#note");
  assert.ok(!textarea.includes("****"));
});

Deno.test("nodes: without text, an element falls back to its first class; style text is ignored", () => {
  const index = indexed();
  assert.equal(index.describe(15), "div.card");
  assert.equal(index.describe(4), "head");
  assert.equal(index.describe(999), undefined);
});

Deno.test("nodes: mutations add nodes, change text and remove subtrees; snapshot events stay untouched", () => {
  const snapshot = fullSnapshot(0);
  const before = JSON.stringify(snapshot);
  const index = new NodeIndex();
  index.reset((snapshot.data as { node: unknown }).node);
  index.applyMutation({
    source: 0,
    adds: [
      { parentId: 7, nextId: null, node: { type: 2, id: 30, tagName: "BUTTON", attributes: {}, childNodes: [] } },
      { parentId: 30, nextId: null, node: { type: 3, id: 31, textContent: "Checkout" } },
    ],
    texts: [{ id: 10, value: "Add to cart" }],
    removes: [{ parentId: 7, id: 12 }],
  });
  assert.equal(index.describe(31), "button “Checkout”");
  assert.equal(index.describe(9), "button “Add to cart”");
  assert.equal(index.describe(12), undefined);
  assert.equal(index.describe(13), undefined, "the removed link's text went with it");
  assert.equal(JSON.stringify(snapshot), before);
});

Deno.test("nodes: a new full snapshot starts over (ids restart on each page)", () => {
  const index = indexed();
  const sizeBefore = index.size;
  index.reset({ type: 0, id: 1, childNodes: [{ type: 2, id: 2, tagName: "html", attributes: {}, childNodes: [] }] });
  assert.ok(sizeBefore > 2);
  assert.equal(index.size, 2);
  assert.equal(index.describe(8), undefined);
});

Deno.test("nodes: a moved node keeps its subtree", () => {
  const index = indexed();
  index.applyMutation({
    adds: [{
      parentId: 14,
      nextId: null,
      node: { type: 2, id: 8, tagName: "button", attributes: { id: "buy" }, childNodes: [] },
    }],
  });
  assert.equal(index.describe(8), "button “Buy now”");
});

Deno.test("nodes: an ancestor's text never includes what is inside a form field", () => {
  const index = new NodeIndex();
  index.reset({
    type: 0,
    id: 1,
    childNodes: [{
      type: 2,
      id: 2,
      tagName: "label",
      attributes: {},
      childNodes: [
        { type: 3, id: 3, textContent: "Note" },
        {
          type: 2,
          id: 4,
          tagName: "textarea",
          attributes: {},
          childNodes: [{ type: 3, id: 5, textContent: "secret" }],
        },
      ],
    }],
  });
  assert.equal(index.describe(2), "label “Note”");
});

Deno.test("nodes: a nameless target is not named after <body> or <html>", () => {
  const index = new NodeIndex();
  index.reset({
    type: 0,
    id: 1,
    childNodes: [{
      type: 2,
      id: 2,
      tagName: "html",
      attributes: {},
      childNodes: [{
        type: 2,
        id: 3,
        tagName: "body",
        attributes: {},
        childNodes: [{ type: 2, id: 4, tagName: "canvas", attributes: {} }, { type: 3, id: 5, textContent: "Welcome" }],
      }],
    }],
  });
  assert.equal(index.describe(4), "canvas");
});
