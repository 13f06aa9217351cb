import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

export const LOCALES = ['en', 'pl'] as const;
export type Locale = (typeof LOCALES)[number];

/**
 * One capability's messages in every language. Each capability exports its own
 * (`{ en, pl } satisfies Catalogue<keyof typeof en>`, so a key missing from
 * Polish is a type error) and src/messages.ts composes them for the app.
 */
export type Catalogue<K extends string = string> = { readonly [L in Locale]: Readonly<Record<K, string>> };

const en = {
  'app.name': 'Warta',
  'app.tagline': 'Sign-in for your organisation',
  'warning.never_ask': 'Warta staff will never ask you for a code, a PIN or to scan a QR code.',
  'lang.switch': 'Polski',
  'error.title': 'Something went wrong',
  'error.back': 'Back to the start page',
  'nav.account': 'Your account',
  'nav.signout': 'Sign out',
  'nav.signin': 'Sign in',
} as const;

type Messages = Record<keyof typeof en, string>;

const pl = {
  'app.name': 'Warta',
  'app.tagline': 'Logowanie do Twojej organizacji',
  'warning.never_ask': 'Pracownicy Warty nigdy nie poproszą Cię o kod, PIN ani o zeskanowanie kodu QR.',
  'lang.switch': 'English',
  'error.title': 'Coś poszło nie tak',
  'error.back': 'Wróć do strony startowej',
  'nav.account': 'Twoje konto',
  'nav.signout': 'Wyloguj się',
  'nav.signin': 'Zaloguj się',
} satisfies Messages;

/** The layout's own messages: the name, the navigation, the warning every page carries. */
export const layoutMessages = { en, pl } satisfies Catalogue<keyof typeof en>;

export type MessageKey = keyof typeof en;
export type Translate = (key: MessageKey, params?: Record<string, string>) => string;

/** The capabilities' catalogues as one, for `translator`; a key two catalogues define keeps the later one's text. */
export function composeCatalogues(catalogues: readonly Catalogue[]): Catalogue {
  const merged = (locale: Locale): Record<string, string> => Object.assign({}, ...catalogues.map((catalogue) => catalogue[locale]));
  return { en: merged('en'), pl: merged('pl') };
}

export function translator(messages: Catalogue, locale: Locale): Translate {
  return (key, params) => {
    let text = messages[locale][key] ?? messages.en[key] ?? key;
    for (const [name, value] of Object.entries(params ?? {})) text = text.replaceAll(`{${name}}`, value);
    return text;
  };
}

/**
 * A typed look-up of one capability's keys, e.g. `messageLookup<keyof typeof en>()`:
 * the shared `Translate` only knows the layout's own keys.
 */
export function messageLookup<K extends string>() {
  return (t: Translate, key: K, params?: Record<string, string>): string => t(key as unknown as MessageKey, params);
}

declare module 'hono' {
  interface ContextVariableMap {
    /** The app's composed catalogue, set by `messageCatalogue`. */
    messages: Catalogue;
  }
}

/**
 * Hands the pages the app's composed catalogue: ui/ cannot import it, since
 * the capabilities whose messages it holds import ui/.
 */
export function messageCatalogue(messages: Catalogue): MiddlewareHandler {
  return async function messageCatalogue(c, next) {
    c.set('messages', messages);
    await next();
  };
}

const LANG_COOKIE = 'warta_lang';

/** `?lang=` (remembered in a cookie), then the cookie, then Accept-Language, then English. */
export function pickLocale(c: Context): Locale {
  const asked = c.req.query('lang');
  if (asked && (LOCALES as readonly string[]).includes(asked)) {
    setCookie(c, LANG_COOKIE, asked, { path: '/', sameSite: 'Lax', maxAge: 365 * 86400 });
    return asked as Locale;
  }
  const remembered = getCookie(c, LANG_COOKIE);
  if (remembered && (LOCALES as readonly string[]).includes(remembered)) return remembered as Locale;
  return negotiate(c.req.header('accept-language'));
}

export function negotiate(acceptLanguage: string | undefined): Locale {
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { lang: (tag ?? '').toLowerCase().split('-')[0] ?? '', q: q ? Number(q.slice(2)) || 0 : 1 };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q);
  return (ranked.find((entry) => (LOCALES as readonly string[]).includes(entry.lang))?.lang as Locale | undefined) ?? 'en';
}
