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
import type { Markup } from '../ui/render.js';
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

/** A section of the account page listing `items`, one `entry` each, or saying there are none; the list is labelled by the heading. */
function ListSection<Item>(props: { id: string; heading: string; intro?: string; none: string; items: Item[]; list: { class: string; ordered?: boolean }; entry: (item: Item) => Markup }) {
  const headingId = `${props.id}-heading`;
  const entries = props.items.map(props.entry);
  return (
    <section id={props.id} aria-labelledby={headingId}>
      <h2 id={headingId}>{props.heading}</h2>
      {props.intro === undefined ? null : <p>{props.intro}</p>}
      {props.items.length === 0 ? (
        <p>{props.none}</p>
      ) : props.list.ordered ? (
        <ol class={props.list.class} aria-labelledby={headingId}>
          {entries}
        </ol>
      ) : (
        <ul class={props.list.class} aria-labelledby={headingId}>
          {entries}
        </ul>
      )}
    </section>
  );
}

type DevicesMessage = Parameters<typeof devicesText>[1];

/** What devices and sessions both tell: when they signed in and were last active, from where, and with which methods. */
function SignInFacts(props: { t: Translate; locale: Locale; labels: { signedIn: DevicesMessage; lastActive: DevicesMessage; ip: DevicesMessage }; signedInAt: string; lastActiveAt: string; ip: string | null; methods: string[] }) {
  const { t, locale, labels } = props;
  return (
    <dl>
      <dt>{devicesText(t, labels.signedIn)}</dt>
      <dd>{when(props.signedInAt, locale)}</dd>
      <dt>{devicesText(t, labels.lastActive)}</dt>
      <dd>{when(props.lastActiveAt, locale)}</dd>
      <dt>{devicesText(t, labels.ip)}</dt>
      <dd>{props.ip ?? '—'}</dd>
      <dt>{devicesText(t, 'devices.col_methods')}</dt>
      <dd>{props.methods.join(', ')}</dd>
    </dl>
  );
}

const DEVICE_FACTS = { signedIn: 'devices.col_signed_in', lastActive: 'devices.col_last_used', ip: 'devices.col_ip' } as const;
const SESSION_FACTS = { signedIn: 'sessions.col_signed_in', lastActive: 'sessions.col_last_seen', ip: 'sessions.col_ip' } as const;

// Lists, not tables: each entry is a small card (it reads on a phone too), and the
// passkey table stays the page's only table.

export function DevicesSection({ devices, t, locale }: { devices: DeviceView[]; t: Translate; locale: Locale }) {
  return <ListSection id="devices" heading={devicesText(t, 'devices.heading')} intro={devicesText(t, 'devices.intro')} none={devicesText(t, 'devices.none')} items={devices} list={{ class: 'device-list' }} entry={(device) => <DeviceEntry device={device} t={t} locale={locale} />} />;
}

export function SessionsSection({ sessions, t, locale }: { sessions: SessionView[]; t: Translate; locale: Locale }) {
  return <ListSection id="sessions" heading={devicesText(t, 'sessions.heading')} none={devicesText(t, 'sessions.none')} items={sessions} list={{ class: 'session-list' }} entry={(session) => <SessionEntry session={session} t={t} locale={locale} />} />;
}

export function SignInsSection({ signIns, t, locale }: { signIns: SignInView[]; t: Translate; locale: Locale }) {
  return <ListSection id="sign-ins" heading={devicesText(t, 'signins.heading')} none={devicesText(t, 'signins.none')} items={signIns} list={{ class: 'sign-in-list', ordered: true }} entry={(signIn) => <SignInEntry signIn={signIn} t={t} locale={locale} />} />;
}

/** Said before, beside the button: this one also signs this browser out. */
function SignsOutHere({ id, text }: { id: string; text: string }) {
  return (
    <p class="muted signs-out-here" id={id}>
      {text}
    </p>
  );
}

/** The button devices.js wires to sign a device or a browser session out; `data` says which one (`data-describedby`: the warning read with it). */
function SignOutButton(props: { class: string; data: Record<`data-${string}`, string>; label: string; text: string }) {
  const { 'data-describedby': describedBy, ...data } = props.data;
  return (
    <button type="button" class={`danger ${props.class}`} {...data} aria-label={props.label} aria-describedby={describedBy}>
      {props.text}
    </button>
  );
}

function DeviceEntry({ device, t, locale }: { device: DeviceView; t: Translate; locale: Locale }) {
  return (
    <li id={`device-${device.id}`} data-device-id={device.id}>
      <strong class="device-name">{device.name}</strong> <small>({device.client_name} · {device.platform})</small>
      <SignInFacts t={t} locale={locale} labels={DEVICE_FACTS} signedInAt={device.signed_in_at} lastActiveAt={device.last_used_at} ip={device.last_ip} methods={device.sign_in_methods} />
      <RenameForm class="rename-device-form" data={{ 'data-device-id': device.id }} name={device.name} maxLength={MAX_DEVICE_NAME_LENGTH} label={devicesText(t, 'devices.rename_label', { name: device.name })} submit={devicesText(t, 'devices.rename')} />
      {device.ends_this_session ? <SignsOutHere id={`device-${device.id}-here`} text={devicesText(t, 'devices.signs_out_here')} /> : null}
      <SignOutButton
        class="revoke-device"
        data={{ 'data-device-id': device.id, 'data-signs-out-here': String(device.ends_this_session), ...(device.ends_this_session ? { 'data-describedby': `device-${device.id}-here` } : {}) }}
        label={devicesText(t, 'devices.revoke_label', { name: device.name })}
        text={devicesText(t, 'devices.revoke')}
      />
    </li>
  );
}

function SessionEntry({ session, t, locale }: { session: SessionView; t: Translate; locale: Locale }) {
  const current = session.current ? 'true' : 'false';
  return (
    <li id={`session-${session.id}`} data-session-id={session.id} data-current={current}>
      <strong title={session.user_agent ?? ''}>{session.platform}</strong>
      {session.current ? <em> ({devicesText(t, 'sessions.this_session')})</em> : null}
      <SignInFacts t={t} locale={locale} labels={SESSION_FACTS} signedInAt={session.signed_in_at} lastActiveAt={session.last_seen_at} ip={session.ip} methods={session.sign_in_methods} />
      {session.current ? <SignsOutHere id={`session-${session.id}-here`} text={devicesText(t, 'sessions.signs_out_here')} /> : null}
      <SignOutButton
        class="revoke-session"
        data={{ 'data-session-id': session.id, 'data-current': current, ...(session.current ? { 'data-describedby': `session-${session.id}-here` } : {}) }}
        label={devicesText(t, 'sessions.revoke_label', { platform: session.platform, ip: session.ip ?? '—' })}
        text={devicesText(t, 'sessions.revoke')}
      />
    </li>
  );
}

function SignInEntry({ signIn, t, locale }: { signIn: SignInView; t: Translate; locale: Locale }) {
  return (
    <li data-result={signIn.result}>
      {when(signIn.at, locale)} · {signIn.ip ?? devicesText(t, 'signins.unknown_ip')} · {signIn.method ?? devicesText(t, 'signins.unknown_method')} ·{' '}
      <strong>{devicesText(t, signIn.result === 'success' ? 'signins.success' : 'signins.failure')}</strong>
      {signIn.reason ? <small> ({signIn.reason})</small> : null}
    </li>
  );
}
