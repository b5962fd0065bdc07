import type { ServerEvent } from './conversions.js';

/**
 * What the sandbox's pixels (datasets) received through the Conversions API: every accepted event
 * in arrival order, and which of them Meta would drop as duplicates. Meta keeps one event per
 * `event_name` + `event_id` seen within 48 hours, whichever of the pixel and the server sent it
 * first; the sandbox only has the server, so a repeat from a retried request is what it drops.
 * Test events (`test_event_code`) go to Events Manager's test tab and are kept apart.
 */

const DEDUPLICATION_MS = 48 * 3_600_000;
/** Events kept per pixel; the oldest go first (a benchmark may send hundreds of thousands). */
const MAX_KEPT = 50_000;

export interface ReceivedEvent extends ServerEvent {
  received_at: number;
  /** Set when Meta would drop it: the same name and id arrived within 48 hours. */
  duplicate: boolean;
  test_event_code?: string;
}

export interface PixelSnapshot {
  id: string;
  /** Events acknowledged in `events_received`, duplicates included. */
  received: number;
  /** Of those, the ones Meta keeps. */
  kept: number;
  duplicates: number;
  events: ReceivedEvent[];
}

class Pixel {
  readonly events: ReceivedEvent[] = [];
  received = 0;
  duplicates = 0;
  /** `event_name` + `event_id` → when it first arrived. */
  private readonly seen = new Map<string, number>();

  constructor(readonly id: string) {}

  accept(event: ServerEvent, now: number, testEventCode: string | undefined): void {
    this.received += 1;
    let duplicate = false;
    if (event.event_id !== undefined) {
      const key = `${event.event_name}\u0000${event.event_id}`;
      const first = this.seen.get(key);
      duplicate = first !== undefined && now - first < DEDUPLICATION_MS;
      if (!duplicate) this.seen.set(key, now);
    }
    if (duplicate) this.duplicates += 1;
    this.events.push({
      ...event,
      received_at: now,
      duplicate,
      ...(testEventCode !== undefined ? { test_event_code: testEventCode } : {}),
    });
    if (this.events.length > MAX_KEPT) this.events.splice(0, this.events.length - MAX_KEPT);
  }

  snapshot(): PixelSnapshot {
    return {
      id: this.id,
      received: this.received,
      kept: this.received - this.duplicates,
      duplicates: this.duplicates,
      events: this.events,
    };
  }
}

export class Pixels {
  private readonly pixels = new Map<string, Pixel>();

  constructor(ids: readonly string[]) {
    for (const id of ids) this.pixels.set(id, new Pixel(id));
  }

  has(id: string): boolean {
    return this.pixels.has(id);
  }

  /** Stores the events of one accepted request. */
  accept(id: string, events: readonly ServerEvent[], now: number, testEventCode: string | undefined): void {
    const pixel = this.pixels.get(id);
    if (!pixel) throw new Error(`no pixel ${id}`);
    for (const event of events) pixel.accept(event, now, testEventCode);
  }

  snapshot(id: string): PixelSnapshot | undefined {
    return this.pixels.get(id)?.snapshot();
  }
}
