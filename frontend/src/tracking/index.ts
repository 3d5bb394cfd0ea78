/**
 * DragonRec's tracking client: no React, no dependencies. Copy this folder into a shop or import it from here.
 * See docs/tracking.md.
 */
export { createTracker, parseRetryAfter } from "./tracker";
export type { ListImpression, PurchaseItem, Tracker, TrackerOptions, TrackProps } from "./tracker";
export { createAttributionStore, attributionContext } from "./attribution";
export type { AttributionStore } from "./attribution";
export { readCookie, readCsrfToken } from "./cookies";
export { uuid4 } from "./uuid";
export type {
  Attribution,
  DocumentLike,
  EventType,
  FetchLike,
  ListName,
  StorageLike,
  TrackedEvent,
  WindowLike,
} from "./types";
