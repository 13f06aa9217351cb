/** The organisation: its people in numbers and its sign-in policy, changed after a preview of who it affects. */
import type { Deps } from '../../deps.js';
import type { AppContext } from '../../http/context.js';
import { showOrganisation } from '../../orgs/policy-admin.js';
import type { OrganisationPolicy } from '../../orgs/policy.js';
import { Detail } from '../../ui/forms.js';
import type { Translate } from '../../ui/i18n.js';
import { type AdminMessage, at } from '../messages.js';
import { adminGate, adminPage, ApiForm, doneOf, Field } from './parts.js';

const DONE = { saved: 'admin.org.saved_done' } as const;
const PASSKEY_ROLES = ['member', 'recovery_officer', 'admin'] as const;

function Check({ t, name, checked, label }: { t: Translate; name: keyof OrganisationPolicy; checked: boolean; label: AdminMessage }) {
  return (
    <p class="field">
      <input id={`policy-${name}`} name={name} type="checkbox" checked={checked} />
      <label for={`policy-${name}`}>{at(t, label)}</label>
    </p>
  );
}

function Choice({ t, name, value, options, label }: { t: Translate; name: keyof OrganisationPolicy; value: string | number; options: readonly (string | number)[]; label: AdminMessage }) {
  return (
    <Field id={`policy-${name}`} label={at(t, label)}>
      <select id={`policy-${name}`} name={name} data-kind={typeof value === 'number' ? 'number' : undefined}>
        {options.map((option) => (
          <option value={String(option)} selected={option === value}>
            {String(option)}
          </option>
        ))}
      </select>
    </Field>
  );
}

function NumberField({ t, name, value, min, max, label }: { t: Translate; name: keyof OrganisationPolicy; value: number; min: number; max: number; label: AdminMessage }) {
  return (
    <Field id={`policy-${name}`} label={at(t, label)}>
      <input id={`policy-${name}`} name={name} type="number" required min={min} max={max} value={String(value)} />
    </Field>
  );
}

function Lines({ t, name, value, label, hint }: { t: Translate; name: keyof OrganisationPolicy; value: string[]; label: AdminMessage; hint: AdminMessage }) {
  return (
    <Field id={`policy-${name}`} label={at(t, label)} hint={at(t, hint)}>
      <textarea id={`policy-${name}`} name={name} data-kind="lines" rows={3} aria-describedby={`policy-${name}-hint`}>
        {value.join('\n')}
      </textarea>
    </Field>
  );
}

/** GET /admin/organisation */
export async function organisationPage(deps: Deps, c: AppContext) {
  const gate = await adminGate(deps, c);
  if (gate) return gate;
  const organisation = await showOrganisation(deps.db, c.get('user')!.organisation_id);
  const policy = organisation.policy;
  return adminPage(c, { section: '/admin/organisation', title: () => organisation.name, done: doneOf(c, DONE) }, ({ t }) => (
    <>
      <dl id="organisation">
        <Detail term={at(t, 'admin.org.people')}>{at(t, 'admin.org.people_counts', { total: String(organisation.people.total), active: String(organisation.people.by_status.active), disabled: String(organisation.people.by_status.disabled), offboarded: String(organisation.people.by_status.offboarded) })}</Detail>
        <Detail term={at(t, 'admin.org.domains')}>{organisation.email_domains.length ? organisation.email_domains.join(', ') : at(t, 'admin.org.any_domain')}</Detail>
      </dl>
      <p class="hint">{at(t, 'admin.org.domains_hint')}</p>
      <h2>{at(t, 'admin.org.policy')}</h2>
      <ApiForm id="policy-form" api="/api/admin/organisation/policy/preview" show="preview" wrap="policy" extra={{ expected_version: organisation.version }}>
        <fieldset>
          <legend>{at(t, 'admin.org.methods')}</legend>
          <Check t={t} name="allowPasswords" checked={policy.allowPasswords} label="admin.policy.allowPasswords" />
          <Check t={t} name="allowTotp" checked={policy.allowTotp} label="admin.policy.allowTotp" />
          <fieldset>
            <legend>{at(t, 'admin.policy.passkeyRequiredRoles')}</legend>
            {PASSKEY_ROLES.map((role) => (
              <p class="field">
                <input id={`policy-passkey-${role}`} name="passkeyRequiredRoles" type="checkbox" data-kind="set" value={role} checked={policy.passkeyRequiredRoles.includes(role)} />
                <label for={`policy-passkey-${role}`}>{at(t, `admin.role.${role}`)}</label>
              </p>
            ))}
          </fieldset>
        </fieldset>
        <fieldset>
          <legend>{at(t, 'admin.org.passkeys')}</legend>
          <Choice t={t} name="attestation" value={policy.attestation} options={['none', 'direct']} label="admin.policy.attestation" />
          <Lines t={t} name="allowedAaguids" value={policy.allowedAaguids} label="admin.policy.allowedAaguids" hint="admin.policy.allowedAaguids_hint" />
        </fieldset>
        <fieldset>
          <legend>{at(t, 'admin.org.totp')}</legend>
          <Choice t={t} name="totpAlgorithm" value={policy.totpAlgorithm} options={['SHA1', 'SHA256', 'SHA512']} label="admin.policy.totpAlgorithm" />
          <Choice t={t} name="totpDigits" value={policy.totpDigits} options={[6, 7, 8]} label="admin.policy.totpDigits" />
          <NumberField t={t} name="totpPeriod" value={policy.totpPeriod} min={15} max={300} label="admin.policy.totpPeriod" />
        </fieldset>
        <fieldset>
          <legend>{at(t, 'admin.org.recovery')}</legend>
          <Lines t={t} name="recoveryDesks" value={policy.recoveryDesks} label="admin.policy.recoveryDesks" hint="admin.policy.recoveryDesks_hint" />
          <Check t={t} name="recoveryRequireDifferentDesk" checked={policy.recoveryRequireDifferentDesk} label="admin.policy.recoveryRequireDifferentDesk" />
          <NumberField t={t} name="recoveryCaseTtlHours" value={policy.recoveryCaseTtlHours} min={1} max={720} label="admin.policy.recoveryCaseTtlHours" />
          <NumberField t={t} name="recoveryCodeTtlMinutes" value={policy.recoveryCodeTtlMinutes} min={5} max={1440} label="admin.policy.recoveryCodeTtlMinutes" />
          <NumberField t={t} name="recoveryCodeMaxAttempts" value={policy.recoveryCodeMaxAttempts} min={1} max={20} label="admin.policy.recoveryCodeMaxAttempts" />
          <Check t={t} name="recoveryRevokesOldCredentials" checked={policy.recoveryRevokesOldCredentials} label="admin.policy.recoveryRevokesOldCredentials" />
        </fieldset>
        <fieldset>
          <legend>{at(t, 'admin.org.sessions')}</legend>
          <Field id="policy-sessionIdleMinutes" label={at(t, 'admin.policy.sessionIdleMinutes')} hint={at(t, 'admin.policy.session_hint', { server: String(deps.config.sessions.idleSeconds / 60) })}>
            <input id="policy-sessionIdleMinutes" name="sessionIdleMinutes" type="number" min={5} max={7 * 24 * 60} data-nullable value={policy.sessionIdleMinutes === null ? '' : String(policy.sessionIdleMinutes)} aria-describedby="policy-sessionIdleMinutes-hint" />
          </Field>
          <Field id="policy-sessionMaxHours" label={at(t, 'admin.policy.sessionMaxHours')} hint={at(t, 'admin.policy.session_hint', { server: String(deps.config.sessions.absoluteSeconds / 3600) })}>
            <input id="policy-sessionMaxHours" name="sessionMaxHours" type="number" min={1} max={24 * 90} data-nullable value={policy.sessionMaxHours === null ? '' : String(policy.sessionMaxHours)} aria-describedby="policy-sessionMaxHours-hint" />
          </Field>
        </fieldset>
        <fieldset>
          <legend>{at(t, 'admin.org.clients')}</legend>
          <Choice t={t} name="clientSecurityProfile" value={policy.clientSecurityProfile} options={['baseline', 'fapi2']} label="admin.policy.clientSecurityProfile" />
        </fieldset>
        <button type="submit" class="secondary">
          {at(t, 'admin.org.preview')}
        </button>
        <button type="submit" data-api="/api/admin/organisation/policy" data-method="PUT" data-next="/admin/organisation?done=saved">
          {at(t, 'admin.org.save')}
        </button>
      </ApiForm>
    </>
  ));
}
