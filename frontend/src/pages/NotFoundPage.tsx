import { Link } from "react-router";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

export function NotFoundPage({ what = "page" }: { what?: string }) {
  const title = `${what[0].toUpperCase()}${what.slice(1)} not found`;
  useDocumentTitle(title);
  return (
    <div className="empty-page">
      <h1>{title}</h1>
      <p>
        It may have been removed. <Link to="/">Back to the shop</Link>
      </p>
    </div>
  );
}
