import { afterEach, describe, expect, it, vi } from "vitest";
import { listProducts, login, savePreferences } from ".";
import { ApiError, request, setBootstrap, withQuery } from "./http";

function stubFetch(status = 200, body: unknown = {}) {
  const fetchMock = vi.fn((_url: string, _init: RequestInit) =>
    Promise.resolve(new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } })),
  );
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

afterEach(() => {
  document.cookie = "csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT";
  setBootstrap(null);
});

describe("api client", () => {
  it("sends X-CSRFToken from the csrftoken cookie on unsafe methods only, same-origin, no session_id", async () => {
    document.cookie = "csrftoken=tok%3D1";
    const fetchMock = stubFetch(200, { user: { id: 1, username: "admin" } });
    await login("admin", "dragonrec-demo");
    await listProducts({ search: "mouse", brand: "", in_stock: false, page: 2 });
    await savePreferences({ categories: [], brands: ["Lumora"], price_min: null, price_max: "50" });

    const [loginCall, listCall, putCall] = fetchMock.mock.calls;
    expect(loginCall[0]).toBe("/api/auth/login/");
    expect((loginCall[1].headers as Record<string, string>)["X-CSRFToken"]).toBe("tok=1");
    expect(loginCall[1].credentials).toBe("same-origin");
    expect(listCall[0]).toBe("/api/products/?search=mouse&page=2");
    expect(listCall[1].headers as Record<string, string>).not.toHaveProperty("X-CSRFToken");
    expect(putCall[1].method).toBe("PUT");
    expect((putCall[1].headers as Record<string, string>)["X-CSRFToken"]).toBe("tok=1");
    for (const [url, init] of fetchMock.mock.calls) {
      expect(`${url} ${typeof init.body === "string" ? init.body : ""}`).not.toContain("session_id");
    }
  });

  it("turns DRF errors into ApiError with the detail", async () => {
    stubFetch(400, { detail: "Wrong username or password." });
    await expect(login("admin", "nope")).rejects.toMatchObject({
      name: "ApiError",
      status: 400,
      message: "Wrong username or password.",
    });
    stubFetch(400, { min_price: ["A valid number is required."] });
    const err = await request("GET", "/api/products/").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).detail).toBe("min_price: A valid number is required.");
  });

  it("holds requests until the bootstrap (session) call has answered", async () => {
    const fetchMock = stubFetch(200, { count: 0, next: null, previous: null, results: [] });
    let release!: () => void;
    setBootstrap(new Promise<void>((r) => (release = r)));
    const pending = listProducts({});
    await Promise.resolve();
    expect(fetchMock).not.toHaveBeenCalled();
    release();
    await pending;
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it("builds query strings without empty values", () => {
    expect(withQuery("/x/", { a: "", b: null, c: undefined, d: 0, e: "a b" })).toBe("/x/?d=0&e=a+b");
    expect(withQuery("/x/", {})).toBe("/x/");
  });
});
