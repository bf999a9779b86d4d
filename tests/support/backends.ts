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
  close(): Promise<void>;
}

/** Options for opening a store under test. */
export interface OpenOptions {
  defaultStreamConfig?: StreamConfig;
  /** Route the S2 client through a proxy whose connections can be cut. */
  droppable?: boolean;
  /** Route the S2 client through a proxy that can be shut for good. */
  breakable?: boolean;
}

/** A backend the suite runs against. */
export interface Backend {
  name: "sqlite" | "s2-lite";
  open(options?: OpenOptions): Promise<StoreUnderTest>;
}

let lite: Promise<LiteServer> | undefined;
/** The shared s2-lite of this test process, started on first use. */
export function sharedLite(): Promise<LiteServer> {
  if (!lite) {
    lite = startLite();
    lite.then((server) => globalThis.addEventListener("unload", () => server.kill()), () => {});
  }
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
    const store = SqliteStore.open({ path: `${dir}/replaya.db`, defaultStreamConfig: options.defaultStreamConfig });
    return Promise.resolve({
      store,
      backend: "sqlite",
      prefix: uniquePrefix(),
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
    Deno.test({
      name: `[${backend.name}] ${name}`,
      ignore: options.ignore || (options.only !== undefined && options.only !== backend.name),
      // Servers, child processes and pooled connections outlive single tests on purpose.
      sanitizeOps: false,
      sanitizeResources: false,
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
