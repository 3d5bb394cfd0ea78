import { useEffect, useEffectEvent, type RefObject } from "react";

/**
 * Calls `onVisible` once, when at least half of `ref`'s element is on screen (IntersectionObserver). Where the
 * observer does not exist (old browsers, jsdom) it fires at once: a missed impression skews metrics more than an
 * early one.
 */
export function useInView(ref: RefObject<Element | null>, enabled: boolean, onVisible: () => void): void {
  // The latest `onVisible`, without observing again each time the caller passes a new closure.
  const visible = useEffectEvent(onVisible);

  useEffect(() => {
    if (!enabled) return;
    const el = ref.current;
    if (!el) return;
    if (typeof IntersectionObserver === "undefined") {
      visible();
      return;
    }
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) {
          observer.disconnect();
          visible();
        }
      },
      { threshold: 0.5 },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref, enabled]);
}
