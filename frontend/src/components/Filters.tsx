import { useId, useState, type FormEvent } from "react";
import { PriceField } from "./PriceField";

export interface FilterValues {
  brand: string;
  min_price: string;
  max_price: string;
  in_stock: boolean;
}

interface Props {
  values: FilterValues;
  onApply: (values: FilterValues) => void;
}

/** Brand, price range and in-stock filters; applied on submit so each keystroke is not a request. */
export function Filters({ values, onApply }: Props) {
  const id = useId();
  const [draft, setDraft] = useState(values);
  // New values from the URL (back/forward, Clear) replace the draft: adjusted while rendering, as React advises
  // (react.dev "You might not need an effect"), rather than by an effect that would render twice.
  const [shown, setShown] = useState(values);
  if (shown !== values) {
    setShown(values);
    setDraft(values);
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    onApply({ ...draft, brand: draft.brand.trim() });
  };
  const clear = () => onApply({ brand: "", min_price: "", max_price: "", in_stock: false });

  return (
    <form className="filters" onSubmit={onSubmit} aria-label="Filters">
      <div className="field">
        <label htmlFor={`${id}-brand`}>Brand</label>
        <input
          id={`${id}-brand`}
          value={draft.brand}
          onChange={(e) => setDraft({ ...draft, brand: e.target.value })}
          autoComplete="off"
        />
      </div>
      <PriceField
        id={`${id}-min`}
        label="Min price"
        value={draft.min_price}
        onChange={(min_price) => setDraft({ ...draft, min_price })}
      />
      <PriceField
        id={`${id}-max`}
        label="Max price"
        value={draft.max_price}
        onChange={(max_price) => setDraft({ ...draft, max_price })}
      />
      <div className="field field-check">
        <input
          id={`${id}-stock`}
          type="checkbox"
          checked={draft.in_stock}
          onChange={(e) => setDraft({ ...draft, in_stock: e.target.checked })}
        />
        <label htmlFor={`${id}-stock`}>In stock only</label>
      </div>
      <div className="filter-actions">
        <button type="submit" className="button">
          Apply filters
        </button>
        <button type="button" className="button button-link" onClick={clear}>
          Clear
        </button>
      </div>
    </form>
  );
}
