/** Clients: the organisation's relying services, registered, edited (client_id and grants kept), their secret rotated, deleted. */
import type { ClientView } from '../../clients/service.js';
import { clientView, getClient, listClientPage, organisationAdmin } from '../../clients/service.js';
import { GRANT_TYPES, REQUIRABLE_ACRS } from '../../clients/metadata.js';
import type { Deps } from '../../deps.js';
import type { AppContext } from '../../http/context.js';
import { formatTime } from '../../ui/forms.js';
import type { Translate } from '../../ui/i18n.js';
import { ColumnHeads } from '../../ui/table.js';
import { at } from '../messages.js';
import { adminGate, adminPage, ApiForm, NextPage, doneOf, Field } from './parts.js';

const DONE = { saved: 'admin.clients.saved_done', deleted: 'admin.clients.deleted_done' } as const;

/** The settings an admin edits, the same on the new-client form and a client's page. */
function ClientSettings({ t, client }: { t: Translate; client?: ClientView }) {
  const lines = (values: string[] | undefined) => (values ?? []).join('\n');
  return (
    <>
      <Field id="client-name" label={at(t, 'admin.clients.name')}>
        <input id="client-name" name="client_name" type="text" required maxlength={200} value={client?.client_name ?? ''} />
      </Field>
      <Field id="client-redirects" label={at(t, 'admin.clients.redirect_uris')} hint={at(t, 'admin.clients.one_per_line')}>
        <textarea id="client-redirects" name="redirect_uris" data-kind="lines" rows={3} aria-describedby="client-redirects-hint">
          {lines(client?.redirect_uris)}
        </textarea>
      </Field>
      <Field id="client-logout" label={at(t, 'admin.clients.post_logout_uris')} hint={at(t, 'admin.clients.one_per_line')}>
        <textarea id="client-logout" name="post_logout_redirect_uris" data-kind="lines" rows={2} aria-describedby="client-logout-hint">
          {lines(client?.post_logout_redirect_uris)}
        </textarea>
      </Field>
      <Field id="client-backchannel" label={at(t, 'admin.clients.backchannel_uri')}>
        <input id="client-backchannel" name="backchannel_logout_uri" type="url" maxlength={2048} data-kind="nullable" value={client?.backchannel_logout_uri ?? ''} />
      </Field>
      <Field id="client-scope" label={at(t, 'admin.clients.scope')} hint={at(t, 'admin.clients.scope_hint')}>
        <input id="client-scope" name="scope" type="text" maxlength={2000} value={client?.scope ?? 'openid profile email'} aria-describedby="client-scope-hint" />
      </Field>
      <fieldset>
        <legend>{at(t, 'admin.clients.grant_types')}</legend>
        {GRANT_TYPES.map((grant) => (
          <p class="field">
            <input id={`client-grant-${grant}`} name="grant_types" type="checkbox" data-kind="set" value={grant} checked={(client?.grant_types ?? ['authorization_code', 'refresh_token']).includes(grant)} />
            <label for={`client-grant-${grant}`}>{grant}</label>
          </p>
        ))}
      </fieldset>
      <Field id="client-acr" label={at(t, 'admin.clients.required_acr')}>
        <select id="client-acr" name="required_acr" data-kind="nullable">
          <option value="">{at(t, 'admin.clients.acr_none')}</option>
          {REQUIRABLE_ACRS.map((acr) => (
            <option value={acr} selected={client?.required_acr === acr}>
              {acr}
            </option>
          ))}
        </select>
      </Field>
      <p class="field">
        <input id="client-dpop" name="dpop_bound_access_tokens" type="checkbox" checked={client?.dpop_bound_access_tokens ?? false} />
        <label for="client-dpop">{at(t, 'admin.clients.dpop')}</label>
      </p>
    </>
  );
}

/** GET /admin/clients */
export async function clientsPage(deps: Deps, c: AppContext) {
  const gate = await adminGate(deps, c);
  if (gate) return gate;
  const page = await listClientPage(deps.db, organisationAdmin(c.get('user')!.organisation_id), { cursor: c.req.query('cursor') || undefined });
  const clients = page.clients;
  return adminPage(c, { section: '/admin/clients', title: (t) => at(t, 'admin.clients.title'), done: doneOf(c, DONE) }, ({ t, locale }) => (
    <>
      {clients.length ? (
        <table id="clients">
          <ColumnHeads labels={[at(t, 'admin.clients.name'), 'client_id', at(t, 'admin.clients.kind'), at(t, 'admin.col.added'), at(t, 'admin.col.status')]} />
          <tbody>
            {clients.map((client) => (
              <tr data-client-id={client.client_id}>
                <td>
                  <a href={`/admin/clients/${encodeURIComponent(client.client_id)}`}>{client.client_name}</a>
                </td>
                <td>
                  <code>{client.client_id}</code>
                </td>
                <td>{`${client.application_type} · ${client.token_endpoint_auth_method}`}</td>
                <td>{formatTime(new Date(client.client_id_issued_at * 1000), locale)}</td>
                <td>{client.suspended ? at(t, 'admin.clients.suspended') : at(t, 'admin.status.active')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>{at(t, 'admin.clients.none')}</p>
      )}
      <NextPage t={t} path="/admin/clients" cursor={page.next_cursor} />
      <h2>{at(t, 'admin.clients.new')}</h2>
      <ApiForm id="new-client-form" api="/api/admin/clients" show="secret">
        <Field id="client-type" label={at(t, 'admin.clients.kind')} hint={at(t, 'admin.clients.kind_hint')}>
          <select id="client-type" name="token_endpoint_auth_method" aria-describedby="client-type-hint">
            <option value="client_secret_basic">{at(t, 'admin.clients.kind_server')}</option>
            <option value="private_key_jwt">{at(t, 'admin.clients.kind_jwt')}</option>
            <option value="none">{at(t, 'admin.clients.kind_public')}</option>
          </select>
        </Field>
        <ClientSettings t={t} />
        <button type="submit">{at(t, 'admin.clients.create')}</button>
      </ApiForm>
    </>
  ));
}

/** GET /admin/clients/:id */
export async function clientPage(deps: Deps, c: AppContext, clientId: string) {
  const gate = await adminGate(deps, c);
  if (gate) return gate;
  const client = clientView(await getClient(deps.db, clientId, organisationAdmin(c.get('user')!.organisation_id)));
  const api = `/api/admin/clients/${encodeURIComponent(client.client_id)}`;
  const self = `/admin/clients/${encodeURIComponent(client.client_id)}`;
  return adminPage(c, { section: '/admin/clients', title: () => client.client_name, done: doneOf(c, DONE) }, ({ t }) => (
    <>
      <p>
        client_id <code id="client-id">{client.client_id}</code> · {`${client.application_type} · ${client.token_endpoint_auth_method} · ${client.security_profile}`}
      </p>
      {client.suspended ? <p class="error">{at(t, 'admin.clients.suspended_text', { reason: client.suspended.reason ?? '' })}</p> : null}
      <h2>{at(t, 'admin.clients.edit')}</h2>
      <ApiForm id="edit-client-form" api={api} method="PATCH" next={`${self}?done=saved`}>
        <p class="hint">{at(t, 'admin.clients.edit_hint')}</p>
        <ClientSettings t={t} client={client} />
        <button type="submit">{at(t, 'admin.clients.save')}</button>
      </ApiForm>
      {client.token_endpoint_auth_method.startsWith('client_secret') ? (
        <>
          <h2>{at(t, 'admin.clients.rotate')}</h2>
          <ApiForm id="rotate-secret-form" api={`${api}/rotate-secret`} show="secret">
            <p>{at(t, 'admin.clients.rotate_text')}</p>
            <button type="submit" class="secondary">
              {at(t, 'admin.clients.rotate')}
            </button>
          </ApiForm>
        </>
      ) : null}
      <h2>{at(t, 'admin.clients.delete')}</h2>
      <ApiForm id="delete-client-form" api={api} method="DELETE" next="/admin/clients?done=deleted">
        <p>{at(t, 'admin.clients.delete_text')}</p>
        <p class="field">
          <input id="delete-confirm" name="_confirm" type="checkbox" required />
          <label for="delete-confirm">{at(t, 'admin.clients.delete_confirm', { name: client.client_name })}</label>
        </p>
        <button type="submit" class="danger">
          {at(t, 'admin.clients.delete')}
        </button>
      </ApiForm>
    </>
  ));
}
