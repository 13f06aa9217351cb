/** Signing keys, for the instance operator: which key signs, which are published ahead or retiring, and a planned rotation. */
import { listSigningKeys } from '../../crypto/signing-key-admin.js';
import type { Deps } from '../../deps.js';
import type { AppContext } from '../../http/context.js';
import { formatTime } from '../../ui/forms.js';
import { ColumnHeads } from '../../ui/table.js';
import { at } from '../messages.js';
import { adminGate, adminPage, ApiForm, doneOf, Field } from './parts.js';

const DONE = { rotated: 'admin.keys.rotated_done' } as const;

/** GET /admin/keys (operators only, as the operator API) */
export async function keysPage(deps: Deps, c: AppContext) {
  const gate = await adminGate(deps, c, 'operator');
  if (gate) return gate;
  const keys = await listSigningKeys(deps.db, deps.clock);
  return adminPage(c, { section: '/admin/keys', title: (t) => at(t, 'admin.keys.title'), done: doneOf(c, DONE) }, ({ t, locale }) => (
    <>
      <p>{at(t, 'admin.keys.text')}</p>
      <table id="signing-keys">
        <ColumnHeads labels={['kid', 'alg', at(t, 'admin.col.state'), at(t, 'admin.keys.signs_from'), at(t, 'admin.keys.unpublished')]} />
        <tbody>
          {keys.map((key) => (
            <tr data-kid={key.kid}>
              <td>
                <code>{key.kid}</code>
              </td>
              <td>{key.alg}</td>
              <td>{at(t, `admin.keys.state.${key.state}`)}</td>
              <td>{formatTime(key.active_from, locale)}</td>
              <td>{key.withdrawn_at ? formatTime(key.withdrawn_at, locale) : key.retire_at ? formatTime(key.retire_at, locale) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{at(t, 'admin.keys.rotate')}</h2>
      <ApiForm id="rotate-key-form" api="/api/operator/signing-keys/rotate" next="/admin/keys?done=rotated">
        <p>{at(t, 'admin.keys.rotate_text')}</p>
        <Field id="rotate-reason" label={at(t, 'admin.person.reason')}>
          <input id="rotate-reason" name="reason" type="text" required maxlength={500} />
        </Field>
        <button type="submit">{at(t, 'admin.keys.rotate')}</button>
      </ApiForm>
      <p class="hint">{at(t, 'admin.keys.emergency')}</p>
    </>
  ));
}
