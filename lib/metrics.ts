/**
 * Prometheus metrics (prom-client): requests, ingest volume, active sessions,
 * live viewers and store call latency, and the process's own (CPU, memory,
 * open files, event-loop lag). Served at /metrics.
 *
 * @module
 */

import client from "prom-client";
import type { StreamStore } from "./store/mod.ts";

/** The server's metrics, in their own registry. */
export class Metrics {
  readonly registry = new client.Registry();

  constructor() {
    // CPU, memory, open files, event-loop lag: prom-client's process metrics work on Deno.
    client.collectDefaultMetrics({ register: this.registry });
  }

  readonly requests = new client.Counter({
    name: "replaya_http_requests_total",
    help: "HTTP requests by route, method and status",
    labelNames: ["route", "method", "status"] as const,
    registers: [this.registry],
  });
  readonly sessionsStarted = new client.Counter({
    name: "replaya_sessions_started_total",
    help: "Sessions started",
    registers: [this.registry],
  });
  readonly batches = new client.Counter({
    name: "replaya_ingest_batches_total",
    help: "Recorder batches appended",
    registers: [this.registry],
  });
  readonly events = new client.Counter({
    name: "replaya_ingest_events_total",
    help: "rrweb events appended",
    registers: [this.registry],
  });
  readonly bytes = new client.Counter({
    name: "replaya_ingest_bytes_total",
    help: "Request body bytes received by ingest, as sent",
    registers: [this.registry],
  });
  readonly budgetRefusals = new client.Counter({
    name: "replaya_ingest_budget_refusals_total",
    help: "Ingest requests refused by a project's budget (429), by project and budget",
    labelNames: ["project", "budget"] as const,
    registers: [this.registry],
  });
  readonly storeLatency = new client.Histogram({
    name: "replaya_store_call_seconds",
    help: "Latency of stream-store calls by operation",
    labelNames: ["op"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** Adds gauges read at scrape time. */
  gauges(read: { activeSessions: () => number; liveViewers: () => number }): void {
    new client.Gauge({
      name: "replaya_active_sessions",
      help: "Sessions this process saw activity on within their lease",
      registers: [this.registry],
      collect() {
        this.set(read.activeSessions());
      },
    });
    new client.Gauge({
      name: "replaya_live_viewers",
      help: "Dashboard viewers following a live session",
      registers: [this.registry],
      collect() {
        this.set(read.liveViewers());
      },
    });
  }

  /** Gauges of the open response streams (lib/http/streams.ts), read at scrape time. */
  streamGauges(streams: { open: number; queued: number; waiting: number; budget: { held: number } }): void {
    const gauge = (name: string, help: string, read: () => number) =>
      new client.Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    gauge("replaya_streams_open", "Response streams open (live, feed, wall, NDJSON, export)", () => streams.open);
    gauge("replaya_stream_queued_bytes", "Bytes waiting for stream clients to take them", () => streams.queued);
    gauge("replaya_streams_waiting", "Streams waiting for their client to take what is queued", () => streams.waiting);
    gauge(
      "replaya_stream_large_batch_bytes",
      "Bytes of the large-batch budget held by readers",
      () => streams.budget.held,
    );
  }

  /** Counts one appended batch. */
  recordBatch(events: number, bytes: number): void {
    this.batches.inc();
    this.events.inc(events);
    if (bytes > 0) this.bytes.inc(bytes);
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

const TIMED = [
  "createStream",
  "append",
  "read",
  "checkTail",
  "listStreams",
  "deleteStream",
  "getStreamConfig",
] as const;

/** Wraps a store so every unary call's latency lands in `metrics.storeLatency`. */
export function instrumentStore(store: StreamStore, metrics: Metrics): StreamStore {
  const timed = Object.fromEntries(TIMED.map((op) => [op, async (...args: unknown[]) => {
    const end = metrics.storeLatency.startTimer({ op });
    try {
      return await (store[op] as (...a: unknown[]) => Promise<unknown>).apply(store, args);
    } finally {
      end();
    }
  }]));
  return {
    get info() {
      return store.info;
    },
    follow: store.follow.bind(store),
    close: store.close.bind(store),
    ...timed,
  } as StreamStore;
}
