/**
 * rrweb's serialized nodes, built by hand for tests of what reads them (the
 * static first frame): elements, text, documents, each with a fresh id.
 *
 * @module
 */

let lastId = 0;

/** A fresh node id. */
export const nextId = (): number => ++lastId;

/** An element node. */
export const el = (tagName: string, attributes: Record<string, unknown> = {}, childNodes: unknown[] = []) => ({
  type: 2,
  tagName,
  attributes,
  childNodes,
  id: nextId(),
});

/** A text node (`isStyle`: the text of a `<style>`). */
export const text = (textContent: string, isStyle = false) => ({ type: 3, textContent, isStyle, id: nextId() });

/** A document node. */
export const doc = (...childNodes: unknown[]) => ({ type: 0, childNodes, id: nextId() });
