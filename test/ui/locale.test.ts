import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { negotiate, pickLocale } from '../../src/ui/i18n.js';

function localeApp() {
  const app = new Hono();
  app.get('/', (c) => c.text(pickLocale(c)));
  return app;
}

describe('pickLocale', () => {
  it('takes ?lang= first and remembers it in a cookie for a year', async () => {
    const res = await localeApp().request('/?lang=pl', { headers: { cookie: 'warta_lang=en', 'accept-language': 'en' } });
    expect(await res.text()).toBe('pl');
    expect(res.headers.get('set-cookie')).toBe('warta_lang=pl; Max-Age=31536000; Path=/; SameSite=Lax');
  });

  it('then the remembered choice, over Accept-Language, without setting the cookie again', async () => {
    const res = await localeApp().request('/', { headers: { cookie: 'warta_lang=pl', 'accept-language': 'en' } });
    expect(await res.text()).toBe('pl');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('then Accept-Language, which is never remembered', async () => {
    const res = await localeApp().request('/', { headers: { 'accept-language': 'pl-PL' } });
    expect(await res.text()).toBe('pl');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('ignores a language it does not offer, in the query or the cookie', async () => {
    const res = await localeApp().request('/?lang=de', { headers: { cookie: 'warta_lang=de', 'accept-language': 'pl' } });
    expect(await res.text()).toBe('pl');
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});

describe('negotiate', () => {
  it('picks the offered language with the highest weight, by its primary subtag', () => {
    expect(negotiate('pl-PL,pl;q=0.9,en;q=0.5')).toBe('pl');
    expect(negotiate('de, en;q=0.5, pl;q=0.8')).toBe('pl');
  });

  it('skips a language weighted 0 or with an unreadable weight', () => {
    expect(negotiate('pl;q=0, en;q=0.1')).toBe('en');
    expect(negotiate('pl;q=abc, en;q=0.1')).toBe('en');
  });

  it('falls back to English', () => {
    expect(negotiate(undefined)).toBe('en');
    expect(negotiate('de-DE, fr;q=0.5')).toBe('en');
  });
});
