import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

export const LOCALES = ['en', 'pl'] as const;
export type Locale = (typeof LOCALES)[number];

/**
 * Message catalogues. Each capability adds its keys to both languages; the
 * `satisfies` check makes a key missing from Polish a type error.
 */
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

const catalogues: Record<Locale, Messages> = { en, pl };

export type MessageKey = keyof typeof en;
export type Translate = (key: MessageKey, params?: Record<string, string>) => string;

export function translator(locale: Locale): Translate {
  const messages = catalogues[locale];
  return (key, params) => {
    let text = messages[key] ?? en[key] ?? key;
    for (const [name, value] of Object.entries(params ?? {})) text = text.replaceAll(`{${name}}`, value);
    return text;
  };
}

/**
 * Registers a capability's messages in both languages and returns a typed
 * look-up for them (the shared `Translate` only knows the layout's own keys).
 */
export function catalogue<K extends string>(messages: { en: Record<K, string>; pl: Record<K, string> }) {
  addMessages(messages);
  return (t: Translate, key: K, params?: Record<string, string>): string => t(key as unknown as MessageKey, params);
}

/** Adds messages for a capability, e.g. `addMessages({ en: {...}, pl: {...} })`. */
export function addMessages(extra: { en: Record<string, string>; pl: Record<string, string> }): void {
  Object.assign(catalogues.en, extra.en);
  Object.assign(catalogues.pl, extra.pl);
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
