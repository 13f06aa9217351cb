/**
 * The account page's devices, browser sessions and sign-in history sections, and
 * where its security-event banner's "Not you? Revoke" leads. Device names and
 * user agents are other people's text: JSX escapes them. The buttons are wired by
 * /static/devices.js.
 */
import type { RecentSecurityEvent } from '../events/recent.js';
import { MAX_DEVICE_NAME_LENGTH } from '../grants/device-name.js';
import { RenameForm } from '../ui/forms.js';
import type { Locale, Translate } from '../ui/i18n.js';
import { devicesText } from './messages.js';
import type { DeviceView, SessionView, SignInView } from './views.js';

export const DEVICES_SCRIPT = '/static/devices.js';

function when(iso: string, locale: Locale) {
  const date = new Date(iso);
  const text = `${new Intl.DateTimeFormat(locale === 'pl' ? 'pl-PL' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(date)} UTC`;
  return <time datetime={iso}>{text}</time>;
}

/** Outcomes the account page announces after devices.js reloads it (`?done=`). */
export const DEVICES_DONE = { device_revoked: 'devices.revoked', device_renamed: 'devices.renamed', session_revoked: 'sessions.revoked' } as const;

/** "Not you? Revoke": a linked device leads to its row in the device list; a credential change to the passkeys. */
export function bannerRevokeHref(liveDeviceIds: ReadonlySet<string>) {
  return (event: RecentSecurityEvent): string | undefined => {
    if (event.type === 'device_linked') {
      const id = typeof event.details.deviceId === 'string' ? event.details.deviceId : '';
      return liveDeviceIds.has(id) ? `/account#device-${id}` : '/account#devices-heading';
    }
    if (event.type === 'credential_change') return '/account#passkeys-heading';
    return undefined;
  };
}

// Lists, not tables: each entry is a small card (it reads on a phone too), and the
// passkey table stays the page's only table.

export function DevicesSection(props: { devices: DeviceView[]; t: Translate; locale: Locale }) {
  const { t, locale } = props;
  return (
    <section id="devices" aria-labelledby="devices-heading">
      <h2 id="devices-heading">{devicesText(t, 'devices.heading')}</h2>
      <p>{devicesText(t, 'devices.intro')}</p>
      {props.devices.length === 0 ? (
        <p>{devicesText(t, 'devices.none')}</p>
      ) : (
        <ul class="device-list" aria-labelledby="devices-heading">
          {props.devices.map((device) => (
            <li id={`device-${device.id}`} data-device-id={device.id}>
              <strong class="device-name">{device.name}</strong> <small>({device.client_name} · {device.platform})</small>
              <dl>
                <dt>{devicesText(t, 'devices.col_signed_in')}</dt>
                <dd>{when(device.signed_in_at, locale)}</dd>
                <dt>{devicesText(t, 'devices.col_last_used')}</dt>
                <dd>{when(device.last_used_at, locale)}</dd>
                <dt>{devicesText(t, 'devices.col_ip')}</dt>
                <dd>{device.last_ip ?? '—'}</dd>
                <dt>{devicesText(t, 'devices.col_methods')}</dt>
                <dd>{device.sign_in_methods.join(', ')}</dd>
              </dl>
              <RenameForm class="rename-device-form" data={{ 'data-device-id': device.id }} name={device.name} maxLength={MAX_DEVICE_NAME_LENGTH} label={devicesText(t, 'devices.rename_label', { name: device.name })} submit={devicesText(t, 'devices.rename')} />
              <button type="button" class="danger revoke-device" data-device-id={device.id} aria-label={devicesText(t, 'devices.revoke_label', { name: device.name })}>
                {devicesText(t, 'devices.revoke')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function SessionsSection(props: { sessions: SessionView[]; t: Translate; locale: Locale }) {
  const { t, locale } = props;
  return (
    <section id="sessions" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">{devicesText(t, 'sessions.heading')}</h2>
      {props.sessions.length === 0 ? (
        <p>{devicesText(t, 'sessions.none')}</p>
      ) : (
        <ul class="session-list" aria-labelledby="sessions-heading">
          {props.sessions.map((session) => (
            <li id={`session-${session.id}`} data-session-id={session.id} data-current={session.current ? 'true' : 'false'}>
              <strong title={session.user_agent ?? ''}>{session.platform}</strong>
              {session.current ? <em> ({devicesText(t, 'sessions.this_session')})</em> : null}
              <dl>
                <dt>{devicesText(t, 'sessions.col_signed_in')}</dt>
                <dd>{when(session.signed_in_at, locale)}</dd>
                <dt>{devicesText(t, 'sessions.col_last_seen')}</dt>
                <dd>{when(session.last_seen_at, locale)}</dd>
                <dt>{devicesText(t, 'sessions.col_ip')}</dt>
                <dd>{session.ip ?? '—'}</dd>
                <dt>{devicesText(t, 'devices.col_methods')}</dt>
                <dd>{session.sign_in_methods.join(', ')}</dd>
              </dl>
              <button
                type="button"
                class="danger revoke-session"
                data-session-id={session.id}
                data-current={session.current ? 'true' : 'false'}
                aria-label={devicesText(t, 'sessions.revoke_label', { platform: session.platform, ip: session.ip ?? '—' })}
              >
                {devicesText(t, 'sessions.revoke')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function SignInsSection(props: { signIns: SignInView[]; t: Translate; locale: Locale }) {
  const { t, locale } = props;
  return (
    <section id="sign-ins" aria-labelledby="sign-ins-heading">
      <h2 id="sign-ins-heading">{devicesText(t, 'signins.heading')}</h2>
      {props.signIns.length === 0 ? (
        <p>{devicesText(t, 'signins.none')}</p>
      ) : (
        <ol class="sign-in-list" aria-labelledby="sign-ins-heading">
          {props.signIns.map((signIn) => (
            <li data-result={signIn.result}>
              {when(signIn.at, locale)} · {signIn.ip ?? devicesText(t, 'signins.unknown_ip')} · {signIn.method ?? devicesText(t, 'signins.unknown_method')} ·{' '}
              <strong>{devicesText(t, signIn.result === 'success' ? 'signins.success' : 'signins.failure')}</strong>
              {signIn.reason ? <small> ({signIn.reason})</small> : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
