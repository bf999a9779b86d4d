/**
 * Runs one test body against every store backend: a real SQLite file always,
 * and a real s2-lite process when it is installed (always in CI).
 *
 * @module
 */

import { S2Store } from "../../lib/store/s2.ts";
import { SqliteStore } from "../../lib/store/sqlite.ts";
import type { StreamConfig, StreamStore } from "../../lib/store/mod.ts";
import { liteAvailable, type LiteServer, startLite } from "./s2_lite.ts";
import { startTcpProxy } from "./tcp_proxy.ts";

/** A store opened for one test, with a unique stream-name prefix. */
export interface StoreUnderTest {
  store: StreamStore;
  backend: "sqlite" | "s2-lite";
  /** Unique per test, so tests never see each other's streams. */
  prefix: string;
  /** Cuts the store's network connections; only backends that have them. */
  dropConnections?: () => number;
  /** Makes the store unreachable from now on (with `breakable`). */
  breakStore?: () => void;
  /** Moves the store's clock forward (with `movableClock`; SQLite only, s2-lite keeps its own time). */
  advanceClock?: (ms: number) => void;
  close(): Promise<void>;
}

/** Options for opening a store under test. */
export interface OpenOptions {
  defaultStreamConfig?: StreamConfig;
  /** Route the S2 client through a proxy whose connections can be cut. */
  droppable?: boolean;
  /** Route the S2 client through a proxy that can be shut for good. */
  breakable?: boolean;
  /** Give the SQLite store a clock the test moves with `advanceClock`, instead of waiting for real time. */
  movableClock?: boolean;
}

/** A backend the suite runs against. */
export interface Backend {
  name: "sqlite" | "s2-lite";
  open(options?: OpenOptions): Promise<StoreUnderTest>;
}

let lite: Promise<LiteServer> | undefined;
/**
 * The shared s2-lite of this test module. It outlives every test, so it is started before the first one
 * and stopped after the last (Deno's `beforeAll`/`afterAll`): its process, pipes and start-up polling are
 * then no test's leak. Registered by the first s2-lite test that will run.
 */
function useSharedLite(): void {
  if (lite) return;
  lite = startLite();
  lite.catch(() => {}); // a failed start fails each s2-lite test, where `open` awaits it
  Deno.test.beforeAll(async () => void await lite!.catch(() => {}));
  // Killed: in memory, nothing to flush, and a graceful stop waits for the clients' idle pooled connections.
  Deno.test.afterAll(async () => await (await lite!.catch(() => undefined))?.stop("SIGKILL"));
}

/** The shared s2-lite, once started (see {@link useSharedLite}). */
export function sharedLite(): Promise<LiteServer> {
  if (!lite) throw new Error("s2-lite is started by storeTest when a test needs it");
  return lite;
}

let counter = 0;
function uniquePrefix(): string {
  return `t${Date.now().toString(36)}${(counter++).toString(36)}${crypto.randomUUID().slice(0, 6)}/`;
}

const sqlite: Backend = {
  name: "sqlite",
  open(options = {}) {
    const dir = Deno.makeTempDirSync({ prefix: "replaya-store-" });
    let skew = 0;
    const store = SqliteStore.open({
      path: `${dir}/replaya.db`,
      defaultStreamConfig: options.defaultStreamConfig,
      now: options.movableClock ? () => Date.now() + skew : undefined,
    });
    return Promise.resolve({
      store,
      backend: "sqlite",
      prefix: uniquePrefix(),
      advanceClock: options.movableClock ? (ms: number) => void (skew += ms) : undefined,
      async close() {
        await store.close();
        await Deno.remove(dir, { recursive: true });
      },
    });
  },
};

const s2lite: Backend = {
  name: "s2-lite",
  async open(options = {}) {
    const server = await sharedLite();
    const proxy = options.droppable || options.breakable ? startTcpProxy(server.port) : undefined;
    const url = proxy?.url ?? server.url;
    const store = await S2Store.connect({
      accessToken: "test",
      basin: `replaya-test-${crypto.randomUUID().slice(0, 8)}`,
      accountEndpoint: url,
      basinEndpoint: url,
      defaultStreamConfig: options.defaultStreamConfig,
    });
    return {
      store,
      backend: "s2-lite",
      prefix: uniquePrefix(),
      dropConnections: proxy ? () => proxy.dropAll() : undefined,
      breakStore: proxy ? () => proxy.close() : undefined,
      async close() {
        await store.close();
        proxy?.close();
      },
    };
  },
};

/** The backends available here (`tests/preflight.ts` says once when s2-lite is skipped). */
export function backends(): Backend[] {
  return liteAvailable() ? [sqlite, s2lite] : [sqlite];
}

/** Which backends a test runs on. */
export interface BackendTestOptions extends OpenOptions {
  only?: Backend["name"];
  /** Skip on every backend (e.g. no browser here). */
  ignore?: boolean;
  /**
   * A library under test leaves a timer behind that the test cannot clear: say which, where this is set.
   * Turns the op and resource sanitizers off on every backend (Deno 2.9 counts a pending timer under both).
   */
  leavesTimer?: string;
}

/**
 * Registers `fn` as one Deno test per backend, named `[backend] name`, with a
 * store opened for it (and closed after).
 *
 * @example
 * storeTest("appends", async ({ store, prefix }) => { ... });
 */
export function storeTest(
  name: string,
  fn: (t: StoreUnderTest) => Promise<void>,
  options: BackendTestOptions = {},
): void {
  for (const backend of backends()) {
    // A test for one backend is not registered on the other (it would count as skipped).
    if (options.only !== undefined && options.only !== backend.name) continue;
    const ignore = options.ignore === true;
    if (backend.name === "s2-lite" && !ignore) useSharedLite();
    Deno.test({
      name: `[${backend.name}] ${name}`,
      ignore,
      // Explicit: Deno 2.9 leaves both off unless asked. A test must close what it opens, end what it starts.
      // Two leaks of the S2 SDK (@s2-dev/streamstore 0.27.0), out of our reach, turn one off for s2-lite; the
      // same test bodies run on SQLite with both on.
      // - Ops, only where the store is broken under the test (`breakable`): a read session whose connection
      //   fails is retried inside the SDK after `sleep(delay)` (lib/retry.js, RetryReadSession's pump), a bare
      //   setTimeout that cancelling the session does not clear; the timer outlives the test.
      sanitizeOps: !options.leavesTimer && (backend.name === "sqlite" || !options.breakable),
      // - Resources: one fetch response body per successful stream delete. s2-lite answers 202 with an empty
      //   body and no Content-Type; the generated client then returns `response.body` unread (parseAs
      //   "stream"), and `streams.delete` drops it without cancelling.
      sanitizeResources: !options.leavesTimer && backend.name === "sqlite",
      async fn() {
        const under = await backend.open(options);
        try {
          await fn(under);
        } finally {
          await under.close();
        }
      },
    });
  }
}
