import type { ComponentChildren } from 'preact';
import { ErrorMessage } from './status';

/** A page's title, with its main action (Create ...) beside it when `action` is given. */
export function PageHeader({ title, action }: { title: string; action?: { label: string; onClick: () => void } | null }) {
  return (
    <div class="page-header">
      <h1>{title}</h1>
      {action && (
        <button type="button" class="primary" onClick={action.onClick}>
          {action.label}
        </button>
      )}
    </div>
  );
}

/** The foot of a form: its error (if the last submission failed), Cancel, and the submit button. */
export function FormActions({ error, busy, submitLabel, onCancel }: { error: unknown; busy: boolean; submitLabel: string; onCancel: () => void }) {
  return (
    <>
      {error !== null && <ErrorMessage error={error} />}
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {submitLabel}
        </button>
      </div>
    </>
  );
}

/** A table that scrolls sideways on a narrow screen, its caption for screen readers, its column headers. */
export function Table({ caption, columns, children }: { caption: string; columns: string[]; children: ComponentChildren }) {
  return (
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
