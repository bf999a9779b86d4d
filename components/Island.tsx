/**
 * Server side of an island: renders the component's HTML inside a marker and
 * its props as JSON in a `<script type="application/json">` block, which the
 * browser never executes (the CSP allows no inline scripts). The island's
 * client bundle (see lib/islands/build.ts) hydrates the marker.
 *
 * @module
 */

import type { ComponentType } from "preact";
import { jsonForScript } from "@replaya/recorder/snippet";

let counter = 0;

/** Serializes props for the island's JSON script block. */
export function serializeProps(props: unknown): string {
  return jsonForScript(props ?? {});
}

/** Props of {@link Island}. */
export interface IslandProps<P> {
  /** The island's file name in islands/, e.g. "Player". */
  name: string;
  component: ComponentType<P>;
  props: NoInfer<P>;
  /**
   * Props for the server's render only, never serialized: what the page shows
   * before hydration and the island does not need again (the hydrated
   * component renders without them).
   */
  serverProps?: NoInfer<Partial<P>>;
}

/**
 * Renders an island.
 *
 * @example
 * <Island name="Player" component={Player} props={{ sessionId, live: true, startedAt }} />
 */
export function Island<P>({ name, component: Component, props, serverProps }: IslandProps<P>) {
  const id = `island-${name}-${(counter++).toString(36)}`;
  return (
    <>
      {/* @ts-ignore: generic props spread */}
      <div data-island={name} data-props={id}>
        <Component {...{ ...props, ...serverProps } as P & Record<string, unknown>} />
      </div>
      <script type="application/json" id={id} dangerouslySetInnerHTML={{ __html: serializeProps(props) }} />
    </>
  );
}
