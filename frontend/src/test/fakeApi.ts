import { vi } from "vitest";
import type { Category, Preferences, Product, RecommendationList, SearchResults } from "../api";
import type { TrackedEvent } from "../tracking";

export const categories: Category[] = [
  { id: 1, name: "Electronics", path: "Electronics", parent_id: null, depth: 0, product_count: 30 },
  { id: 3, name: "Monitors", path: "Electronics > Monitors", parent_id: 1, depth: 1, product_count: 12 },
  { id: 4, name: "Mice", path: "Electronics > Mice", parent_id: 1, depth: 1, product_count: 18 },
  { id: 2, name: "Home", path: "Home", parent_id: null, depth: 0, product_count: 15 },
];

export function product(id: number, overrides: Partial<Product> = {}): Product {
  return {
    id,
    sku: `SKU-${id}`,
    title: `Product ${id}`,
    description: `Description of product ${id}`,
    brand: id % 2 ? "Lumora" : "Northwind",
    category: id % 2 ? "Electronics > Monitors" : "Electronics > Mice",
    category_id: id % 2 ? 3 : 4,
    price: "19.99",
    currency: "EUR",
    stock_quantity: 5,
    in_stock: true,
    image_url: `https://images.invalid/${id}.jpg`,
    attributes: {},
    updated_at: "2026-11-26T10:00:00Z",
    ...overrides,
  };
}

export interface Recorded {
  method: string;
  url: URL;
  body: unknown;
  headers: Record<string, string>;
}

type Route = (req: Recorded) => Response | Promise<Response>;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

let listCounter = 0;

/** Lists a fake backend answers with; each gets a fresh request_id like the real one. */
export function recList(ids: number[], extra: Partial<RecommendationList> = {}): RecommendationList {
  listCounter += 1;
  return {
    request_id: `req-${listCounter}-${Math.random().toString(36).slice(2)}`,
    scenario: "home",
    ranker: "trending",
    relaxed: [],
    experiment: null,
    arm: null,
    items: ids.map((id) => ({
      product: product(id),
      score: 1 - id / 100,
      reason: `Because product ${id} is popular`,
      source: "trending",
    })),
    ...extra,
  };
}

/** The ids a request's `exclude` parameter names (the contract: comma-separated product ids). */
export function excluded(req: Recorded): number[] {
  return (req.url.searchParams.get("exclude") ?? "").split(",").filter(Boolean).map(Number);
}

/** Like the real server: the candidates minus what the page already shows. */
function served(req: Recorded, candidates: number[], extra: Partial<RecommendationList> = {}): Response {
  const skip = new Set(excluded(req));
  return json(200, recList(candidates.filter((id) => !skip.has(id)), extra));
}

/**
 * What the fake lists hold before `exclude`: they overlap on purpose (like a real shop's lists for one product),
 * so a page that did not pass what it already shows would show a product twice.
 */
export const CANDIDATES = {
  complements: [31, 32, 21],
  similar: [21, 22, 23, 31],
  product: [22, 31, 1, 2, 3, 5],
  home: [1, 2, 3, 5],
  cart: [51, 52],
};

export function searchAnswer(params: URLSearchParams): SearchResults {
  const q = params.get("q") ?? "";
  const page = Number(params.get("page") ?? "1");
  const size = Number(params.get("page_size") ?? "20");
  const sort = params.get("sort") ?? "relevance";
  const base = { query: q, page, page_size: size, sort, experiment: null, arm: null };
  listCounter += 1;
  if (q === "nothingmatches") {
    const recs = recList([61, 62, 63]);
    return {
      ...base,
      request_id: `search-${listCounter}`,
      corrected_query: "monitor",
      count: 0,
      ranker: "search",
      personalised: false,
      items: [],
      recommendations: { request_id: recs.request_id, ranker: "trending", items: recs.items },
    };
  }
  const count = 45;
  const ids = Array.from({ length: Math.max(0, Math.min(size, count - (page - 1) * size)) }, (_, i) => 100 + (page - 1) * size + i);
  return {
    ...base,
    request_id: `search-${listCounter}`,
    corrected_query: q === "moniter" ? "monitor" : null,
    count,
    ranker: "search+student:v3",
    personalised: true,
    items: recList(ids).items.map((item) => ({ ...item, source: "lexical", reason: "Matches your search" })),
    recommendations: null,
  };
}

/**
 * Installs a fake DragonRec backend as `fetch`, following the contract the storefront codes against.
 * `overrides` replace a route by "METHOD /path/" (the product id replaced by `:id`).
 */
export function installFakeApi(overrides: Record<string, Route> = {}) {
  const calls: Recorded[] = [];
  const events: TrackedEvent[] = [];
  const state = {
    user: null as null | { id: number; username: string },
    preferences: { categories: [], brands: [], price_min: null, price_max: null } as Preferences,
  };

  const routes: Record<string, Route> = {
    "GET /api/auth/session/": () => {
      document.cookie = "csrftoken=csrf-abc";
      return json(200, { user: state.user });
    },
    "POST /api/auth/login/": (req) => {
      const { username, password } = req.body as { username: string; password: string };
      if (username === "admin" && password === "dragonrec-demo") {
        state.user = { id: 1, username };
        return json(200, { user: state.user });
      }
      return json(400, { detail: "Wrong username or password." });
    },
    "POST /api/auth/logout/": () => {
      state.user = null;
      return json(200, { user: null });
    },
    "GET /api/categories/": () => json(200, categories),
    "GET /api/products/": (req) => {
      const page = Number(req.url.searchParams.get("page") ?? "1");
      const results = Array.from({ length: 20 }, (_, i) => product((page - 1) * 20 + i + 1));
      return json(200, {
        count: 45,
        next: page < 3 ? `/api/products/?page=${page + 1}` : null,
        previous: page > 1 ? `/api/products/?page=${page - 1}` : null,
        results: page === 3 ? results.slice(0, 5) : results,
      });
    },
    "GET /api/products/:id/": (req) => {
      const id = Number(req.url.pathname.split("/")[3]);
      return id === 404 ? json(404, { detail: "Not found." }) : json(200, product(id, { title: `Lumora ProLine ${id}` }));
    },
    "GET /api/products/:id/similar/": (req) =>
      served(req, CANDIDATES.similar, { scenario: "similar", ranker: "embedding" }),
    "GET /api/products/:id/complements/": (req) =>
      served(req, CANDIDATES.complements, { scenario: "complements", ranker: "embedding" }),
    "GET /api/recommendations/": (req) => {
      const scenario = (req.url.searchParams.get("scenario") ?? "home") as "home" | "product" | "cart";
      if (scenario === "home" && (state.preferences.categories ?? []).length > 0) {
        return served(req, [41, 42, 43, 44], { scenario: "home", ranker: "student:v3" });
      }
      return served(req, CANDIDATES[scenario], { scenario });
    },
    "GET /api/preferences/": () => json(200, state.preferences),
    "PUT /api/preferences/": (req) => {
      state.preferences = req.body as Preferences;
      return json(200, state.preferences);
    },
    // search: "nothingmatches" finds nothing (did you mean + recommendations), "moniter" is corrected, else 45 hits
    "GET /api/search/": (req) => json(200, searchAnswer(req.url.searchParams)),
    "GET /api/search/suggest/": (req) => {
      const q = req.url.searchParams.get("q") ?? "";
      return json(200, {
        query: q,
        corrected_query: null,
        suggestions: [
          { text: `${q} stand`, kind: "query", product_id: null },
          { text: "Monitors", kind: "category", product_id: null },
          { text: "Lumora ProLine 7", kind: "product", product_id: 7 },
        ],
      });
    },
    "POST /api/events/": (req) => {
      const batch = (req.body as { events: TrackedEvent[] }).events;
      events.push(...batch);
      return json(200, { results: batch.map((e) => ({ id: e.id, status: "accepted" })) });
    },
    ...overrides,
  };

  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : input, "http://shop.test");
    const method = (init.method ?? "GET").toUpperCase();
    const body = typeof init.body === "string" ? (JSON.parse(init.body) as unknown) : undefined;
    const req: Recorded = { method, url, body, headers: (init.headers ?? {}) as Record<string, string> };
    calls.push(req);
    const key = `${method} ${url.pathname.replace(/\/\d+\//, "/:id/")}`;
    const route = routes[key];
    if (!route) return json(404, { detail: `no fake route for ${key}` });
    return route(req);
  });
  vi.stubGlobal("fetch", fetchMock);

  return {
    calls,
    events,
    state,
    fetch: fetchMock,
    /** Requests to one path (query ignored). */
    requests: (method: string, path: string) => calls.filter((c) => c.method === method && c.url.pathname === path),
  };
}
