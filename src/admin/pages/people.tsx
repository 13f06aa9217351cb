/** People: the list with its search, one person's page, and inviting (one, or many from a CSV file). */
import type { Deps } from '../../deps.js';
import { type AppContext, auditContext } from '../../http/context.js';
import { listPeople } from '../../people/list.js';
import { listRoleRequests } from '../../people/role-requests.js';
import { ACR_HARDWARE, ACR_MFA, ACR_PHISHING_RESISTANT } from '../../sessions/service.js';
import { type PersonView, viewPerson } from '../../people/show.js';
import { Detail, formatTime } from '../../ui/forms.js';
import type { Locale, Translate } from '../../ui/i18n.js';
import { ColumnHeads } from '../../ui/table.js';
import { at } from '../messages.js';
import { adminGate, adminPage, ApiForm, NextPage, doneOf, Field } from './parts.js';

const ROLES = ['member', 'recovery_officer', 'admin', 'operator'] as const;
const STATUSES = ['active', 'disabled', 'offboarded'] as const;
const roleName = (t: Translate, role: string) => ((ROLES as readonly string[]).includes(role) ? at(t, `admin.role.${role as (typeof ROLES)[number]}`) : role);
const statusName = (t: Translate, status: string) => ((STATUSES as readonly string[]).includes(status) ? at(t, `admin.status.${status as (typeof STATUSES)[number]}`) : status);
const when = (locale: Locale, t: Translate, value: string | null) => (value ? formatTime(value, locale) : at(t, 'admin.never'));

const PEOPLE_DONE = { approved: 'admin.requests.approved_done' } as const;

/** GET /admin/people */
export async function peoplePage(deps: Deps, c: AppContext) {
  const gate = await adminGate(deps, c);
  if (gate) return gate;
  const query = { q: c.req.query('q') || undefined, role: c.req.query('role') || undefined, status: c.req.query('status') || undefined };
  const page = await listPeople(deps.db, c.get('user')!.organisation_id, { query: query.q, role: query.role, status: query.status, cursor: c.req.query('cursor') || undefined });
  const requests = await pendingRequests(deps, c.get('user')!.organisation_id);
  const me = c.get('user')!.id;
  return adminPage(c, { section: '/admin/people', title: (t) => at(t, 'admin.people.title'), done: doneOf(c, PEOPLE_DONE) }, ({ t, locale }) => (
    <>
      <form method="get" action="/admin/people" class="search" role="search">
        <Field id="people-q" label={at(t, 'admin.people.search')}>
          <input id="people-q" name="q" type="search" maxlength={100} value={query.q ?? ''} />
        </Field>
        <Field id="people-role" label={at(t, 'admin.people.role')}>
          <select id="people-role" name="role">
            <option value="">{at(t, 'admin.any')}</option>
            {ROLES.map((role) => (
              <option value={role} selected={query.role === role}>
                {roleName(t, role)}
              </option>
            ))}
          </select>
        </Field>
        <Field id="people-status" label={at(t, 'admin.people.status')}>
          <select id="people-status" name="status">
            <option value="">{at(t, 'admin.any')}</option>
            {STATUSES.map((status) => (
              <option value={status} selected={query.status === status}>
                {statusName(t, status)}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit">{at(t, 'admin.people.search_button')}</button>
      </form>
      {page.people.length ? (
        <table id="people">
          <caption>{at(t, 'admin.people.caption')}</caption>
          <ColumnHeads labels={[at(t, 'admin.col.name'), at(t, 'admin.col.email'), at(t, 'admin.col.employee_id'), at(t, 'admin.col.roles'), at(t, 'admin.col.status'), at(t, 'admin.col.last_sign_in'), at(t, 'admin.col.methods')]} />
          <tbody>
            {page.people.map((person) => (
              <tr data-person-id={person.id}>
                <td>
                  <a href={`/admin/people/${person.id}`}>{person.display_name || person.username}</a>
                </td>
                <td>{person.email ?? ''}</td>
                <td>{person.employee_id ?? ''}</td>
                <td>{person.roles.map((role) => roleName(t, role)).join(', ')}</td>
                <td>{statusName(t, person.status)}</td>
                <td>{when(locale, t, person.last_sign_in)}</td>
                <td>{methodsText(t, person.methods)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>{at(t, 'admin.people.none')}</p>
      )}
      <NextPage t={t} path="/admin/people" filters={Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined)} cursor={page.next_cursor} />
      <p>
        <a href="/admin/invitations">{at(t, 'admin.people.invite_link')}</a>
      </p>
      <PendingRequests t={t} locale={locale} requests={requests} me={me} />
    </>
  ));
}

type NamedRequest = Awaited<ReturnType<typeof listRoleRequests>>[number] & { person: string; requester: string };

/** Role grants and re-enables waiting for a second admin: anyone but the admin who asked, and the person it is about, may approve. */
async function pendingRequests(deps: Deps, organisationId: string): Promise<NamedRequest[]> {
  const requests = await listRoleRequests(deps.db, deps.clock, organisationId);
  const ids = [...new Set(requests.flatMap((request) => [request.person_id, request.requested_by.replace(/^user:/, '')]))];
  const names = new Map(ids.length ? (await deps.db.selectFrom('users').select(['id', 'display_name', 'username']).where('id', 'in', ids).execute()).map((u) => [u.id, u.display_name || u.username]) : []);
  return requests.map((request) => ({ ...request, person: names.get(request.person_id) ?? request.person_id, requester: names.get(request.requested_by.replace(/^user:/, '')) ?? request.requested_by }));
}

function PendingRequests({ t, locale, requests, me }: { t: Translate; locale: Locale; requests: NamedRequest[]; me: string }) {
  if (!requests.length) return null;
  return (
    <>
      <h2>{at(t, 'admin.requests.title')}</h2>
      <ul id="role-requests">
        {requests.map((request) => (
          <li data-request-id={request.id}>
            {request.kind === 'grant' ? at(t, 'admin.requests.grant', { person: request.person, role: roleName(t, request.role ?? ''), by: request.requester }) : at(t, 'admin.requests.enable', { person: request.person, by: request.requester })}
            {` (${request.reason}; ${at(t, 'admin.requests.until', { at: formatTime(request.expires_at, locale) })})`}
            {request.requested_by.replace(/^user:/, '') !== me && request.person_id !== me ? (
              <ApiForm id={`approve-request-${request.id}`} api={`/api/admin/role-requests/${request.id}/approve`} next="/admin/people?done=approved">
                <button type="submit">{at(t, 'admin.requests.approve')}</button>
              </ApiForm>
            ) : null}
          </li>
        ))}
      </ul>
    </>
  );
}

function methodsText(t: Translate, methods: { passkeys: number; password: boolean; totp: boolean }): string {
  const parts = [];
  if (methods.passkeys) parts.push(at(t, 'admin.methods.passkeys', { count: String(methods.passkeys) }));
  if (methods.password) parts.push(at(t, 'admin.methods.password'));
  if (methods.totp) parts.push(at(t, 'admin.methods.totp'));
  return parts.length ? parts.join(', ') : at(t, 'admin.methods.none');
}

const PERSON_DONE = { disabled: 'admin.person.disabled_done', enabled: 'admin.person.enabled_done', offboarded: 'admin.person.offboarded_done', role_revoked: 'admin.roles.revoked_done' } as const;
const GRANTABLE = ['recovery_officer', 'admin'] as const;

/** Roles: taking one away is one admin's act; giving one is a request a second admin approves (People page). */
function PersonRoles({ t, person, self, isSelf }: { t: Translate; person: PersonView; self: string; isSelf: boolean }) {
  if (isSelf || person.status === 'offboarded') return null;
  const api = `/api/admin/people/${person.id}/roles`;
  const held = person.roles.filter((role) => role !== 'member' && role !== 'operator');
  const grantable = GRANTABLE.filter((role) => !person.roles.includes(role));
  return (
    <>
      <h2>{at(t, 'admin.roles.title')}</h2>
      {held.map((role) => (
        <ApiForm id={`revoke-${role}`} api={`${api}/${role}`} method="DELETE" next={`${self}?done=role_revoked`}>
          <ReasonField t={t} id={`revoke-${role}-reason`} />
          <button type="submit" class="secondary">
            {at(t, 'admin.roles.revoke', { role: roleName(t, role) })}
          </button>
        </ApiForm>
      ))}
      {grantable.length && person.status === 'active' ? (
        <ApiForm id="grant-role-form" api={api}>
          <p>{at(t, 'admin.roles.grant_text')}</p>
          <Field id="grant-role" label={at(t, 'admin.people.role')}>
            <select id="grant-role" name="role">
              {grantable.map((role) => (
                <option value={role}>{roleName(t, role)}</option>
              ))}
            </select>
          </Field>
          <ReasonField t={t} id="grant-reason" />
          <button type="submit">{at(t, 'admin.roles.grant')}</button>
        </ApiForm>
      ) : null}
    </>
  );
}

/** GET /admin/people/:id (the look is audited, as person.viewed, like the API's) */
export async function personPage(deps: Deps, c: AppContext, personId: string) {
  const gate = await adminGate(deps, c);
  if (gate) return gate;
  const person = await viewPerson(deps, auditContext(c), { actor: { kind: 'admin', userId: c.get('user')!.id }, personId });
  const self = `/admin/people/${person.id}`;
  return adminPage(c, { section: '/admin/people', title: () => person.display_name || person.username, done: doneOf(c, PERSON_DONE) }, ({ t, locale }) => (
    <>
      <dl id="person">
        <Detail term={at(t, 'admin.col.username')}>{person.username}</Detail>
        <Detail term={at(t, 'admin.col.email')}>{person.email ?? ''}</Detail>
        <Detail term={at(t, 'admin.col.employee_id')}>{person.employee_id ?? ''}</Detail>
        <Detail term={at(t, 'admin.col.roles')}>{person.roles.map((role) => roleName(t, role)).join(', ')}</Detail>
        <Detail term={at(t, 'admin.col.status')}>
          <span data-status={person.status}>{statusName(t, person.status)}</span>
          {person.disabled ? ` — ${at(t, 'admin.person.disabled_on', { at: formatTime(person.disabled.at, locale), reason: person.disabled.reason ?? '' })}` : ''}
        </Detail>
        <Detail term={at(t, 'admin.person.created')}>{formatTime(person.created_at, locale)}</Detail>
      </dl>
      <p>
        <a href={`/admin/audit?person=${person.id}`}>{at(t, 'admin.person.audit_link')}</a>
      </p>
      <PersonMethods t={t} locale={locale} person={person} />
      <PersonActivity t={t} locale={locale} person={person} />
      <PersonRoles t={t} person={person} self={self} isSelf={person.id === c.get('user')!.id} />
      <PersonActions t={t} person={person} self={self} isSelf={person.id === c.get('user')!.id} />
    </>
  ));
}

function PersonMethods({ t, locale, person }: { t: Translate; locale: Locale; person: PersonView }) {
  return (
    <>
      <h2>{at(t, 'admin.person.passkeys')}</h2>
      {person.passkeys.length ? (
        <table id="person-passkeys">
          <ColumnHeads labels={[at(t, 'admin.col.name'), at(t, 'admin.col.assurance'), at(t, 'admin.col.added'), at(t, 'admin.col.last_used'), at(t, 'admin.col.state')]} />
          <tbody>
            {person.passkeys.map((passkey) => (
              <tr>
                <td>{passkey.name ?? passkey.authenticator ?? ''}</td>
                <td>{assuranceName(t, passkey.bound_acr)}</td>
                <td>{formatTime(passkey.created_at, locale)}</td>
                <td>{when(locale, t, passkey.last_used_at)}</td>
                <td>{passkey.revoked_at ? at(t, 'admin.state.removed') : passkey.blocked_at ? at(t, 'admin.state.blocked') : at(t, 'admin.state.in_use')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>{at(t, 'admin.person.no_passkeys')}</p>
      )}
      <h2>{at(t, 'admin.person.other_methods')}</h2>
      <ul>
        <li>{person.password ? at(t, 'admin.person.password_since', { at: formatTime(person.password.created_at, locale) }) : at(t, 'admin.person.no_password')}</li>
        <li>{person.totp ? at(t, 'admin.person.totp_since', { at: formatTime(person.totp.created_at, locale) }) : at(t, 'admin.person.no_totp')}</li>
      </ul>
    </>
  );
}

function assuranceName(t: Translate, acr: string | null): string {
  if (acr === ACR_PHISHING_RESISTANT || acr === ACR_HARDWARE) return at(t, 'admin.assurance.phishing_resistant');
  if (acr === ACR_MFA) return at(t, 'admin.assurance.mfa');
  return acr ?? '';
}

function PersonActivity({ t, locale, person }: { t: Translate; locale: Locale; person: PersonView }) {
  return (
    <>
      <h2>{at(t, 'admin.person.devices')}</h2>
      {person.devices.length ? (
        <ul id="person-devices">
          {person.devices.map((device) => (
            <li>{`${device.name ?? device.platform ?? device.client_id} · ${device.client_id} · ${at(t, 'admin.person.last_used', { at: formatTime(device.last_used_at, locale) })}${device.revoked ? ` · ${at(t, 'admin.state.removed')}` : ''}`}</li>
          ))}
        </ul>
      ) : (
        <p>{at(t, 'admin.person.no_devices')}</p>
      )}
      <h2>{at(t, 'admin.person.sessions')}</h2>
      {person.sessions.length ? (
        <ul id="person-sessions">
          {person.sessions.map((session) => (
            <li>{`${formatTime(session.created_at, locale)} · ${session.amr.join('+')} · ${session.ip ?? ''} · ${session.user_agent ?? ''}`}</li>
          ))}
        </ul>
      ) : (
        <p>{at(t, 'admin.person.no_sessions')}</p>
      )}
      <h2>{at(t, 'admin.person.sign_ins')}</h2>
      {person.recent_sign_ins.length ? (
        <ul id="person-sign-ins">
          {person.recent_sign_ins.map((attempt) => (
            <li>{`${formatTime(attempt.at, locale)} · ${attempt.action} · ${attempt.outcome} · ${attempt.ip ?? ''}`}</li>
          ))}
        </ul>
      ) : (
        <p>{at(t, 'admin.person.none')}</p>
      )}
      <h2>{at(t, 'admin.person.events')}</h2>
      {person.recent_security_events.length ? (
        <ul id="person-events">
          {person.recent_security_events.map((event) => (
            <li>{`${formatTime(event.at, locale)} · ${event.type} · ${event.initiating_entity ?? ''}`}</li>
          ))}
        </ul>
      ) : (
        <p>{at(t, 'admin.person.none')}</p>
      )}
      <h2>{at(t, 'admin.person.recovery')}</h2>
      {person.recovery_cases.length ? (
        <ul id="person-recovery">
          {person.recovery_cases.map((found) => (
            <li>{`${formatTime(found.opened_at, locale)} · ${found.status}${found.close_reason ? ` · ${found.close_reason}` : ''}`}</li>
          ))}
        </ul>
      ) : (
        <p>{at(t, 'admin.person.none')}</p>
      )}
    </>
  );
}

function ReasonField({ t, id }: { t: Translate; id: string }) {
  return (
    <Field id={id} label={at(t, 'admin.person.reason')} hint={at(t, 'admin.person.reason_hint')}>
      <input id={id} name="reason" type="text" required maxlength={500} aria-describedby={`${id}-hint`} />
    </Field>
  );
}

function PersonActions({ t, person, self, isSelf }: { t: Translate; person: PersonView; self: string; isSelf: boolean }) {
  const api = `/api/admin/people/${person.id}`;
  return (
    <>
      <h2>{at(t, 'admin.person.actions')}</h2>
      <ApiForm id="export-form" api={`${api}/export`} method="GET" show="download" filename={`warta-export-${person.username}.json`}>
        <p>{at(t, 'admin.person.export_text')}</p>
        <button type="submit" class="secondary">
          {at(t, 'admin.person.export')}
        </button>
      </ApiForm>
      {isSelf ? (
        <p>{at(t, 'admin.person.self')}</p>
      ) : person.status === 'active' ? (
        <ApiForm id="disable-form" api={`${api}/disable`} next={`${self}?done=disabled`}>
          <h3>{at(t, 'admin.person.disable')}</h3>
          <p>{at(t, 'admin.person.disable_text')}</p>
          <ReasonField t={t} id="disable-reason" />
          <button type="submit" class="danger">
            {at(t, 'admin.person.disable')}
          </button>
        </ApiForm>
      ) : person.status === 'disabled' ? (
        <ApiForm id="enable-form" api={`${api}/enable`} next={`${self}?done=enabled`}>
          <h3>{at(t, 'admin.person.enable')}</h3>
          <p>{at(t, 'admin.person.enable_text')}</p>
          <ReasonField t={t} id="enable-reason" />
          <button type="submit">{at(t, 'admin.person.enable')}</button>
        </ApiForm>
      ) : null}
      {!isSelf && person.status !== 'offboarded' ? (
        <ApiForm id="offboard-form" api={`${api}/offboard`} next={`${self}?done=offboarded`}>
          <h3>{at(t, 'admin.person.offboard')}</h3>
          <p>{at(t, 'admin.person.offboard_text')}</p>
          <ReasonField t={t} id="offboard-reason" />
          <p class="field">
            <input id="offboard-confirm" name="confirm" type="checkbox" required />
            <label for="offboard-confirm">{at(t, 'admin.person.offboard_confirm')}</label>
          </p>
          <button type="submit" class="danger">
            {at(t, 'admin.person.offboard')}
          </button>
        </ApiForm>
      ) : null}
    </>
  );
}
