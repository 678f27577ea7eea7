/**
 * The URI with any password left out, for messages and logs: `postgres://user:secret@host/db`
 * -> `postgres://user@host/db`, `redis://:secret@host` -> `redis://host`.
 *
 * Works on text that is not a valid URI too, and errs on the side of hiding: the password is
 * taken to run from the first `:` after the `//` (or the start, when there is none) to the last
 * `@`, so that a password holding `@`, `/`, `?` or `#`, or a URI with a mistyped scheme
 * (`redis//:secret@host`, `redis:/:secret@host`), never shows any part of its secret. A URI
 * whose query holds an `@` may lose more than its password; it never shows the password.
 */
export function redactPassword(uri: string): string {
  const text = uri.trim();
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const slashes = text.indexOf('//');
  const start = slashes >= 0 && slashes < at ? slashes + 2 : 0;
  const colon = text.indexOf(':', start);
  if (colon < 0 || colon > at) return text;
  const user = text.slice(start, colon);
  return `${text.slice(0, start)}${user ? `${user}@` : ''}${text.slice(at + 1)}`;
}
