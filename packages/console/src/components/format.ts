/** Dates as the user's locale writes them; '—' for none. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A comma- or newline-separated list typed in a field, as an array without blanks. */
export function splitList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean);
}

/** A submitted form's fields: `text(name)` trimmed ('' when absent), `all(name)` every value of a repeated field. */
export function formFields(event: Event): { text: (name: string) => string; raw: (name: string) => string; all: (name: string) => string[] } {
  event.preventDefault();
  const form = new FormData(event.currentTarget as HTMLFormElement);
  const raw = (name: string) => String(form.get(name) ?? '');
  return { raw, text: (name) => raw(name).trim(), all: (name) => form.getAll(name).map(String) };
}
