import type { StorageLike } from "./types";

/** The browser's storage if it is there and usable (Safari's private mode and sandboxed iframes throw). */
export function defaultStorage(kind: "localStorage" | "sessionStorage"): StorageLike | null {
  try {
    const s = (globalThis as Record<string, unknown>)[kind] as StorageLike | undefined;
    if (!s) return null;
    const probe = "dragonrec:probe";
    s.setItem(probe, "1");
    s.removeItem(probe);
    return s;
  } catch {
    return null;
  }
}

export function readJson(storage: StorageLike | null, key: string): unknown {
  if (!storage) return undefined;
  try {
    const raw = storage.getItem(key);
    return raw == null ? undefined : (JSON.parse(raw) as unknown);
  } catch {
    return undefined;
  }
}

/** Returns false when the write failed (quota exceeded, storage disabled): the caller keeps the data in memory. */
export function writeJson(storage: StorageLike | null, key: string, value: unknown): boolean {
  if (!storage) return false;
  try {
    storage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

export function removeKey(storage: StorageLike | null, key: string): void {
  try {
    storage?.removeItem(key);
  } catch {
    // Nothing to do: storage is best effort.
  }
}
