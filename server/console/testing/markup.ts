/**
 * Console components rendered to HTML for tests, as the page first paints them (effects do not
 * run), with just enough querying by test id to check what they show without a DOM.
 */
import type { ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { startI18n } from '../../../app/web/i18n.js';
import { resources } from '../i18n/index.js';

/** Starts the console's translations in English, as the tests read them. */
export function startEnglish(): void {
  startI18n(resources, 'en');
}

/** Rendered HTML and a few questions about it. */
export class Markup {
  constructor(readonly html: string) {}

  /** How many elements carry `testId`. */
  count(testId: string): number {
    return this.html.split(`data-testid="${testId}"`).length - 1;
  }

  /** The opening tag of the first element with `testId`. */
  tag(testId: string): string {
    return new RegExp(`<[^>]*data-testid="${testId}"[^>]*>`).exec(this.html)?.[0] ?? '';
  }

  /** The markup of the first `<tag>` element whose opening tag has `attribute` (e.g. a data-*). */
  element(tag: string, attribute: string): Markup {
    const pattern = new RegExp(`<${tag}\\b[^>]*${attribute}[^>]*>[\\s\\S]*?</${tag}>`);
    return new Markup(pattern.exec(this.html)?.[0] ?? '');
  }
}

/** Renders `element` to static HTML. */
export function render(element: ReactElement): Markup {
  return new Markup(renderToStaticMarkup(element));
}
