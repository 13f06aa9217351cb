/** Pieces every console page shares: the gate, the navigation, the page frame. */
import type { Role } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { authorityRefusal } from '../../authority/middleware.js';
import type { AppContext } from '../../http/context.js';
import { FormError } from '../../ui/forms.js';
import type { Translate } from '../../ui/i18n.js';
import { type Markup, type PageContext, renderPage } from '../../ui/render.js';
import { type AdminMessage, adminClientMessages, at } from '../messages.js';

export const ADMIN_SCRIPTS = ['/static/vendor/simplewebauthn-browser.js', '/static/webauthn-common.js', '/static/admin-console.js'];

/**
 * The console reads what the admin API reads, so it asks what the API asks
 * (requireAuthority's rule, audited the same way): the role, a passkey session,
 * that passkey used in the last five minutes. Otherwise a page says what to do,
 * with a button that runs the confirmation.
 */
export async function adminGate(deps: Deps, c: AppContext, role: Role = 'admin'): Promise<Response | undefined> {
  if (!c.get('session')) return c.redirect(`/signin?return_to=${encodeURIComponent(c.req.path)}`, 303);
  const refusal = await authorityRefusal(deps, c, role);
  if (!refusal) return undefined;
  const confirm = refusal.code === 'reauthentication_required';
  return renderPage(c, { title: (t) => at(t, 'admin.title'), scripts: ADMIN_SCRIPTS, status: 403 }, ({ t }) => (
    <section id="admin" data-messages={JSON.stringify(adminClientMessages(t))}>
      <h1>{at(t, 'admin.title')}</h1>
      <p data-code={refusal.code}>{at(t, confirm ? 'admin.gate.confirm_text' : role === 'operator' ? 'admin.gate.not_operator' : 'admin.gate.not_admin')}</p>
      {confirm ? (
        <button type="button" id="confirm-passkey">
          {at(t, 'admin.gate.confirm')}
        </button>
      ) : null}
      <p id="status" role="status" aria-live="polite"></p>
    </section>
  ));
}

const SECTIONS: [path: string, key: AdminMessage, role: Role][] = [
  ['/admin', 'admin.nav.overview', 'admin'],
  ['/admin/people', 'admin.nav.people', 'admin'],
  ['/admin/invitations', 'admin.nav.invitations', 'admin'],
  ['/admin/organisation', 'admin.nav.organisation', 'admin'],
  ['/admin/clients', 'admin.nav.clients', 'admin'],
  ['/admin/receivers', 'admin.nav.receivers', 'admin'],
  ['/admin/recovery', 'admin.nav.recovery', 'admin'],
  ['/admin/audit', 'admin.nav.audit', 'admin'],
  ['/admin/keys', 'admin.nav.keys', 'operator'],
];

function AdminNav({ t, path, roles }: { t: Translate; path: string; roles: readonly Role[] }) {
  return (
    <nav class="admin-nav" aria-label={at(t, 'admin.nav.label')}>
      <ul>
        {SECTIONS.filter(([, , role]) => roles.includes(role)).map(([href, key]) => (
          <li>
            <a href={href} aria-current={href === path ? 'page' : undefined}>
              {at(t, key)}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** A console page: the navigation, the heading, an outcome line (`?done=`), and the body. */
export function adminPage(c: AppContext, options: { section: string; title: (t: Translate) => string; done?: AdminMessage | undefined; status?: 200 | 404 }, body: (page: PageContext) => Markup) {
  return renderPage(c, { title: options.title, scripts: ADMIN_SCRIPTS, ...(options.status ? { status: options.status } : {}) }, (page) => (
    <section id="admin" data-messages={JSON.stringify(adminClientMessages(page.t))}>
      <AdminNav t={page.t} path={options.section} roles={c.get('roles')} />
      <h1>{options.title(page.t)}</h1>
      <p id="status" role="status" aria-live="polite" class={options.done ? 'ok' : ''}>
        {options.done ? at(page.t, options.done) : ''}
      </p>
      {body(page)}
    </section>
  ));
}

/** A form the console script sends to the admin API, with its error line and, for answers shown in the page, its result area. */
export function ApiForm(props: { id: string; api: string; method?: string; next?: string; show?: string; extra?: Record<string, unknown>; wrap?: string; filename?: string; class?: string; children?: Markup }) {
  return (
    <form
      id={props.id}
      class={props.class}
      data-api={props.api}
      data-method={props.method ?? 'POST'}
      data-next={props.next}
      data-show={props.show}
      data-extra={props.extra ? JSON.stringify(props.extra) : undefined}
      data-wrap={props.wrap}
      data-filename={props.filename}
    >
      {props.children}
      <FormError />
      <div data-result tabindex={-1} aria-live="polite"></div>
    </form>
  );
}

/** A labelled field; `hint` is tied to it for screen readers. */
export function Field(props: { id: string; label: string; hint?: string; children: Markup }) {
  return (
    <p class="field">
      <label for={props.id}>{props.label}</label>
      {props.hint ? (
        <span class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </span>
      ) : null}
      {props.children}
    </p>
  );
}

/** `?done=` of a page, if it names one of `known`. */
export function doneOf<K extends string>(c: AppContext, known: Record<string, K>): K | undefined {
  const done = c.req.query('done');
  return done && Object.hasOwn(known, done) ? known[done] : undefined;
}

/** The link to a list's next page: the same filters, and the cursor the last page gave; nothing on the last page. */
export function NextPage({ t, path, filters = [], cursor }: { t: Translate; path: string; filters?: [string, string][]; cursor: string | null }) {
  if (!cursor) return null;
  return (
    <p>
      <a href={`${path}?${new URLSearchParams([...filters, ['cursor', cursor]])}`} rel="next">
        {at(t, 'admin.people.next')}
      </a>
    </p>
  );
}

/** A period filter of a search form: `from` (at or after) and `to` (before), as dates. */
export function Period({ id, labels, from, to }: { id: string; labels: [from: string, to: string]; from: string | undefined; to: string | undefined }) {
  return (
    <>
      <Field id={`${id}-from`} label={labels[0]}>
        <input id={`${id}-from`} name="from" type="date" value={from ?? ''} />
      </Field>
      <Field id={`${id}-to`} label={labels[1]}>
        <input id={`${id}-to`} name="to" type="date" value={to ?? ''} />
      </Field>
    </>
  );
}
