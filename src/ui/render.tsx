import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { AppEnv } from '../http/context.js';
import { type Locale, pickLocale, type Translate, translator } from './i18n.js';
import { Page } from './layout.js';

/** What a page part may hold (text, elements, nothing): parts outside ui/ name it without importing the framework. */
export type Markup = Child;

export interface PageContext {
  t: Translate;
  locale: ReturnType<typeof pickLocale>;
}

/** `locale` overrides the visitor's choice, e.g. the `ui_locales` a client asked for (OIDC Core §3.1.2.1). */
export function pageContext(c: Context<AppEnv>, locale: Locale = pickLocale(c)): PageContext {
  return { locale, t: translator(c.get('messages'), locale) };
}

/** Renders `body` inside the layout, with the page's scripts. */
export function renderPage(
  c: Context<AppEnv>,
  options: { title: (t: Translate) => string; scripts?: string[]; status?: 200 | 400 | 403 | 404 | 410; locale?: Locale | undefined },
  body: (page: PageContext) => Child,
) {
  const page = pageContext(c, options.locale);
  return c.html(
    '<!doctype html>' +
      (
        <Page title={options.title(page.t)} locale={page.locale} t={page.t} path={c.req.path} signedIn={c.get('session') !== undefined} scripts={options.scripts ?? []}>
          {body(page)}
        </Page>
      ).toString(),
    options.status ?? 200,
  );
}
