/**
 * Masks personal identifiers before they reach a screen, a log or an export. ID numbers keep the
 * first 6 and last 4 characters, the common practice for Chinese ID numbers.
 */
export function maskIdNumber(id: string): string {
  if (id.length <= 10) return '*'.repeat(id.length);

  return id.slice(0, 6) + '*'.repeat(id.length - 10) + id.slice(-4);
}

/** Keeps a name's first character (the family name for Chinese names) and hides the rest. */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length <= 1) return chars.join('');

  return chars[0] + '*'.repeat(Math.min(chars.length - 1, 3));
}
