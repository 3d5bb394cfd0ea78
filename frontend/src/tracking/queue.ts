import { readJson, removeKey, writeJson } from "./storage";
import type { StorageLike, TrackedEvent } from "./types";

/**
 * The event queue, shared by every tab of the shop through one localStorage key (Snowplow's outQueue).
 *
 * Storage is the source of truth whenever it works: each operation reads the stored list, changes it and writes it
 * back, so a tab never overwrites events another tab queued, and an event leaves storage only when a response has
 * confirmed it. Events that cannot be stored (no storage, quota exceeded) are kept in memory instead and are lost
 * only if the page goes away before they are sent.
 */
export class EventQueue {
  private memory: TrackedEvent[] = [];
  private readonly storage: StorageLike | null;
  private readonly key: string;
  private readonly maxSize: number;
  private readonly onOverflow: (event: TrackedEvent) => void;

  constructor(
    storage: StorageLike | null,
    key: string,
    maxSize: number,
    onOverflow: (event: TrackedEvent) => void,
  ) {
    this.storage = storage;
    this.key = key;
    this.maxSize = maxSize;
    this.onOverflow = onOverflow;
  }

  /** All queued events, oldest first. */
  list(): TrackedEvent[] {
    const stored = this.readStored();
    if (this.memory.length === 0) return stored;
    const seen = new Set(stored.map((e) => e.id));
    return stored.concat(this.memory.filter((e) => !seen.has(e.id)));
  }

  size(): number {
    return this.list().length;
  }

  add(event: TrackedEvent): void {
    const stored = this.readStored();
    stored.push(event);
    const overflow = stored.length + this.memory.length - this.maxSize;
    // Bounded like Segment's queue: when a shop has been offline for a long time the oldest events go first.
    const dropped = overflow > 0 ? stored.splice(0, Math.min(overflow, stored.length - 1)) : [];
    if (this.writeStored(stored)) {
      dropped.forEach(this.onOverflow);
      return;
    }
    // Storage is missing or full: nothing was written (so nothing stored was dropped); keep the event in memory.
    this.memory.push(event);
    while (this.memory.length > this.maxSize) this.onOverflow(this.memory.shift()!);
  }

  /** Removes the events and returns the ids that were still queued (another request may have settled some). */
  remove(ids: Iterable<string>): Set<string> {
    const gone = new Set(ids);
    const removed = new Set<string>();
    if (gone.size === 0) return removed;
    this.memory = this.memory.filter((e) => {
      if (!gone.has(e.id)) return true;
      removed.add(e.id);
      return false;
    });
    const stored = this.readStored();
    const kept = stored.filter((e) => {
      if (!gone.has(e.id)) return true;
      removed.add(e.id);
      return false;
    });
    if (kept.length !== stored.length) {
      if (kept.length === 0) removeKey(this.storage, this.key);
      else this.writeStored(kept);
    }
    return removed;
  }

  private readStored(): TrackedEvent[] {
    const value = readJson(this.storage, this.key);
    if (!Array.isArray(value)) return [];
    // Whatever else wrote this key (an older tracker, a browser extension) must not crash the shop.
    return (value as unknown[]).filter((e): e is TrackedEvent => {
      if (typeof e !== "object" || e === null) return false;
      const event = e as Partial<Record<keyof TrackedEvent, unknown>>;
      return typeof event.id === "string" && typeof event.type === "string";
    });
  }

  private writeStored(events: TrackedEvent[]): boolean {
    return writeJson(this.storage, this.key, events);
  }
}
