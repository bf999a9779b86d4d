/**
 * A store whose stream names all carry a prefix (`REPLAYA_STREAM_PREFIX`), so
 * several deployments can share one basin: every name is prefixed on the way
 * in and listings are scoped to the prefix and stripped on the way out. The
 * app above never sees the prefix.
 *
 * @module
 */

import type { ListOptions, StreamStore } from "./types.ts";

/** Wraps `store` so every stream name is `prefix + name`; an empty prefix returns `store` itself. */
export function withPrefix(store: StreamStore, prefix: string): StreamStore {
  if (!prefix) return store;
  const p = (name: string) => prefix + name;
  return {
    get info() {
      return store.info;
    },
    createStream: (name, config) => store.createStream(p(name), config),
    getStreamConfig: (name) => store.getStreamConfig(p(name)),
    append: (stream, items, options) => store.append(p(stream), items, options),
    read: (stream, options) => store.read(p(stream), options),
    follow: (stream, options) => store.follow(p(stream), options),
    checkTail: (stream) => store.checkTail(p(stream)),
    deleteStream: (stream) => store.deleteStream(p(stream)),
    close: () => store.close(),
    async listStreams(options: ListOptions = {}) {
      const page = await store.listStreams({
        ...options,
        prefix: p(options.prefix ?? ""),
        startAfter: options.startAfter ? p(options.startAfter) : undefined,
      });
      return { ...page, names: page.names.map((name) => name.slice(prefix.length)) };
    },
  };
}
