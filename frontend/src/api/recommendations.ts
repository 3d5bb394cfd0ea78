import { request } from "./http";
import type { RecommendationList, Scenario } from "./types";

/** The server takes at most this many ids in `exclude` (docs/api.md). */
export const MAX_EXCLUDE = 100;

/**
 * The `exclude` parameter: product ids already shown on the page, comma-separated, duplicates dropped, at most
 * MAX_EXCLUDE (the first ones: the lists higher on the page); `undefined` (left out) when there are none.
 */
export function excludeParam(ids: readonly number[] | undefined): string | undefined {
  const unique = [...new Set(ids ?? [])].slice(0, MAX_EXCLUDE);
  return unique.length ? unique.join(",") : undefined;
}

export interface RecommendationQuery {
  scenario: Scenario;
  /** Required for scenario "product". */
  productId?: number;
  n?: number;
  /** Products already on the page: never in the answer. */
  exclude?: readonly number[];
}

/** `GET /api/recommendations/`: the shopper comes from the cookie; "cart" is replayed server-side from events. */
export function getRecommendations(q: RecommendationQuery, signal?: AbortSignal): Promise<RecommendationList> {
  return request<RecommendationList>("GET", "/api/recommendations/", {
    signal,
    noStore: true,
    query: { scenario: q.scenario, product_id: q.productId, n: q.n ?? 10, exclude: excludeParam(q.exclude) },
  });
}
