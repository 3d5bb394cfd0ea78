import { readCsrfToken } from "../tracking/cookies";

/** A non-2xx answer; `detail` is DRF's message when there is one. */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: string | undefined;
  readonly body: unknown;

  constructor(status: number, body: unknown) {
    const detail = describe(body);
    super(detail ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

function describe(body: unknown): string | undefined {
  if (!body || typeof body !== "object") return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.detail === "string") return b.detail;
  // DRF field errors: {"field": ["message", ...]}
  const first = Object.entries(b).find(([, v]) => Array.isArray(v) && typeof v[0] === "string");
  return first ? `${first[0]}: ${(first[1] as string[])[0]}` : undefined;
}

// The server issues the anonymous shopper cookie on the first API call. A first-time visitor's page makes several
// calls at once; they wait for the session call so that all of them (and the events) carry one shopper id.
let bootstrap: Promise<unknown> | null = null;

export function setBootstrap(promise: Promise<unknown> | null): void {
  bootstrap = promise ? promise.catch(() => undefined) : null;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "") continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Only for the bootstrap call itself. */
  skipBootstrap?: boolean;
  /** Recommendations change with every event: never serve them from the HTTP cache. */
  noStore?: boolean;
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  if (bootstrap && !options.skipBootstrap) await bootstrap;
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method)) {
    const token = readCsrfToken();
    if (token) headers["X-CSRFToken"] = token;
  }
  const res = await fetch(withQuery(path, options.query), {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: "same-origin",
    signal: options.signal,
    cache: options.noStore ? "no-store" : undefined,
  });
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data as T;
}
