/**
 * The embedded store's checkpointer, run in a worker thread (see `sqlite.ts`): its
 * own connection copies the WAL back into the database file and fsyncs it,
 * on its own thread, so the event loop never waits for the disk. A passive
 * checkpoint never blocks the store's writer, and when it copies the whole
 * WAL it also cuts the file to its size (what makes a vacuum visible).
 *
 * Messages: `{ id, op: "checkpoint", path }` → `{ id, ok, result: { busy, log, checkpointed } }`;
 * `{ id, op: "close" }` → `{ id, ok }` (the store then terminates the worker).
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { parentPort } from "node:worker_threads";

/** A request to the checkpointer. */
export type CheckpointRequest = { id: number; op: "checkpoint"; path: string } | { id: number; op: "close" };

/** Its answer. */
export type CheckpointReply =
  | { id: number; ok: true; result?: { busy: number; log: number; checkpointed: number } }
  | { id: number; ok: false; error: string };

const port = parentPort!;
const reply = (message: CheckpointReply) => port.postMessage(message);
let db: DatabaseSync | undefined;

port.on("message", (data: CheckpointRequest) => {
  try {
    if (data.op === "close") {
      db?.close();
      db = undefined;
      reply({ id: data.id, ok: true });
      return;
    }
    if (!db) {
      db = new DatabaseSync(data.path);
      db.exec("PRAGMA busy_timeout = 5000");
    }
    const result = db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as {
      busy: number;
      log: number;
      checkpointed: number;
    };
    reply({ id: data.id, ok: true, result: { ...result } });
  } catch (error) {
    reply({ id: data.id, ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});
