/** Invitations: who is invited, inviting one person or many from a CSV file, approving and revoking. */
import type { Deps } from '../../deps.js';
import type { AppContext } from '../../http/context.js';
import { invitationView, listInvitations } from '../../invitations/service.js';
import { formatTime } from '../../ui/forms.js';
import type { Translate } from '../../ui/i18n.js';
import { ColumnHeads } from '../../ui/table.js';
import { at } from '../messages.js';
import { adminGate, adminPage, ApiForm, NextPage, doneOf, Field } from './parts.js';

const DONE = { revoked: 'admin.invitations.revoked_done' } as const;
const INVITABLE = ['member', 'recovery_officer', 'admin'] as const;

/** GET /admin/invitations */
export async function invitationsPage(deps: Deps, c: AppContext) {
  const gate = await adminGate(deps, c);
  if (gate) return gate;
  const now = deps.clock.now();
  const page = await listInvitations(deps.db, now, c.get('user')!.organisation_id, { cursor: c.req.query('cursor') || undefined });
  const invitations = page.invitations.map((row) => ({ ...invitationView(row, now), created_by: row.created_by }));
  const me = c.get('user')!.id;
  return adminPage(c, { section: '/admin/invitations', title: (t) => at(t, 'admin.invitations.title'), done: doneOf(c, DONE) }, ({ t, locale }) => (
    <>
      <h2>{at(t, 'admin.invitations.one')}</h2>
      <ApiForm id="invite-form" api="/api/admin/invitations" show="invitation">
        <Field id="invite-name" label={at(t, 'admin.col.name')}>
          <input id="invite-name" name="display_name" type="text" required maxlength={200} />
        </Field>
        <Field id="invite-email" label={at(t, 'admin.col.email')}>
          <input id="invite-email" name="email" type="email" maxlength={254} data-optional />
        </Field>
        <Field id="invite-employee" label={at(t, 'admin.col.employee_id')}>
          <input id="invite-employee" name="employee_id" type="text" maxlength={64} data-optional />
        </Field>
        <Field id="invite-role" label={at(t, 'admin.people.role')} hint={at(t, 'admin.invitations.role_hint')}>
          <select id="invite-role" name="role" aria-describedby="invite-role-hint">
            {INVITABLE.map((role) => (
              <option value={role}>{at(t, `admin.role.${role}`)}</option>
            ))}
          </select>
        </Field>
        <button type="submit">{at(t, 'admin.invitations.invite')}</button>
      </ApiForm>

      <h2>{at(t, 'admin.invitations.bulk')}</h2>
      <ApiForm id="bulk-form" api="/api/admin/invitations/bulk" show="bulk">
        <p>{at(t, 'admin.invitations.bulk_text')}</p>
        <Field id="bulk-file" label={at(t, 'admin.invitations.bulk_file')}>
          <input id="bulk-file" name="_file" type="file" accept=".csv,text/csv" required data-into="csv" />
        </Field>
        <button type="submit" data-set={JSON.stringify({ dry_run: true })}>
          {at(t, 'admin.invitations.bulk_check')}
        </button>
        <div data-confirm-bulk hidden>
          <button type="submit" data-set={JSON.stringify({ dry_run: false })}>
            {at(t, 'admin.invitations.bulk_apply')}
          </button>
        </div>
      </ApiForm>

      <h2>{at(t, 'admin.invitations.list')}</h2>
      {invitations.length ? (
        <table id="invitations">
          <ColumnHeads labels={[at(t, 'admin.col.name'), at(t, 'admin.col.email'), at(t, 'admin.col.roles'), at(t, 'admin.col.status'), at(t, 'admin.col.expires'), at(t, 'admin.col.actions')]} />
          <tbody>
            {invitations.map((invitation) => (
              <tr data-invitation-id={invitation.id}>
                <td>{invitation.display_name}</td>
                <td>{invitation.email ?? ''}</td>
                <td>{at(t, `admin.role.${invitation.role as (typeof INVITABLE)[number]}`)}</td>
                <td>{invitationStatus(t, invitation.status)}</td>
                <td>{formatTime(invitation.expires_at, locale)}</td>
                <td>
                  {invitation.status === 'awaiting_approval' && invitation.created_by !== me ? (
                    <ApiForm id={`approve-${invitation.id}`} api={`/api/admin/invitations/${invitation.id}/approve`} show="invitation">
                      <button type="submit">{at(t, 'admin.invitations.approve', { name: invitation.display_name })}</button>
                    </ApiForm>
                  ) : null}
                  {invitation.status === 'pending' ? (
                    <ApiForm id={`resend-${invitation.id}`} api={`/api/admin/invitations/${invitation.id}/resend`} show="invitation">
                      <button type="submit" class="secondary">
                        {at(t, 'admin.invitations.resend', { name: invitation.display_name })}
                      </button>
                    </ApiForm>
                  ) : null}
                  {invitation.status === 'pending' || invitation.status === 'awaiting_approval' ? (
                    <ApiForm id={`revoke-${invitation.id}`} api={`/api/admin/invitations/${invitation.id}`} method="DELETE" next="/admin/invitations?done=revoked">
                      <button type="submit" class="secondary">
                        {at(t, 'admin.invitations.revoke', { name: invitation.display_name })}
                      </button>
                    </ApiForm>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>{at(t, 'admin.invitations.none')}</p>
      )}
      <NextPage t={t} path="/admin/invitations" cursor={page.next_cursor} />
    </>
  ));
}

function invitationStatus(t: Translate, status: string): string {
  switch (status) {
    case 'pending':
      return at(t, 'admin.invitation.pending');
    case 'awaiting_approval':
      return at(t, 'admin.invitation.awaiting_approval');
    case 'redeemed':
      return at(t, 'admin.invitation.redeemed');
    case 'revoked':
      return at(t, 'admin.invitation.revoked');
    default:
      return at(t, 'admin.invitation.expired');
  }
}
