/** Event receivers: where the organisation's security events go as signed SETs. */
import type { Deps } from '../../deps.js';
import { listReceivers, receiverView } from '../../events/receivers.js';
import { DELIVERABLE_EVENT_TYPES } from '../../events/types.js';
import type { AppContext } from '../../http/context.js';
import { formatTime } from '../../ui/forms.js';
import { ColumnHeads } from '../../ui/table.js';
import { at } from '../messages.js';
import { adminGate, adminPage, ApiForm, doneOf, Field } from './parts.js';

const DONE = { added: 'admin.receivers.added_done', removed: 'admin.receivers.removed_done' } as const;

/** GET /admin/receivers */
export async function receiversPage(deps: Deps, c: AppContext) {
  const gate = await adminGate(deps, c);
  if (gate) return gate;
  const receivers = (await listReceivers(deps.db, c.get('user')!.organisation_id)).map(receiverView).filter((receiver) => receiver.removed_at === null);
  return adminPage(c, { section: '/admin/receivers', title: (t) => at(t, 'admin.receivers.title'), done: doneOf(c, DONE) }, ({ t, locale }) => (
    <>
      <p>{at(t, 'admin.receivers.text')}</p>
      {receivers.length ? (
        <table id="receivers">
          <ColumnHeads labels={['URL', at(t, 'admin.receivers.audience'), at(t, 'admin.receivers.events'), at(t, 'admin.receivers.health'), at(t, 'admin.col.actions')]} />
          <tbody>
            {receivers.map((receiver) => (
              <tr data-receiver-id={receiver.id}>
                <td>
                  <code>{receiver.url}</code>
                </td>
                <td>{receiver.audience}</td>
                <td>{receiver.events ? receiver.events.join(', ') : at(t, 'admin.receivers.every_event')}</td>
                <td>
                  {receiver.health.failing_since
                    ? at(t, 'admin.receivers.failing', { since: formatTime(receiver.health.failing_since, locale), count: String(receiver.health.consecutive_failures) })
                    : receiver.health.last_success_at
                      ? at(t, 'admin.receivers.delivered', { at: formatTime(receiver.health.last_success_at, locale) })
                      : at(t, 'admin.receivers.nothing_yet')}
                </td>
                <td>
                  <ApiForm id={`remove-${receiver.id}`} api={`/api/admin/event-receivers/${receiver.id}`} method="DELETE" next="/admin/receivers?done=removed">
                    <button type="submit" class="secondary">
                      {at(t, 'admin.receivers.remove', { url: receiver.url })}
                    </button>
                  </ApiForm>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>{at(t, 'admin.receivers.none')}</p>
      )}
      <h2>{at(t, 'admin.receivers.add')}</h2>
      <ApiForm id="add-receiver-form" api="/api/admin/event-receivers" next="/admin/receivers?done=added">
        <Field id="receiver-url" label="URL">
          <input id="receiver-url" name="url" type="url" required maxlength={2048} />
        </Field>
        <Field id="receiver-audience" label={at(t, 'admin.receivers.audience')} hint={at(t, 'admin.receivers.audience_hint')}>
          <input id="receiver-audience" name="audience" type="text" required maxlength={512} aria-describedby="receiver-audience-hint" />
        </Field>
        <fieldset>
          <legend>{at(t, 'admin.receivers.events')}</legend>
          {DELIVERABLE_EVENT_TYPES.map((type) => (
            <p class="field">
              <input id={`receiver-event-${type}`} name="events" type="checkbox" data-kind="set" value={type} checked />
              <label for={`receiver-event-${type}`}>{type}</label>
            </p>
          ))}
        </fieldset>
        <Field id="receiver-token" label={at(t, 'admin.receivers.token')} hint={at(t, 'admin.receivers.token_hint')}>
          <input id="receiver-token" name="bearer_token" type="password" maxlength={4096} autocomplete="off" data-optional aria-describedby="receiver-token-hint" />
        </Field>
        <button type="submit">{at(t, 'admin.receivers.add')}</button>
      </ApiForm>
    </>
  ));
}
