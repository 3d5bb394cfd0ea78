/** Grey cards shaped like product cards while a list loads; announced once as "Loading…". */
export function SkeletonGrid({ count = 4, label = "Loading…" }: { count?: number; label?: string }) {
  return (
    <div className="skeleton-wrap" role="status" aria-live="polite">
      <span className="visually-hidden">{label}</span>
      <ul className="product-grid" aria-hidden="true">
        {Array.from({ length: count }, (_, i) => (
          <li key={i} className="card skeleton-card">
            <div className="skeleton skeleton-image" />
            <div className="skeleton skeleton-line" />
            <div className="skeleton skeleton-line short" />
          </li>
        ))}
      </ul>
    </div>
  );
}
