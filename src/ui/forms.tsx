import type { Child } from 'hono/jsx';
import type { Locale } from './i18n.js';

/** Where the page script shows an API error. */
export function FormError() {
  return <p class="error" role="alert" data-error hidden></p>;
}

/** Translated API errors by code, read by the page script (no inline script: the CSP forbids it). */
export function ErrorList({ errors }: { errors: [code: string, text: string][] }) {
  return (
    <ul id="warta-errors" hidden>
      {errors.map(([code, text]) => (
        <li data-code={code}>{text}</li>
      ))}
    </ul>
  );
}

/** Removing a method: a DELETE with a confirmation prompt, back to the same page. */
export function RemoveMethodForm({ id, api, page, confirm, label }: { id: string; api: string; page: string; confirm: string; label: string }) {
  return (
    <form id={id} data-api={api} data-method="DELETE" data-next={page} data-confirm={confirm}>
      <FormError />
      <button type="submit" class="danger">
        {label}
      </button>
    </form>
  );
}

/** Renaming one entry of a list in place; the page script finds the entry by the form's data- attribute. */
export function RenameForm(props: { class: string; data: Record<`data-${string}`, string>; name: string; maxLength: number; label: string; submit: string }) {
  return (
    <form class={props.class} {...props.data}>
      <input name="name" type="text" maxlength={props.maxLength} value={props.name} aria-label={props.label} />
      <button type="submit" class="secondary">
        {props.submit}
      </button>
    </form>
  );
}

export function formatDate(locale: Locale, at: Date): string {
  return new Intl.DateTimeFormat(locale === 'pl' ? 'pl-PL' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(at);
}

/** One term and its description in a definition list. */
export function Detail({ term, children }: { term: string; children?: Child }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </>
  );
}

/** Dates on the officers' and admins' pages are in UTC and say so: people at different desks must read the same time. */
export function formatTime(at: Date | string, locale: Locale): string {
  return `${new Intl.DateTimeFormat(locale === 'pl' ? 'pl-PL' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(at))} UTC`;
}
