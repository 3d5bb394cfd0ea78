import { act, render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ProductImage } from "./ProductImage";

/** Stands in for `new Image()`, so the test decides whether the real image loads. */
class FakeImage {
  static last: FakeImage | null = null;
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  naturalWidth = 0;
  src = "";
  constructor() {
    FakeImage.last = this;
  }
}

beforeEach(() => {
  FakeImage.last = null;
  vi.stubGlobal("Image", FakeImage);
});

describe("ProductImage", () => {
  it("shows a generated placeholder and swaps to the real image once it loads", () => {
    render(<ProductImage title="Lumora ProLine 27U" category="Electronics > Monitors" src="/media/27u.jpg" />);
    const img = screen.getByRole("img", { name: "Lumora ProLine 27U" });
    expect(img.getAttribute("src")).toMatch(/^data:image\/svg\+xml,/);
    expect(decodeURIComponent(img.getAttribute("src")!)).toContain(">LP</text>");
    expect(FakeImage.last?.src).toBe("/media/27u.jpg");

    act(() => {
      FakeImage.last!.naturalWidth = 400;
      FakeImage.last!.onload?.();
    });
    expect(img).toHaveAttribute("src", "/media/27u.jpg");
  });

  it("keeps the placeholder when the real image fails (never a broken image)", () => {
    render(<ProductImage title="USB-C Hub" category="Electronics > Hubs" src="https://offline.invalid/x.jpg" />);
    act(() => FakeImage.last!.onerror?.());
    expect(screen.getByRole("img", { name: "USB-C Hub" }).getAttribute("src")).toMatch(/^data:image\/svg\+xml,/);
  });

  it("colours placeholders by category", () => {
    render(
      <>
        <ProductImage title="A one" category="Electronics > Mice" />
        <ProductImage title="A two" category="Electronics > Mice" />
        <ProductImage title="A three" category="Home > Lamps" />
      </>,
    );
    const hue = (name: string) =>
      decodeURIComponent(screen.getByRole("img", { name }).getAttribute("src")!).match(/hsl\((\d+)/)![1];
    expect(hue("A one")).toBe(hue("A two"));
    expect(hue("A one")).not.toBe(hue("A three"));
  });
});
