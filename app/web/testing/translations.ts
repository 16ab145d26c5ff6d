/**
 * What the translation tests of the kiosk page and the guard console share: flattening a locale
 * file into dotted keys, finding the literal keys that t() calls use in a source, and reading a
 * string's {{placeholders}}.
 */

/** A locale file: nested objects of strings. */
export type TranslationTree = { [key: string]: string | TranslationTree };

/** Flattens nested strings into dotted keys: { a: { b: 'x' } } → { 'a.b': 'x' }. */
export function flattenTranslations(tree: TranslationTree, prefix = ''): Map<string, unknown> {
  const flat = new Map<string, unknown>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'object' && value !== null) {
      for (const [inner, leaf] of flattenTranslations(value, path)) flat.set(inner, leaf);
    } else {
      flat.set(path, value);
    }
  }
  return flat;
}

/** The literal keys of every t('...') call in `source`; keys built at run time are not found. */
export function translationKeysUsedIn(source: string): string[] {
  return [...source.matchAll(/\bt\(\s*(['"])([^'"]+)\1/g)].map((match) => match[2]);
}

/** The sorted names of the {{placeholders}} in a translated string. */
export function placeholdersOf(text: unknown): string[] {
  return [...String(text).matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((match) => match[1]).sort();
}
