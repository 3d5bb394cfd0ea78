import { useCallback, useEffect, useEffectEvent, useState, type DependencyList } from "react";

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

interface Settled<T> {
  /** The `deps` (and attempt) this answer is for. */
  key: readonly unknown[];
  data?: T;
  error?: unknown;
}

function sameKey(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((value, i) => Object.is(value, b[i]));
}

/**
 * Runs `load` when `deps` change (and on `reload()`), aborting the previous run. A new run starts from the loading
 * state, so a list for the previous product never shows under the next one: an answer counts only for the deps it
 * was asked with (derived while rendering, not reset from the effect, which would cost a second render).
 */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): AsyncState<T> {
  const [attempt, setAttempt] = useState(0);
  const [settled, setSettled] = useState<Settled<T> | null>(null);
  const key = [...deps, attempt];
  // `load` is a fresh closure on every render: the effect reads the latest one without re-running for it.
  const run = useEffectEvent((signal: AbortSignal) => load(signal));

  useEffect(
    () => {
      const controller = new AbortController();
      run(controller.signal).then(
        (data) => {
          if (!controller.signal.aborted) setSettled({ key, data });
        },
        (error: unknown) => {
          if (!controller.signal.aborted) setSettled({ key, error });
        },
      );
      return () => controller.abort();
    },
    // The caller's `deps` say when `load` really changes: the one place a spread dependency list is the point.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    key,
  );

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  const current = settled !== null && sameKey(settled.key, key);
  return {
    data: current ? settled.data : undefined,
    error: current ? settled.error : undefined,
    loading: !current,
    reload,
  };
}
