/**
 * The dashboard's access checks: the admin token (as `Authorization: Bearer <token>` or through
 * the login form), the session cookie the form sets, and CSRF tokens for the POST actions. Every
 * comparison is in constant time, on hashes, so neither the token's length nor its content leaks
 * through timing. Sessions are signed with a key derived from the token: any server process with
 * the same token accepts them, and changing the token ends them all.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a session from the login form lasts. */
export const SESSION_MS = 12 * 60 * 60 * 1000;
/** The session cookie's name. */
export const SESSION_COOKIE = 'loco_admin_session';

/** Who a request is: `bearer` for the token in a header, else the session cookie's value. */
export type Credential = { kind: 'bearer' } | { kind: 'session'; value: string };

export class AdminAuth {
  private readonly tokenHash: Buffer;
  private readonly key: Buffer;

  constructor(token: string) {
    this.tokenHash = sha256(token);
    this.key = createHmac('sha256', token).update('loco-admin-key').digest();
  }

  /** True when `given` is the admin token. */
  tokenMatches(given: string | undefined): boolean {
    if (given === undefined) return false;
    return timingSafeEqual(sha256(given), this.tokenHash);
  }

  /** A new session value, valid for `SESSION_MS` from `now`: `<expiry>.<nonce>.<signature>`. */
  newSession(now = Date.now()): string {
    const body = `${now + SESSION_MS}.${randomBytes(16).toString('base64url')}`;
    return `${body}.${this.sign(`session:${body}`)}`;
  }

  /** True when `value` is a session this token signed and it has not expired. */
  sessionValid(value: string | undefined, now = Date.now()): boolean {
    if (!value) return false;
    const cut = value.lastIndexOf('.');
    if (cut < 0) return false;
    const body = value.slice(0, cut);
    const expiry = Number(body.split('.')[0]);
    return Number.isFinite(expiry) && expiry > now && this.same(value.slice(cut + 1), this.sign(`session:${body}`));
  }

  /** The CSRF token of a credential: POSTs must carry it (form field `_csrf` or header `x-csrf-token`). */
  csrfToken(credential: Credential): string {
    return this.sign(`csrf:${credential.kind === 'bearer' ? 'bearer' : credential.value}`);
  }

  /** True when `given` is the credential's CSRF token. */
  csrfValid(credential: Credential, given: string | undefined): boolean {
    return given !== undefined && this.same(given, this.csrfToken(credential));
  }

  private sign(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }

  private same(a: string, b: string): boolean {
    return timingSafeEqual(sha256(a), sha256(b));
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The token of an `Authorization: Bearer <token>` header, or `undefined`. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  return match ? match[1] : undefined;
}
