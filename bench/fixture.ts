/**
 * The recorded fixture session (`tests/fixtures/recorded_session.json`) as
 * benchmarks replay it.
 *
 * @module
 */

/** A recorded session: its batches of rrweb events and how long it lasted. */
export interface Fixture {
  durationMs: number;
  batches: Array<{ events: Array<{ type: number; timestamp: number; data?: unknown }> }>;
}

/**
 * The fixture's batches again and again, each pass shifted in time, so they
 * cover `minutes` of capture time ending about now.
 */
export function* fixtureFor<E extends { timestamp: number }>(
  fixture: { durationMs: number; batches: Array<{ events: E[] }> },
  minutes: number,
): Generator<E[]> {
  const first = fixture.batches[0].events[0].timestamp;
  const base = Date.now() - minutes * 60_000;
  const loops = Math.ceil((minutes * 60_000) / fixture.durationMs);
  for (let loop = 0; loop < loops; loop++) {
    const shift = base + loop * fixture.durationMs - first;
    for (const batch of fixture.batches) yield batch.events.map((e) => ({ ...e, timestamp: e.timestamp + shift }));
  }
}
