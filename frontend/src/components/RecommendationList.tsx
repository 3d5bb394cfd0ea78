import { useId, useRef, type ElementType, type Ref } from "react";
import type { RecommendationItem, ServedList } from "../api";
import { useAsync } from "../hooks/useAsync";
import { useDebug } from "../hooks/useDebug";
import { useInView } from "../hooks/useInView";
import { tracker } from "../lib/analytics";
import type { ListName } from "../tracking";
import { ErrorState } from "./ErrorState";
import { ProductCard } from "./ProductCard";
import { SkeletonGrid } from "./Skeleton";

interface Props {
  title: string;
  list: ListName;
  /** Fetches the list; called again when `deps` change or on Retry. */
  load: (signal: AbortSignal) => Promise<ServedList>;
  deps: unknown[];
  headingLevel?: 1 | 2 | 3;
  emptyText?: string;
}

/**
 * Every recommended list in the shop: heading, the cards with the reason each was picked, and the tracking that
 * makes the list learnable (one impression per request_id when seen, a click with its 1-based position). What
 * served the list (ranker, experiment and arm, request id, each item's source and score) is for the debug view only
 * (`?debug=1`): shoppers see reasons, not internals.
 */
export function RecommendationList({ title, list, load, deps, headingLevel = 2, emptyText }: Props) {
  const headingId = useId();
  const Heading = `h${headingLevel}` as ElementType;
  const { data, error, loading, reload } = useAsync(load, deps);
  const firstCard = useRef<HTMLLIElement>(null);
  const requestId = data?.request_id;
  const debug = useDebug();

  useInView(firstCard, Boolean(requestId && data?.items.length), () => {
    if (data && requestId) {
      tracker.listImpression({ requestId, list, productIds: data.items.map((i) => i.product.id) });
    }
  });

  return (
    <section className="rec-list" aria-labelledby={headingId} data-request-id={requestId} data-list={list}>
      <div className="rec-head">
        <Heading id={headingId} className="section-title">
          {title}
        </Heading>
        {debug && data && (
          <p className="ranked-by" data-testid="list-debug">
            Ranked by {data.ranker ?? "?"}
            {data.experiment ? ` · experiment ${data.experiment}/${data.arm ?? "?"}` : ""}
            {` · request ${requestId ?? "none"}`}
          </p>
        )}
      </div>
      {loading ? (
        <SkeletonGrid count={4} label={`Loading ${title.toLowerCase()}…`} />
      ) : error ? (
        <ErrorState message="Could not load recommendations" onRetry={reload} />
      ) : !data || data.items.length === 0 ? (
        <p className="muted">{emptyText ?? "Nothing to recommend here yet."}</p>
      ) : (
        <ul className="product-grid">
          {data.items.map((item, index) => (
            <RecommendationCard
              key={item.product.id}
              item={item}
              position={index + 1}
              list={list}
              requestId={requestId}
              debug={debug}
              cardRef={index === 0 ? firstCard : undefined}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

interface CardProps {
  item: RecommendationItem;
  position: number;
  list: ListName;
  requestId: string | undefined;
  debug: boolean;
  cardRef?: Ref<HTMLLIElement>;
}

function RecommendationCard({ item, position, list, requestId, debug, cardRef }: CardProps) {
  const { product, reason } = item;
  const onClick = () => {
    if (requestId) tracker.click(product.id, { requestId, position, list });
    // Without a request_id (a server older than issue #19) there is nothing to credit, but the click is a signal.
    else tracker.track("click", { productId: product.id, context: { position, list } });
  };
  return (
    <ProductCard product={product} onOpen={onClick} position={position} ref={cardRef}>
      {reason && <p className="card-reason">{reason}</p>}
      {debug && (
        <p className="debug-item">
          {item.source} · {Number.isFinite(item.score) ? item.score.toFixed(3) : String(item.score)}
        </p>
      )}
    </ProductCard>
  );
}
