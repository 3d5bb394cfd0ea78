export { ApiError, setBootstrap } from "./http";
export { getSession, login, logout } from "./auth";
export { listCategories, listProducts, getProduct, getSimilar, getComplements } from "./catalog";
export { getRecommendations } from "./recommendations";
export type { RecommendationQuery } from "./recommendations";
export { getPreferences, savePreferences } from "./preferences";
export type * from "./types";
export { searchProducts, suggestSearch } from "./search";
export type { SearchQuery } from "./search";
