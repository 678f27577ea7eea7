/**
 * The URI with any password left out, for messages and logs: `postgres://user:secret@host/db`
 * -> `postgres://user@host/db`, `redis://:secret@host` -> `redis://host`. Works on text that is
 * not a valid URL too, so an error about a malformed URI never shows its secret.
 */
export function redactPassword(uri: string): string {
  return uri
    .trim()
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^:@/?#]*):[^@/?#]*@/i, (_, scheme: string, user: string) =>
      user ? `${scheme}${user}@` : scheme,
    );
}
