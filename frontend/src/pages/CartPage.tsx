import { useMemo, useState } from "react";
import { Link } from "react-router";
import { getRecommendations } from "../api";
import { Price } from "../components/Price";
import { ProductImage } from "../components/ProductImage";
import { RecommendationList } from "../components/RecommendationList";
import { useCartLines } from "../hooks/useCart";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { tracker } from "../lib/analytics";
import { formatPrice, lineValue, sumValues } from "../lib/format";
import { createPageLists } from "../lib/pageLists";
import { cart } from "../lib/shopCart";

export function CartPage() {
  const lines = useCartLines();
  const [ordered, setOrdered] = useState(false);
  useDocumentTitle(ordered ? "Thank you" : "Cart");
  // The server rebuilds the cart from the add/remove events: send them before asking for the cart's list.
  const signature = lines.map((l) => `${l.product_id}x${l.quantity}`).join(",");
  // One set of lists (docs/api.md): "complete your setup", then "for you" without the cart's products nor the first
  // list's; asked for afresh whenever the cart changes (the signature says when the lines, and so the ids, did).
  const filled = lines.length > 0;
  const lists = useMemo(
    () => createPageLists(filled ? 2 : 1, lines.map((l) => l.product_id)),
    // `signature` stands for `lines` (and `filled`): the array is new after any write to the stored cart, the lists
    // are asked for again only when a product or a quantity changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [signature],
  );

  if (ordered) {
    return (
      <div className="empty-page" role="status">
        <h1>Thank you for your order</h1>
        <p>
          We have your order. <Link to="/">Keep shopping</Link>
        </p>
      </div>
    );
  }

  const currency = lines[0]?.product.currency ?? "EUR";
  const total = sumValues(lines.map((l) => lineValue(l.product.price, l.quantity)));

  const checkout = () => {
    cart.checkout();
    void tracker.flush();
    setOrdered(true);
  };

  return (
    <>
      <h1>Your cart</h1>
      {lines.length === 0 ? (
        <p className="empty">
          Your cart is empty. <Link to="/">Find something you like</Link>
        </p>
      ) : (
        <div className="cart">
          <ul className="cart-lines">
            {lines.map((line) => (
              <li key={line.product_id} className="cart-line">
                <ProductImage
                  className="cart-thumb"
                  title={line.product.title}
                  category={line.product.category}
                  src={line.product.image_url}
                />
                <div className="cart-line-info">
                  <Link to={`/products/${line.product_id}`} className="cart-line-title">
                    {line.product.title}
                  </Link>
                  <Price price={line.product.price} currency={line.product.currency} />
                </div>
                <div className="qty" role="group" aria-label={`Quantity of ${line.product.title}`}>
                  <button
                    type="button"
                    className="button button-secondary qty-button"
                    aria-label={`Decrease quantity of ${line.product.title}`}
                    onClick={() => cart.setQuantity(line.product_id, line.quantity - 1)}
                  >
                    −
                  </button>
                  <span className="qty-value" aria-live="polite">
                    {line.quantity}
                  </span>
                  <button
                    type="button"
                    className="button button-secondary qty-button"
                    aria-label={`Increase quantity of ${line.product.title}`}
                    onClick={() => cart.setQuantity(line.product_id, line.quantity + 1)}
                  >
                    +
                  </button>
                </div>
                <span className="cart-line-total">
                  {formatPrice(lineValue(line.product.price, line.quantity), line.product.currency)}
                </span>
                <button
                  type="button"
                  className="button button-link"
                  aria-label={`Remove ${line.product.title}`}
                  onClick={() => cart.remove(line.product_id)}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
          <div className="cart-summary">
            <p>
              Total <strong>{formatPrice(total, currency)}</strong>
            </p>
            <button type="button" className="button button-primary" onClick={checkout}>
              Checkout
            </button>
          </div>
        </div>
      )}
      {filled && (
        <RecommendationList
          title="Complete your setup"
          list="cart"
          load={lists.step(0, async (_, signal) => {
            await tracker.flush();
            return getRecommendations({ scenario: "cart", n: 8 }, signal);
          })}
          deps={[signature]}
        />
      )}
      <RecommendationList
        title="Recommended for you"
        list="home"
        load={lists.step(filled ? 1 : 0, (exclude, signal) =>
          getRecommendations({ scenario: "home", n: 8, exclude }, signal),
        )}
        deps={[signature]}
      />
    </>
  );
}
