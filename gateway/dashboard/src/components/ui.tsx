import { useEffect, useId, useRef, type ReactNode } from "react";
import { toApiError } from "../api/errors";
import { categoryLabel, categorySlug } from "../lib/labels";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite" data-testid="loading">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ children, testId = "empty" }: { children: ReactNode; testId?: string }) {
  return (
    <div className="state state-empty" data-testid={testId}>
      {children}
    </div>
  );
}

export function ErrorBox({ error, title, onRetry, testId = "error" }: { error: unknown; title?: string; onRetry?: () => void; testId?: string }) {
  const e = toApiError(error);
  return (
    <div className="state state-error" role="alert" data-testid={testId} data-code={e.codeName}>
      <strong>{title ?? "Something went wrong"}</strong>
      <span className="error-message">
        {e.codeName}: {e.message}
      </span>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Badge({ kind, children, testId }: { kind: string; children: ReactNode; testId?: string }) {
  return (
    <span className={`badge badge-${kind}`} data-testid={testId}>
      {children}
    </span>
  );
}

export function CategoryBadge({ categoryKey, children }: { categoryKey: string; children?: ReactNode }) {
  const slug = categorySlug(categoryKey);
  return (
    <span className={`badge cat cat-${slug}`} data-category={slug} title={categoryLabel(categoryKey)}>
      {children ?? categoryLabel(categoryKey)}
    </span>
  );
}

export function ProgressBar({ value, label, testId = "progress" }: { value: number; label: string; testId?: string }) {
  const v = Math.max(0, Math.min(100, Number.isFinite(value) ? value : 0));
  const rounded = Math.round(v);
  // "100%" means a full bar, at once: no transition (a screenshot caught the label at 100%
  // with the bar still catching up) and no 99.6% sliver either.
  const done = rounded >= 100;
  return (
    <div
      className={done ? "progress progress-done" : "progress"}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={rounded}
      data-testid={testId}
    >
      <div className="progress-fill" style={{ transform: `scaleX(${done ? 1 : v / 100})` }} />
      <span className="progress-text">{rounded}%</span>
    </div>
  );
}

/** A modal question (native <dialog>): Escape or Cancel closes it. */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  danger,
  busy,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      data-testid="confirm-dialog"
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      <div className="dialog-body">{children}</div>
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onCancel} data-testid="confirm-cancel">
          Cancel
        </button>
        <button
          type="button"
          className={danger ? "btn btn-danger" : "btn btn-primary"}
          onClick={onConfirm}
          disabled={busy}
          data-testid="confirm-ok"
        >
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** A labelled form control with room for its error underneath. */
export function Field({
  label,
  htmlFor,
  error,
  hint,
  children,
  testId,
}: {
  label: string;
  htmlFor: string;
  error?: string | null;
  hint?: ReactNode;
  children: ReactNode;
  testId?: string;
}) {
  return (
    <div className={error ? "field field-invalid" : "field"} data-testid={testId}>
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {hint && !error && <div className="field-hint">{hint}</div>}
      {error && (
        <div className="field-error" role="alert" data-testid="field-error">
          {error}
        </div>
      )}
    </div>
  );
}
