import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tracker } from "./lib/analytics";
import { installFakeApi, product } from "./test/fakeApi";
import { renderAt, startFakeShop } from "./test/shop";

let api: ReturnType<typeof installFakeApi>;

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

beforeEach(() => {
  api = startFakeShop();
});

afterEach(async () => {
  // Deliver what the test tracked while the fake backend is still installed.
  await tracker.flush();
});

describe("the shop", () => {
  it("greets a new visitor with the header, the categories and a cold-start list", async () => {
    renderAt("/");
    expect(screen.getByRole("link", { name: /DragonRec Demo Shop/ })).toHaveAttribute("href", "/");
    expect(screen.getByRole("link", { name: "Skip to content" })).toHaveAttribute("href", "#main");
    const search = screen.getByRole("search");
    expect(within(search).getByLabelText("Search products")).toBeInTheDocument();

    const nav = await screen.findByRole("navigation", { name: "Categories" });
    expect(within(nav).getAllByRole("link").map((a) => a.textContent)).toEqual(["Electronics", "Home"]);
    expect(screen.getByRole("link", { name: "Cart (0)" })).toHaveAttribute("href", "/cart");
    expect(screen.getByRole("link", { name: "Account" })).toHaveAttribute("href", "/account");

    const list = screen.getByRole("region", { name: "Recommended for you" });
    expect(await within(list).findByText("Because product 1 is popular")).toBeVisible();
    expect(within(list).getAllByRole("listitem")).toHaveLength(4);
    expect(document.body).not.toHaveTextContent(/Ranked by|trending/);
    expect(screen.getByRole("link", { name: "Tell us what you like" })).toHaveAttribute(
      "href",
      "/account#preferences",
    );
    // The title is set in an effect, which may run just after the list is on screen.
    await waitFor(() => expect(document.title).toBe("DragonRec Demo Shop"));

    // Nobody sends a session id: the server's cookie identifies the shopper.
    for (const call of api.calls) expect(call.url.search + JSON.stringify(call.body ?? "")).not.toContain("session");
  });

  it("asks for the three product lists without waiting for the product", async () => {
    const productAnswer = deferred<Response>();
    api = installFakeApi({ "GET /api/products/:id/": () => productAnswer.promise });
    renderAt("/products/7");

    await waitFor(() => expect(api.requests("GET", "/api/recommendations/")).toHaveLength(1));
    expect(api.requests("GET", "/api/products/7/complements/")).toHaveLength(1);
    expect(api.requests("GET", "/api/products/7/similar/")).toHaveLength(1);
    expect(api.requests("GET", "/api/recommendations/")[0].url.searchParams.get("product_id")).toBe("7");
    expect(screen.getByText("Loading…")).toBeInTheDocument();

    productAnswer.resolve(
      new Response(JSON.stringify(product(7, { title: "Lumora ProLine 27U", description: "A sharp 27-inch." })), {
        status: 200,
      }),
    );
    expect(await screen.findByRole("heading", { level: 1, name: "Lumora ProLine 27U" })).toBeInTheDocument();
    expect(screen.getByText("A sharp 27-inch.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Add to cart" })).toBeEnabled();
    for (const name of ["Goes well with", "Similar products", "Recommended for you"]) {
      expect(screen.getByRole("heading", { name })).toBeInTheDocument();
    }
    await waitFor(() => expect(document.title).toBe("Lumora ProLine 27U · DragonRec Demo Shop"));

    await tracker.flush();
    expect(api.events.filter((e) => e.type === "view").map((e) => e.product_id)).toEqual([7]);
  });

  it("credits a purchase to the recommendation it came from", async () => {
    renderAt("/products/7");
    const complements = await screen.findByRole("region", { name: "Goes well with" });
    const requestId = await waitFor(() => {
      const id = complements.getAttribute("data-request-id");
      expect(id).toBeTruthy();
      return id!;
    });

    fireEvent.click(within(complements).getByRole("link", { name: /Product 31/ }));
    fireEvent.click(await screen.findByRole("button", { name: "Add to cart" }));
    expect(screen.getByRole("link", { name: "Cart (1)" })).toBeInTheDocument();
    expect(JSON.parse(localStorage.getItem("dragonrec:cart")!)).toMatchObject([
      { product_id: 31, quantity: 1, attribution: { requestId, position: 1, list: "complements" } },
    ]);

    fireEvent.click(screen.getByRole("link", { name: "Cart (1)" }));
    expect(await screen.findByRole("heading", { name: "Your cart" })).toBeInTheDocument();
    const setup = await screen.findByRole("region", { name: "Complete your setup" });
    await within(setup).findByText("Product 51");
    // The cart list is asked for after the add_to_cart event reached the server, which replays it.
    const cartListCall = api.calls.findIndex((c) => c.url.searchParams.get("scenario") === "cart");
    const addCall = api.calls.findIndex(
      (c) => c.url.pathname === "/api/events/" && JSON.stringify(c.body).includes("add_to_cart"),
    );
    expect(addCall).toBeGreaterThanOrEqual(0);
    expect(addCall).toBeLessThan(cartListCall);

    fireEvent.click(screen.getByRole("button", { name: "Checkout" }));
    expect(await screen.findByRole("heading", { name: "Thank you for your order" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Cart (0)" })).toBeInTheDocument();

    await tracker.flush();
    const click = api.events.find((e) => e.type === "click")!;
    expect(click).toMatchObject({ product_id: 31, context: { request_id: requestId, position: 1, list: "complements" } });
    const purchase = api.events.find((e) => e.type === "purchase")!;
    expect(purchase).toMatchObject({
      product_id: 31,
      quantity: 1,
      value: "19.99",
      context: { request_id: requestId, position: 1, list: "complements" },
    });
    const impressions = api.events.filter((e) => e.type === "impression");
    expect(impressions.map((e) => e.context.list).sort()).toEqual(
      ["cart", "home", "complements", "complements", "product", "product", "similar", "similar"].sort(),
    );
  });

  it("shows a product page's lists as one set: each asked after the one above it, none repeating another", async () => {
    renderAt("/products/7");
    const regions = ["Goes well with", "Similar products", "Recommended for you"];
    for (const name of regions) {
      const region = await screen.findByRole("region", { name });
      await waitFor(() => expect(within(region).getAllByRole("listitem").length).toBeGreaterThan(0));
    }

    const exclude = (path: string) => api.requests("GET", path).map((c) => c.url.searchParams.get("exclude"));
    expect(exclude("/api/products/7/complements/")).toEqual([null]);
    expect(exclude("/api/products/7/similar/")).toEqual(["31,32,21"]);
    expect(exclude("/api/recommendations/")).toEqual(["31,32,21,22,23"]);
    // in that order: a list is asked for once the one above it has answered
    const order = api.calls
      .filter((c) => /complements|similar|recommendations/.test(c.url.pathname))
      .map((c) => c.url.pathname.split("/").at(-2));
    expect(order).toEqual(["complements", "similar", "recommendations"]);

    const shown = regions.flatMap((name) =>
      within(screen.getByRole("region", { name }))
        .getAllByRole("link")
        .map((a) => a.getAttribute("href")),
    );
    expect(shown).toEqual([...new Set(shown)]);
    expect(shown).toHaveLength(3 + 2 + 4);
  });

  it("credits a click on the similar list to that list's request_id and position", async () => {
    renderAt("/products/7");
    const similar = await screen.findByRole("region", { name: "Similar products" });
    const second = await within(similar).findByRole("link", { name: /Product 23/ });
    const requestId = similar.getAttribute("data-request-id");
    expect(requestId).toMatch(/^req-/);
    expect(requestId).not.toBe(screen.getByRole("region", { name: "Goes well with" }).getAttribute("data-request-id"));

    fireEvent.click(second);
    await screen.findByRole("heading", { level: 1, name: "Lumora ProLine 23" });
    await tracker.flush();
    const click = api.events.find((e) => e.type === "click")!;
    expect(click).toMatchObject({ product_id: 23, context: { request_id: requestId, position: 2, list: "similar" } });
    await waitFor(() => expect(api.events.some((e) => e.type === "impression" && e.context.list === "similar")).toBe(true));
    const impression = api.events.find((e) => e.type === "impression" && e.context.list === "similar")!;
    expect(impression.context.request_id).toBe(requestId);
  });

  it("leaves the cart's products and its 'complete your setup' list out of 'recommended for you'", async () => {
    localStorage.setItem(
      "dragonrec:cart",
      JSON.stringify([{ product_id: 1, quantity: 1, attribution: null, product: product(1) }]),
    );
    renderAt("/cart");
    const setup = await screen.findByRole("region", { name: "Complete your setup" });
    await within(setup).findByText("Product 51");
    const forYou = screen.getByRole("region", { name: "Recommended for you" });
    await within(forYou).findByText("Product 2");

    const home = api.requests("GET", "/api/recommendations/").filter((c) => c.url.searchParams.get("scenario") === "home");
    expect(home.map((c) => c.url.searchParams.get("exclude"))).toEqual(["1,51,52"]);
    expect(within(forYou).getAllByRole("link").map((a) => a.getAttribute("href"))).toEqual([
      "/products/2",
      "/products/3",
      "/products/5",
    ]);
  });

  it("keeps the debug view for the tab once opened with ?debug=1, and turns it off from its note", async () => {
    renderAt("/?debug=1");
    const home = await screen.findByRole("region", { name: "Recommended for you" });
    expect(await within(home).findByText(/Ranked by trending · request req-/)).toBeInTheDocument();
    expect(screen.getByRole("note")).toHaveTextContent("Debug view");

    fireEvent.click(screen.getAllByRole("link", { name: /Product 2/ })[0]);
    const similar = await screen.findByRole("region", { name: "Similar products" });
    expect(await within(similar).findByText(/Ranked by embedding/)).toBeInTheDocument();

    fireEvent.click(within(screen.getByRole("note")).getByRole("link", { name: "Turn it off" }));
    await waitFor(() => expect(screen.queryByRole("note")).not.toBeInTheDocument());
    await within(await screen.findByRole("region", { name: "Similar products" })).findByText("Product 22");
    expect(document.body).not.toHaveTextContent(/Ranked by/);
  });

  it("changes quantities and removes lines in the cart", async () => {
    localStorage.setItem(
      "dragonrec:cart",
      JSON.stringify([{ product_id: 2, quantity: 1, attribution: null, product: product(2, { price: "5.00" }) }]),
    );
    renderAt("/cart");
    fireEvent.click(await screen.findByRole("button", { name: "Increase quantity of Product 2" }));
    expect(screen.getByRole("link", { name: "Cart (2)" })).toBeInTheDocument();
    expect(screen.getByText("Total").textContent).toContain("€10.00");
    fireEvent.click(screen.getByRole("button", { name: "Remove Product 2" }));
    expect(await screen.findByText(/Your cart is empty/)).toBeInTheDocument();

    await tracker.flush();
    const cartEvents = api.events.filter((e) => e.type !== "impression");
    expect(cartEvents.map((e) => [e.type, e.product_id, e.quantity])).toEqual([
      ["add_to_cart", 2, 1],
      ["remove_from_cart", 2, 2],
    ]);
  });

  it("signs in and out", async () => {
    renderAt("/account");
    const username = await screen.findByLabelText("Username");
    fireEvent.change(username, { target: { value: "admin" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "wrong" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Wrong username or password.");

    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "dragonrec-demo" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText(/Signed in as/)).toHaveTextContent("Signed in as admin");
    const loginCall = api.requests("POST", "/api/auth/login/").at(-1)!;
    expect(loginCall.headers["X-CSRFToken"]).toBe("csrf-abc");
    expect(loginCall.body).toEqual({ username: "admin", password: "dragonrec-demo" });

    fireEvent.click(screen.getByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeInTheDocument();
    expect(api.requests("POST", "/api/auth/logout/")).toHaveLength(1);
  });

  it("saves preferences and the home list changes", async () => {
    renderAt("/");
    const home = await screen.findByRole("region", { name: "Recommended for you" });
    expect(await within(home).findByText("Product 1")).toBeInTheDocument();

    fireEvent.click(screen.getByRole("link", { name: "Tell us what you like" }));
    const mice = await screen.findByRole("checkbox", { name: "Mice" });
    fireEvent.click(mice);
    fireEvent.change(screen.getByLabelText("Brands"), { target: { value: "Lumora, Northwind " } });
    fireEvent.change(screen.getByLabelText("Minimum price"), { target: { value: "10" } });
    fireEvent.click(screen.getByRole("button", { name: "Save preferences" }));

    expect(await screen.findByText(/Preferences saved/)).toBeInTheDocument();
    expect(api.requests("PUT", "/api/preferences/")[0].body).toEqual({
      categories: ["Electronics > Mice"],
      brands: ["Lumora", "Northwind"],
      price_min: "10",
      price_max: null,
    });

    fireEvent.click(screen.getByRole("link", { name: "See your recommendations" }));
    const again = await screen.findByRole("region", { name: "Recommended for you" });
    expect(await within(again).findByText("Product 41")).toBeInTheDocument();
    expect(within(again).queryByText("Product 1")).not.toBeInTheDocument();
    expect(api.requests("GET", "/api/recommendations/")).toHaveLength(2);
  });

  it("searches, pages and sorts", async () => {
    renderAt("/");
    const search = screen.getByRole("search");
    fireEvent.change(within(search).getByRole("combobox", { name: "Search products" }), { target: { value: " mouse " } });
    fireEvent.submit(search);

    expect(await screen.findByRole("heading", { name: "Results for “mouse”" })).toBeInTheDocument();
    expect(await screen.findByText(/45 products/)).toBeInTheDocument();
    expect(api.requests("GET", "/api/search/")[0].url.searchParams.get("q")).toBe("mouse");

    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByText("Page 2 of 3")).toBeInTheDocument();
    expect(api.requests("GET", "/api/search/").at(-1)!.url.searchParams.get("page")).toBe("2");

    fireEvent.change(screen.getByLabelText("Sort by"), { target: { value: "price_asc" } });
    await waitFor(() => {
      const params = api.requests("GET", "/api/search/").at(-1)!.url.searchParams;
      expect(Object.fromEntries(params)).toEqual({ q: "mouse", page_size: "20", sort: "price_asc" });
    });

    await tracker.flush();
    expect(api.events.filter((e) => e.type === "search").map((e) => e.context)).toEqual([{ query: "mouse" }]);
  });

  it("lists a category with its subcategories", async () => {
    renderAt("/category/1");
    expect(await screen.findByRole("heading", { level: 1, name: "Electronics" })).toBeInTheDocument();
    const sub = screen.getByRole("navigation", { name: "Subcategories" });
    expect(within(sub).getAllByRole("link").map((a) => a.getAttribute("href"))).toEqual([
      "/category/3",
      "/category/4",
    ]);
    await screen.findByText("45 products");
    expect(api.requests("GET", "/api/products/")[0].url.searchParams.get("category")).toBe("1");
  });

  it("offers a retry when recommendations fail", async () => {
    let fail = true;
    const original = installFakeApi();
    api = installFakeApi({
      "GET /api/recommendations/": (req) =>
        fail ? new Response("{}", { status: 503 }) : original.fetch(req.url.toString(), { method: "GET" }),
    });
    renderAt("/");
    expect(await screen.findByText("Could not load recommendations")).toBeInTheDocument();
    fail = false;
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("link", { name: /Product 1$/ })).toBeInTheDocument();
  });

  it("says when a product does not exist", async () => {
    renderAt("/products/404");
    expect(await screen.findByRole("heading", { name: "Product not found" })).toBeInTheDocument();
  });
});
