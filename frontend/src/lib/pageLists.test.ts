import { describe, expect, it, vi } from "vitest";
import type { RecommendationList } from "../api";
import { recList } from "../test/fakeApi";
import { createPageLists } from "./pageLists";

const signal = () => new AbortController().signal;

describe("createPageLists", () => {
  it("asks for each list after the ones above it, excluding what they show and the page's own ids", async () => {
    const lists = createPageLists(3, [99]);
    const asked: number[][] = [];
    const fetch = (ids: number[]) => (exclude: number[]) => {
      asked.push(exclude);
      return Promise.resolve(recList(ids));
    };
    // started in reverse order: the lower lists still wait for the higher ones
    const third = lists.step(2, fetch([7, 8]))(signal());
    const second = lists.step(1, fetch([4, 5]))(signal());
    const first = lists.step(0, fetch([1, 2]))(signal());
    await Promise.all([first, second, third]);
    expect(asked).toEqual([[99], [99, 1, 2], [99, 1, 2, 4, 5]]);
  });

  it("does not hold the lists below a failed one, and a Retry excludes every other list on the page", async () => {
    const lists = createPageLists(2);
    const top = vi
      .fn<(exclude: number[]) => Promise<RecommendationList>>()
      .mockRejectedValueOnce(new Error("502"))
      .mockResolvedValueOnce(recList([3, 4]));
    const below = vi.fn((_exclude: number[]) => Promise.resolve(recList([1, 2])));
    const loadTop = lists.step(0, top);

    await expect(loadTop(signal())).rejects.toThrow("502");
    await lists.step(1, below)(signal());
    expect(below).toHaveBeenCalledWith([], expect.anything());

    await loadTop(signal()); // Retry
    expect(top).toHaveBeenLastCalledWith([1, 2], expect.anything());
  });

  it("does not let an aborted list release the ones below it", async () => {
    const lists = createPageLists(2);
    const aborted = new AbortController();
    let answer!: (list: RecommendationList) => void;
    const top = vi
      .fn<(exclude: number[], s: AbortSignal) => Promise<RecommendationList>>()
      .mockImplementationOnce(() => {
        aborted.abort();
        return Promise.reject(new DOMException("aborted", "AbortError"));
      })
      .mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
    const below = vi.fn((_exclude: number[]) => Promise.resolve(recList([9])));

    await expect(lists.step(0, top)(aborted.signal)).rejects.toThrow("aborted");
    const pending = lists.step(1, below)(signal());
    const again = lists.step(0, top)(signal()); // React runs the effect again
    await Promise.resolve();
    expect(below).not.toHaveBeenCalled();
    answer(recList([5, 6]));
    await Promise.all([again, pending]);
    expect(below).toHaveBeenCalledWith([5, 6], expect.anything());
  });
});
