import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import type { RecommendationList as List } from "../api";
import { tracker } from "../lib/analytics";
import { recList } from "../test/fakeApi";
import { RecommendationList } from "./RecommendationList";

function renderList(load: () => Promise<List>, title = "Recommended for you") {
  return render(
    <MemoryRouter>
      <RecommendationList title={title} list="home" load={load} deps={[]} />
    </MemoryRouter>,
  );
}

describe("RecommendationList", () => {
  it("shows the ranked list with its ranker, experiment, request id and reasons", async () => {
    const list = recList([7, 8, 9], { ranker: "student:v3", experiment: "ranker-ab", arm: "B" });
    renderList(() => Promise.resolve(list));

    const section = await screen.findByRole("region", { name: "Recommended for you" });
    await within(section).findByText("Product 7");
    expect(section).toHaveAttribute("data-request-id", list.request_id);
    expect(within(section).getByText("Ranked by student:v3 · experiment ranker-ab/B")).toBeInTheDocument();

    const links = within(section).getAllByRole("link");
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["/products/7", "/products/8", "/products/9"]);
    expect(within(links[0]).getByRole("img", { name: "Product 7" })).toHaveAttribute(
      "src",
      expect.stringMatching(/^data:image\/svg\+xml,/),
    );

    const why = within(section).getAllByText("Why?")[1];
    expect(why.tagName).toBe("SUMMARY");
    expect(within(why.closest("details")!).getByText("Because product 8 is popular")).toBeInTheDocument();
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

  it("renders a list without request_id or ranker, without attribution", async () => {
    const click = vi.spyOn(tracker, "click");
    const track = vi.spyOn(tracker, "track");
    const impression = vi.spyOn(tracker, "listImpression");
    const list = recList([5]);
    delete list.request_id;
    delete list.ranker;
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
