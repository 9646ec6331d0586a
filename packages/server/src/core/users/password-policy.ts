export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

/** C0 and C1 control characters and DEL. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/**
 * Checks a new password (NIST SP 800-63B): 8 to 1024 characters (Unicode code points) after NFKC
 * normalisation, which is also applied when hashing and verifying. Every printable character is allowed, spaces
 * and emoji included, and no composition rules are imposed. Control characters are refused: no keyboard types
 * them into a login form, and a NUL or a newline would be truncated or mangled by some of the tools around
 * a password. Returns the problem, or undefined when the password is acceptable.
 */
export function passwordProblem(password: string): string | undefined {
  const normalised = password.normalize('NFKC');
  const length = [...normalised].length;
  if (length < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters long.`;
  if (length > MAX_PASSWORD_LENGTH) return `password must be at most ${MAX_PASSWORD_LENGTH} characters long.`;
  if (CONTROL.test(normalised)) return 'password must not contain control characters.';
  return undefined;
}
