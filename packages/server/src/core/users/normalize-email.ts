/** Longest address SMTP can deliver to (RFC 5321 path limit less the angle brackets). */
export const MAX_EMAIL_LENGTH = 254;

/** Trimmed and lowercased: one spelling per address, for uniqueness and login. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * A deliberately loose check of a normalised address: one `@` with something on both sides and no whitespace or
 * control characters (a dot-free domain such as `localhost` passes). Whether mail reaches it is not checked.
 */
export function isPlausibleEmail(email: string): boolean {
  return email.length <= MAX_EMAIL_LENGTH && /^[^\s@\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+$/u.test(email);
}
