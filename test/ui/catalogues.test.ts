import { describe, expect, it } from 'vitest';
import { appMessages, catalogues } from '../../src/messages.js';
import { type Catalogue, LOCALES } from '../../src/ui/i18n.js';

const named: [string, Catalogue][] = Object.entries(catalogues);

const placeholders = (text: string) => [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]))].sort();

describe.each(named)('the %s catalogue', (_name, catalogue) => {
  it('has every key in every language, none of them empty', () => {
    const keys = Object.keys(catalogue.en).sort();
    for (const locale of LOCALES) {
      expect(Object.keys(catalogue[locale]).sort(), locale).toEqual(keys);
      for (const [key, text] of Object.entries(catalogue[locale])) expect(text.trim(), `${locale} ${key}`).not.toBe('');
    }
  });

  it('uses the same {placeholders} in every language', () => {
    for (const [key, english] of Object.entries(catalogue.en)) {
      for (const locale of LOCALES) expect(placeholders(catalogue[locale][key] ?? ''), `${locale} ${key}`).toEqual(placeholders(english));
    }
  });
});

describe('the app catalogue', () => {
  it('holds every text of every catalogue: no key is defined twice, so none hides another', () => {
    const owners = new Map<string, string>();
    for (const [name, catalogue] of named) {
      for (const key of Object.keys(catalogue.en)) {
        expect(owners.get(key), `${key} in ${name}`).toBeUndefined();
        owners.set(key, name);
        for (const locale of LOCALES) expect(appMessages[locale][key], `${locale} ${key}`).toBe(catalogue[locale][key]);
      }
    }
  });
});
