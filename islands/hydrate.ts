/**
 * Client runtime of the islands: finds every marker of one island and
 * hydrates it with the props the server serialized beside it. Each island's
 * bundle calls this once; it never imports server code.
 *
 * @module
 */

import { type ComponentType, h, hydrate } from "preact";
import { islandProps } from "./island_props.ts";

/** Hydrates every `[data-island=name]` marker on the page with `component`. */
// deno-lint-ignore no-explicit-any
export function hydrateIslands(name: string, component: ComponentType<any>): void {
  for (const { marker, props } of islandProps(name)) hydrate(h(component, props), marker);
}
