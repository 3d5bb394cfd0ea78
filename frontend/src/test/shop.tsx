import { render } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { App } from "../App";
import { resetCategoriesCache } from "../hooks/useCategories";
import { installFakeApi } from "./fakeApi";

/** The whole shop at `path`, as a shopper who typed the address would see it. */
export function renderAt(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <App />
    </MemoryRouter>,
  );
}

/** A fresh fake backend, and no categories remembered from the test before (the hook caches them per tab). */
export function startFakeShop(): ReturnType<typeof installFakeApi> {
  resetCategoriesCache();
  return installFakeApi();
}
