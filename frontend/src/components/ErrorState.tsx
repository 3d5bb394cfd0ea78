interface Props {
  message: string;
  onRetry?: () => void;
}

/** An error the shopper can act on: never a blank page. */
export function ErrorState({ message, onRetry }: Props) {
  return (
    <div className="error-state" role="alert">
      <p>{message}</p>
      {onRetry && (
        <button type="button" className="button button-secondary" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}
