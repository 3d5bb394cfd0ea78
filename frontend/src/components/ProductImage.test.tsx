import { act, render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { loadableImage, ProductImage, resetImageFailures } from "./ProductImage";

/** Stands in for `new Image()`, so the test decides whether the real image loads. */
class FakeImage {
  static last: FakeImage | null = null;
  static created = 0;
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  naturalWidth = 0;
  src = "";
  constructor() {
    FakeImage.last = this;
    FakeImage.created += 1;
  }
}

beforeEach(() => {
  FakeImage.last = null;
  FakeImage.created = 0;
  resetImageFailures();
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

  it("keeps the placeholder when the real image fails, and never asks for that address again", () => {
    const src = "https://cdn.shop.com/hub.jpg";
    const first = render(<ProductImage title="USB-C Hub" category="Electronics > Hubs" src={src} />);
    expect(FakeImage.last?.src).toBe(src);
    act(() => FakeImage.last!.onerror?.());
    expect(screen.getByRole("img", { name: "USB-C Hub" }).getAttribute("src")).toMatch(/^data:image\/svg\+xml,/);
    first.unmount();

    // the same product on the next page (or another card): no second failed request
    render(<ProductImage title="USB-C Hub" category="Electronics > Hubs" src={src} />);
    expect(FakeImage.created).toBe(1);
    expect(screen.getByRole("img", { name: "USB-C Hub" })).toHaveAttribute("data-placeholder", "true");
  });

  it("never asks for an address that cannot load (no failed request in the console)", () => {
    render(
      <>
        <ProductImage title="Old demo" category="Electronics > Monitors" src="https://img.dragonrec.example/1.jpg" />
        <ProductImage title="Fake" category="Electronics > Mice" src="https://images.invalid/2.jpg" />
        <ProductImage title="Script" category="Electronics > Mice" src="javascript:alert(1)" />
        <ProductImage title="None" category="Electronics > Mice" src="" />
      </>,
    );
    expect(FakeImage.created).toBe(0);
    for (const name of ["Old demo", "Fake", "Script", "None"]) {
      expect(screen.getByRole("img", { name })).toHaveAttribute("data-placeholder", "true");
    }
    expect(loadableImage("/static/dragonrec/demo/products/mice.svg")).toBe(true);
    expect(loadableImage("https://cdn.example.org.uk/a.jpg")).toBe(true);
    expect(loadableImage("https://example.com/a.jpg")).toBe(false);
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
