import { useEffect, useState } from "react";
import { listCategories, type Category } from "../api";

// Categories change rarely; the header, the category page and the preferences form share one request.
let cache: Promise<Category[]> | null = null;

function load(): Promise<Category[]> {
  if (!cache) {
    cache = listCategories().catch((err: unknown) => {
      cache = null; // let the next caller try again
      throw err;
    });
  }
  return cache;
}

export interface CategoriesState {
  categories: Category[] | undefined;
  error: unknown;
  retry: () => void;
}

export function useCategories(): CategoriesState {
  const [categories, setCategories] = useState<Category[]>();
  const [error, setError] = useState<unknown>();
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    load().then(
      (c) => live && setCategories(c),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [attempt]);

  const retry = () => {
    setError(undefined);
    setAttempt((n) => n + 1);
  };
  return { categories, error, retry };
}

/** For tests. */
export function resetCategoriesCache(): void {
  cache = null;
}
