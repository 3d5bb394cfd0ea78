import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tracker } from "../lib/analytics";
import type { installFakeApi } from "../test/fakeApi";
import { renderAt, startFakeShop } from "../test/shop";

let api: ReturnType<typeof installFakeApi>;

beforeEach(() => {
  api = startFakeShop();
});

afterEach(async () => {
  await tracker.flush();
});

describe("search", () => {
  it("shows ranked results whose clicks are credited to the search", async () => {
    renderAt("/search?q=monitor");
    expect(await screen.findByText("45 products · personalised for you")).toBeInTheDocument();
    const grid = screen.getAllByRole("list").find((l) => l.dataset.list === "search")!;
    const requestId = grid.dataset.requestId!;
    expect(requestId).toMatch(/^search-/);

    fireEvent.click(within(grid).getAllByRole("link")[2]);
    await tracker.flush();
    const click = api.events.find((e) => e.type === "click")!;
    expect(click.product_id).toBe(102);
    expect(click.context).toMatchObject({ request_id: requestId, position: 3, list: "search" });
    const seen = api.events.find((e) => e.type === "impression")!;
    expect(seen.context).toMatchObject({ request_id: requestId, list: "search" });
  });

  it("offers the corrected query", async () => {
    renderAt("/search?q=moniter");
    const link = await screen.findByRole("link", { name: "monitor" });
    expect(link.closest("p")).toHaveTextContent("Did you mean monitor?");
    fireEvent.click(link);
    expect(await screen.findByRole("heading", { name: "Results for “monitor”" })).toBeInTheDocument();
    expect(api.requests("GET", "/api/search/").at(-1)!.url.searchParams.get("q")).toBe("monitor");
  });

  it("answers zero results with a suggestion and recommendations, not a dead end", async () => {
    renderAt("/search?q=nothingmatches");
    expect(await screen.findByText("No products match “nothingmatches”.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "monitor" })).toHaveAttribute("href", "/search?q=monitor");
    const instead = await screen.findByRole("region", { name: "You might like these instead" });
    expect(await within(instead).findAllByRole("listitem")).toHaveLength(3);
  });

  it("suggests as the shopper types and goes where a suggestion points", async () => {
    renderAt("/");
    const box = screen.getByRole("combobox", { name: "Search products" });
    fireEvent.change(box, { target: { value: "moni" } });
    const listbox = await screen.findByRole("listbox", { name: "Suggestions" });
    const options = within(listbox).getAllByRole("option");
    expect(options.map((o) => o.textContent)).toEqual(["moni stand", "Monitors · category", "Lumora ProLine 7 · product"]);
    expect(api.requests("GET", "/api/search/suggest/").at(-1)!.url.searchParams.get("q")).toBe("moni");

    // the keyboard picks the first suggestion, Enter searches for it
    fireEvent.keyDown(box, { key: "ArrowDown" });
    expect(options[0]).toHaveAttribute("aria-selected", "true");
    fireEvent.submit(screen.getByRole("search"));
    expect(await screen.findByRole("heading", { name: "Results for “moni stand”" })).toBeInTheDocument();

    // a product suggestion opens the product
    fireEvent.change(screen.getByRole("combobox", { name: "Search products" }), { target: { value: "lumora" } });
    const product = await screen.findByRole("option", { name: /Lumora ProLine 7/ });
    fireEvent.mouseDown(product);
    await waitFor(() => expect(api.requests("GET", "/api/products/7/")).toHaveLength(1));
  });
});
