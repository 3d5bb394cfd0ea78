import { request } from "./http";
import type { RecommendationList, Scenario } from "./types";

export interface RecommendationQuery {
  scenario: Scenario;
  /** Required for scenario "product". */
  productId?: number;
  n?: number;
}

/** `GET /api/recommendations/`: the shopper comes from the cookie; "cart" is replayed server-side from events. */
export function getRecommendations(q: RecommendationQuery, signal?: AbortSignal): Promise<RecommendationList> {
  return request<RecommendationList>("GET", "/api/recommendations/", {
    signal,
    noStore: true,
    query: { scenario: q.scenario, product_id: q.productId, n: q.n ?? 10 },
  });
}
