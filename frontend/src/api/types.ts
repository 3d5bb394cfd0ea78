/**
 * Shapes of the DragonRec API (docs/api.md), named for the shop. They come from `schema.d.ts`, which
 * openapi-typescript generates from the server's OpenAPI schema (`make api-types`; `make lint` fails when it is out of
 * date): a change to the API shows up here as a compile error, not as a surprise in the browser. Only what the
 * schema cannot say is written by hand below, each with its reason. Decimals travel as strings.
 */
import type { components, operations } from "./schema";

type Schemas = components["schemas"];
/** An operation's query parameters. */
type QueryOf<Op extends keyof operations> = NonNullable<operations[Op]["parameters"]["query"]>;
/** `Omit` that refuses keys `T` does not have: a renamed field in the schema breaks the build here. */
type Without<T, K extends keyof T> = Omit<T, K>;

export type User = Schemas["User"];
export type SessionResponse = Schemas["AuthSessionOutput"];
export type Category = Schemas["Category"];
export type Product = Schemas["ProductOutput"];
export type PaginatedProducts = Schemas["PaginatedProductOutputList"];

/**
 * One recommended item. The schema leaves `product` open (a host shop can plug in its own product serializer,
 * `RECOMMENDER["PRODUCT_SERIALIZER"]`); this shop runs the default one, whose shape is `Product`.
 */
export type RecommendationItem = Without<Schemas["Item"], "product"> & { product: Product };

export type Scenario = NonNullable<QueryOf<"recommendations_retrieve">["scenario"]>;

/**
 * A served list: `/api/recommendations/`, `/api/products/{id}/similar/` and `/complements/` all answer this shape.
 * `request_id` is what a click on one of its items is credited to. `ranker`, `experiment` and `arm` are internals:
 * the shop shows them only in its debug view (`?debug=1`), never to shoppers.
 */
export type RecommendationList = Without<Schemas["Output"], "items"> & { items: RecommendationItem[] };

/**
 * What every served list carries, search's zero-result recommendations too (they have no scenario, experiment or
 * arm): what a list on the page needs to show its items and credit their clicks.
 */
export type ServedList = Pick<RecommendationList, "request_id" | "ranker" | "items"> &
  Partial<Pick<RecommendationList, "experiment" | "arm">>;

/** The shopper's stated tastes, as `GET`/`PUT /api/preferences/` answer them. */
export type Preferences = Schemas["Preference"];
/** What `PUT /api/preferences/` takes. The shop never sends `session_id`: its cookie says who the shopper is. */
export type PreferencesInput = Without<Schemas["PreferenceInput"], "session_id">;

/**
 * The catalog's filters (`GET /api/products/`). Prices stay as the shopper typed them: the server parses and checks
 * them (a 400 the shop shows), where the schema's `number` would have the browser round them first.
 */
export type ProductQuery = Without<QueryOf<"products_list">, "min_price" | "max_price"> & {
  min_price?: string;
  max_price?: string;
};

// ---- search (GET /api/search/, /api/search/suggest/) ------------------------------------------------------------

export type SearchSort = NonNullable<QueryOf<"search_retrieve">["sort"]>;

/** A search results page: a served list like recommendations (clicks carry its `request_id` and the position). */
export type SearchResults = Without<Schemas["SearchResults"], "items" | "recommendations"> & {
  items: RecommendationItem[];
  /** Zero results only: what to show instead of a dead end. */
  recommendations: (Without<Schemas["SearchRecommendations"], "items"> & { items: RecommendationItem[] }) | null;
};

export type SearchSuggestion = Schemas["SearchSuggestion"];
export type SearchSuggestions = Schemas["SearchSuggestions"];
