import type { Child } from 'hono/jsx';
import type { Locale, Translate } from './i18n.js';

export interface PageProps {
  title: string;
  locale: Locale;
  t: Translate;
  /** The path of this page, for the language switch link. */
  path: string;
  signedIn?: boolean;
  /** Page scripts under /static (no inline scripts: the CSP forbids them). */
  scripts?: string[];
  children?: Child;
}

/** Every page: the anti-phishing warning is always visible, above the content. */
export function Page(props: PageProps) {
  const other: Locale = props.locale === 'en' ? 'pl' : 'en';
  return (
    <html lang={props.locale}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${props.title} · ${props.t('app.name')}`}</title>
        <link rel="stylesheet" href="/static/warta.css" />
        <link rel="icon" href="data:," />
        {(props.scripts ?? []).map((src) => (
          <script src={src} defer />
        ))}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">
            {props.t('app.name')}
          </a>
          <nav>
            {props.signedIn ? (
              <>
                <a href="/account">{props.t('nav.account')}</a>
                <form method="post" action="/signout" class="inline">
                  <button type="submit" class="link">
                    {props.t('nav.signout')}
                  </button>
                </form>
              </>
            ) : null}
            <a href={`${props.path}?lang=${other}`} lang={other} hreflang={other}>
              {props.t('lang.switch')}
            </a>
          </nav>
        </header>
        {/* A landmark of its own, so a screen reader's landmark list reaches it like the rest of the page. */}
        <aside class="warning">{props.t('warning.never_ask')}</aside>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}
