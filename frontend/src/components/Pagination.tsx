interface Props {
  page: number;
  count: number;
  pageSize: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPage: (page: number) => void;
}

export function Pagination({ page, count, pageSize, hasPrevious, hasNext, onPage }: Props) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  if (!hasPrevious && !hasNext) return null;
  return (
    <nav className="pagination" aria-label="Pagination">
      <button type="button" className="button button-secondary" disabled={!hasPrevious} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span aria-current="page">
        Page {page} of {pages}
      </span>
      <button type="button" className="button button-secondary" disabled={!hasNext} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}
