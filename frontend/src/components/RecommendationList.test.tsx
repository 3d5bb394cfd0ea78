import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import type { RecommendationList as List } from "../api";
import { tracker } from "../lib/analytics";
import { product, recList } from "../test/fakeApi";
import { RecommendationList } from "./RecommendationList";

function renderList(load: () => Promise<List>, title = "Recommended for you", path = "/") {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <RecommendationList title={title} list="home" load={load} deps={[]} />
    </MemoryRouter>,
  );
}

describe("RecommendationList", () => {
  it("shows the shopper the items and why each was picked, never the ranker or the experiment", async () => {
    const list = recList([7, 8, 9], { ranker: "student:v3", experiment: "spring-promo-test", arm: "treatment" });
    renderList(() => Promise.resolve(list));

    const section = await screen.findByRole("region", { name: "Recommended for you" });
    await within(section).findByText("Product 7");
    expect(section).toHaveAttribute("data-request-id", list.request_id);
    expect(section).not.toHaveTextContent(/Ranked by|student:v3|spring-promo-test|treatment|trending/);
    expect(within(section).queryByTestId("list-debug")).not.toBeInTheDocument();

    const links = within(section).getAllByRole("link");
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["/products/7", "/products/8", "/products/9"]);
    expect(within(links[0]).getByRole("img", { name: "Product 7" })).toHaveAttribute(
      "src",
      expect.stringMatching(/^data:image\/svg\+xml,/),
    );

    const cards = within(section).getAllByRole("listitem");
    expect(within(cards[1]).getByText("Because product 8 is popular")).toBeVisible();
  });

  it("shows each item on the shop's one product card: brand, price, stock, and no made-up price", async () => {
    const list = recList([7, 8, 9]);
    list.items[0].product = product(7, { brand: "Lumora", price: "24.50" });
    list.items[1].product = product(8, { in_stock: false });
    list.items[2].product = product(9, { price: null });
    renderList(() => Promise.resolve(list));

    const cards = await screen.findAllByRole("listitem");
    expect(cards[0]).toHaveTextContent("Lumora€24.50");
    expect(within(cards[0]).queryByText("Out of stock")).not.toBeInTheDocument();
    expect(within(cards[1]).getByText("Out of stock")).toBeVisible();
    expect(within(cards[2]).getByText("Price on request")).toBeVisible();
    expect(cards[2]).not.toHaveTextContent("0.00");
  });

  it("shows what served the list in the debug view (?debug=1), remembered for the tab until ?debug=0", async () => {
    const list = recList([7, 8], { ranker: "student:v3", experiment: "spring-promo-test", arm: "treatment" });
    list.items[0].source = "complements";
    const view = renderList(() => Promise.resolve(list), "Recommended for you", "/?debug=1");

    const debug = await screen.findByTestId("list-debug");
    expect(debug).toHaveTextContent(
      `Ranked by student:v3 · experiment spring-promo-test/treatment · request ${list.request_id}`,
    );
    expect(screen.getByText(`complements · ${list.items[0].score.toFixed(3)}`)).toBeInTheDocument();
    view.unmount();

    // another page of the same tab, without the parameter: still on
    const next = renderList(() => Promise.resolve(list), "Recommended for you", "/products/7");
    expect(await screen.findByTestId("list-debug")).toBeInTheDocument();
    next.unmount();

    renderList(() => Promise.resolve(list), "Recommended for you", "/?debug=0");
    await screen.findByText("Product 7");
    expect(screen.queryByTestId("list-debug")).not.toBeInTheDocument();
    expect(screen.queryByText(/Ranked by/)).not.toBeInTheDocument();
  });

  it("sends one impression for the list and a click with the 1-based position", async () => {
    const impression = vi.spyOn(tracker, "listImpression");
    const click = vi.spyOn(tracker, "click");
    const list = recList([7, 8, 9]);
    renderList(() => Promise.resolve(list));

    const second = await screen.findByRole("link", { name: /Product 8/ });
    // jsdom has no IntersectionObserver: the fallback reports the list as seen once its effect has run (after the
    // render that showed the link, so wait for it rather than race it).
    await waitFor(() => expect(impression).toHaveBeenCalledTimes(1));
    expect(impression).toHaveBeenCalledWith({ requestId: list.request_id, list: "home", productIds: [7, 8, 9] });

    fireEvent.click(second);
    expect(click).toHaveBeenCalledWith(8, { requestId: list.request_id, position: 2, list: "home" });
    expect(tracker.attribution.get(8)).toEqual({ requestId: list.request_id, position: 2, list: "home" });
  });

  it("shows an error with a Retry button that loads the list again", async () => {
    const load = vi
      .fn<() => Promise<List>>()
      .mockRejectedValueOnce(new Error("502"))
      .mockResolvedValueOnce(recList([3]));
    renderList(load);

    expect(await screen.findByText("Could not load recommendations")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("link", { name: /Product 3/ })).toBeInTheDocument();
    expect(screen.queryByText("Could not load recommendations")).not.toBeInTheDocument();
  });

  it("shows a loading state first", () => {
    renderList(() => new Promise<List>(() => {}));
    expect(screen.getByRole("status")).toHaveTextContent("Loading");
  });

  it("renders a list from an older server (no request_id, no ranker), without attribution", async () => {
    const click = vi.spyOn(tracker, "click");
    const track = vi.spyOn(tracker, "track");
    const impression = vi.spyOn(tracker, "listImpression");
    const { request_id: _, ranker: __, ...old } = recList([5]);
    const list = old as List;
    renderList(() => Promise.resolve(list), "Similar products");

    const section = await screen.findByRole("region", { name: "Similar products" });
    fireEvent.click(await within(section).findByRole("link", { name: /Product 5/ }));
    expect(section).not.toHaveAttribute("data-request-id");
    expect(within(section).queryByText(/Ranked by/)).not.toBeInTheDocument();
    expect(impression).not.toHaveBeenCalled();
    expect(click).not.toHaveBeenCalled();
    expect(track).toHaveBeenCalledWith("click", { productId: 5, context: { position: 1, list: "home" } });
  });
});
