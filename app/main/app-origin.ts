/**
 * The renderer's own origin. The page is served from a custom privileged scheme rather than
 * file://, so every origin check in main (IPC senders, permissions, navigation) compares against
 * one well-defined origin that no other content can share.
 */

/** Scheme the renderer is served from. */
export const appScheme = 'app';

/** Host part of the renderer's URLs; any other host on the scheme is refused. */
export const appHost = 'kiosk';

/** The origin as Chromium reports it, e.g. in permission requests. */
export const appOrigin = `${appScheme}://${appHost}`;

/** The page the kiosk window loads. */
export const appEntryUrl = `${appOrigin}/index.html`;

/**
 * True when `url` (a full URL or a bare origin) belongs to the app's origin. Compares scheme and
 * host explicitly: WHATWG URL reports the origin of a non-special scheme as the opaque "null",
 * so comparing `URL.origin` strings would wrongly match every opaque origin.
 */
export function isAppUrl(url: string | null | undefined): boolean {
  if (!url) return false;

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }

  return parsed.protocol === `${appScheme}:` && parsed.host === appHost && !parsed.username;
}

/** The part of a URL that is safe to log: scheme and host, never a path or query with data. */
export function originForLog(url: string | null | undefined): string {
  if (!url) return '(none)';

  try {
    const parsed = new URL(url);
    return parsed.host ? `${parsed.protocol}//${parsed.host}` : parsed.protocol;
  } catch {
    return '(unparseable)';
  }
}
