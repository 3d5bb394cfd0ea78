import { Link, useParams } from "react-router";
import { ProductListing } from "../components/ProductListing";
import { useCategories } from "../hooks/useCategories";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

export function CategoryPage() {
  const { id = "" } = useParams();
  const { categories } = useCategories();
  const category = categories?.find((c) => String(c.id) === id);
  const children = categories?.filter((c) => category && c.parent_id === category.id) ?? [];
  const crumbs = category?.path.split(" > ") ?? [];
  useDocumentTitle(category?.name ?? "Category");

  return (
    <>
      {crumbs.length > 1 && (
        <nav aria-label="Breadcrumb" className="breadcrumb">
          {crumbs.slice(0, -1).join(" › ")}
        </nav>
      )}
      <h1>{category?.name ?? (categories ? "Category" : "Loading…")}</h1>
      {children.length > 0 && (
        <nav aria-label="Subcategories" className="chips">
          <ul>
            {children.map((c) => (
              <li key={c.id}>
                <Link to={`/category/${c.id}`} className="chip">
                  {c.name} <span className="muted">({c.product_count})</span>
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <ProductListing base={{ category: id }} />
    </>
  );
}
