import type { Locale } from '../ui/i18n.js';
import type { RecentSecurityEvent } from './recent.js';
import type { CredentialType } from './types.js';

export interface SecurityEventBannerProps {
  /** From `recentSecurityEvents`, newest first. */
  events: RecentSecurityEvent[];
  locale: Locale;
  /** Where "Not you? Revoke" leads for an event (the account page owns those routes); without it the user is told to alert their administrator. */
  revokeHref?: (event: RecentSecurityEvent) => string | undefined;
  /** IANA time zone the dates are shown in; default UTC (said so next to each date). */
  timeZone?: string;
}

interface BannerText {
  heading: string;
  notYou: string;
  revoke: string;
  tellAdmin: string;
  from: (ip: string) => string;
  credential: Record<CredentialType, string>;
  sentence: (event: RecentSecurityEvent, at: string, from: string, credential: string, name: string) => string;
}

const domainList = (domains: unknown, none: string) => (Array.isArray(domains) && domains.length ? domains.join(', ') : none);

const quoted = (name: string, locale: Locale) => (name ? (locale === 'pl' ? ` „${name}”` : ` “${name}”`) : '');

const TEXT: Record<Locale, BannerText> = {
  en: {
    heading: 'Recent security events',
    notYou: 'Not you?',
    revoke: 'Revoke',
    tellAdmin: 'Tell your administrator straight away.',
    from: (ip) => ` from ${ip}`,
    credential: { 'fido2-platform': 'Passkey', 'fido2-roaming': 'Security key', app: 'Authenticator app', password: 'Password' },
    sentence(event, at, from, credential, name) {
      switch (event.type) {
        case 'device_linked':
          return `New device${name} linked on ${at}${from}.`;
        case 'credential_change': {
          const verb = { create: 'added', update: 'changed', revoke: 'removed', delete: 'removed' }[String(event.details.changeType)] ?? 'changed';
          return `${credential}${name} ${verb} on ${at}${from}.`;
        }
        case 'session_revoked':
          return `A session was signed out on ${at}${from}.`;
        case 'sessions_revoked':
          return `All your sessions were signed out on ${at}.`;
        case 'account_disabled':
          return `Your account was disabled on ${at}.`;
        case 'account_enabled':
          return `Your account was enabled again on ${at}.`;
        case 'recovery_opened':
          return `An account recovery case was opened on ${at}.`;
        case 'recovery_approved':
          return `An account recovery was approved on ${at}.`;
        case 'recovery_rejected':
          return `An account recovery was rejected on ${at}.`;
        case 'recovery_disputed':
          return `An account recovery was disputed from a signed-in device on ${at}; an officer will resolve it in person.`;
        case 'recovery_expired':
          return `An account recovery expired unused on ${at}.`;
        case 'account_recovered':
          return `Your account was recovered with a new sign-in method on ${at}${from}.`;
        case 'role_granted':
          return `${String(event.details.displayName)} was given the ${String(event.details.role)} role on ${at}.`;
        case 'role_revoked':
          return `Your ${String(event.details.role)} role was taken away on ${at}.`;
        case 'client_changed': {
          const client = `“${String(event.details.clientName)}”`;
          const what =
            { registered: `registered the application ${client} for your organisation`, updated: `changed the settings of the application ${client}`, assigned: `assigned the application ${client} to your organisation`, unassigned: `moved the application ${client} out of your organisation`, secret_rotated: `replaced the secret of the application ${client}`, deleted: `deleted the application ${client}`, suspended: `suspended the application ${client} (its sign-ins and tokens stopped)`, resumed: `resumed the application ${client}` }[String(event.details.change)] ??
            `changed the application ${client}`;
          return `The instance operator ${what} on ${at}.`;
        }
        case 'organisation_changed':
          if (event.details.change === 'privileged_person_removed')
            return `${typeof event.details.changedBy === 'string' ? `The admin ${event.details.changedBy}` : 'The instance operator'} ${event.details.status === 'offboarded' ? 'offboarded' : 'disabled'} ${String(event.details.personName)} (${domainList(event.details.roles, 'no role')}) on ${at}.`;
          if (event.details.change === 'role_revoked')
            return `${typeof event.details.changedBy === 'string' ? `The admin ${event.details.changedBy}` : 'The instance operator'} took the ${String(event.details.role)} role away from ${String(event.details.personName)} on ${at}.`;
          if (event.details.change === 'policy_set')
            return `${typeof event.details.changedBy === 'string' ? `The admin ${event.details.changedBy}` : 'The instance operator'} changed your organisation's sign-in policy (${domainList(event.details.members, 'no setting')}) on ${at}.`;
          return event.details.change === 'officer_cooldown_waived'
            ? `The instance operator let the new recovery officer ${String(event.details.officerName)} act on cases at once, without the usual waiting period, on ${at}.`
            : `The instance operator set the e-mail domains your organisation invites into to ${domainList(event.details.domains, 'none')} on ${at}.`;
        case 'signing_key_withdrawn':
          return `Warta's signing key was replaced in an emergency on ${at}.`;
      }
    },
  },
  pl: {
    heading: 'Ostatnie zdarzenia bezpieczeństwa',
    notYou: 'To nie Ty?',
    revoke: 'Odwołaj',
    tellAdmin: 'Natychmiast powiadom administratora.',
    from: (ip) => ` z adresu ${ip}`,
    credential: { 'fido2-platform': 'Klucz dostępu', 'fido2-roaming': 'Klucz bezpieczeństwa', app: 'Aplikacja uwierzytelniająca', password: 'Hasło' },
    sentence(event, at, from, credential, name) {
      switch (event.type) {
        case 'device_linked':
          return `Nowe urządzenie${name} połączono ${at}${from}.`;
        case 'credential_change': {
          const verb = { create: 'dodano', update: 'zmieniono', revoke: 'usunięto', delete: 'usunięto' }[String(event.details.changeType)] ?? 'zmieniono';
          return `${credential}${name}: ${verb} ${at}${from}.`;
        }
        case 'session_revoked':
          return `Sesję wylogowano ${at}${from}.`;
        case 'sessions_revoked':
          return `Wszystkie Twoje sesje wylogowano ${at}.`;
        case 'account_disabled':
          return `Twoje konto zablokowano ${at}.`;
        case 'account_enabled':
          return `Twoje konto odblokowano ${at}.`;
        case 'recovery_opened':
          return `Otwarto sprawę odzyskania konta ${at}.`;
        case 'recovery_approved':
          return `Zatwierdzono odzyskanie konta ${at}.`;
        case 'recovery_rejected':
          return `Odrzucono odzyskanie konta ${at}.`;
        case 'recovery_disputed':
          return `Odzyskanie konta zakwestionowano z zalogowanego urządzenia ${at}; urzędnik rozstrzygnie to osobiście.`;
        case 'recovery_expired':
          return `Odzyskanie konta wygasło niewykorzystane ${at}.`;
        case 'account_recovered':
          return `Odzyskano Twoje konto z nową metodą logowania ${at}${from}.`;
        case 'role_granted':
          return `${String(event.details.displayName)}: nadano rolę ${String(event.details.role)} ${at}.`;
        case 'role_revoked':
          return `Odebrano Ci rolę ${String(event.details.role)} ${at}.`;
        case 'client_changed': {
          const client = `„${String(event.details.clientName)}”`;
          const what =
            { registered: `zarejestrował aplikację ${client} dla Twojej organizacji`, updated: `zmienił ustawienia aplikacji ${client}`, assigned: `przypisał aplikację ${client} do Twojej organizacji`, unassigned: `przeniósł aplikację ${client} poza Twoją organizację`, secret_rotated: `wymienił sekret aplikacji ${client}`, deleted: `usunął aplikację ${client}`, suspended: `zawiesił aplikację ${client} (jej logowania i tokeny przestały działać)`, resumed: `wznowił aplikację ${client}` }[String(event.details.change)] ??
            `zmienił aplikację ${client}`;
          return `Operator instancji ${what} ${at}.`;
        }
        case 'organisation_changed':
          if (event.details.change === 'privileged_person_removed')
            return `${typeof event.details.changedBy === 'string' ? `Administrator ${event.details.changedBy}` : 'Operator instancji'} ${event.details.status === 'offboarded' ? 'usunął z organizacji' : 'zablokował'} ${String(event.details.personName)} (${domainList(event.details.roles, 'brak roli')}) ${at}.`;
          if (event.details.change === 'role_revoked')
            return `${typeof event.details.changedBy === 'string' ? `Administrator ${event.details.changedBy}` : 'Operator instancji'} odebrał rolę ${String(event.details.role)} osobie ${String(event.details.personName)} ${at}.`;
          if (event.details.change === 'policy_set')
            return `${typeof event.details.changedBy === 'string' ? `Administrator ${event.details.changedBy}` : 'Operator instancji'} zmienił zasady logowania Twojej organizacji (${domainList(event.details.members, 'żadne ustawienie')}) ${at}.`;
          return event.details.change === 'officer_cooldown_waived'
            ? `Operator instancji pozwolił nowemu urzędnikowi ds. odzyskiwania ${String(event.details.officerName)} działać od razu, bez zwykłego okresu oczekiwania, ${at}.`
            : `Operator instancji ustawił domeny e-mail, do których Twoja organizacja zaprasza, na: ${domainList(event.details.domains, 'brak')} ${at}.`;
        case 'signing_key_withdrawn':
          return `Klucz podpisujący Warty wymieniono awaryjnie ${at}.`;
      }
    },
  },
};

/** Events the user would have done themselves: if they did not, someone else has their account. */
const ASK_NOT_YOU = new Set<RecentSecurityEvent['type']>(['device_linked', 'credential_change', 'recovery_opened', 'account_recovered']);

/**
 * The account page's banner of the last 14 days' security events ("New
 * device “Pixel 8” linked on … from … — Not you? Revoke"). Device and
 * credential names are user-chosen text; JSX escapes them.
 */
export function SecurityEventBanner(props: SecurityEventBannerProps) {
  if (!props.events.length) return null;
  const text = TEXT[props.locale];
  const timeZone = props.timeZone ?? 'UTC';
  const format = new Intl.DateTimeFormat(props.locale === 'pl' ? 'pl-PL' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone });
  const zoneSuffix = timeZone === 'UTC' ? ' UTC' : '';
  return (
    <section class="security-events" aria-labelledby="security-events-heading">
      <h2 id="security-events-heading">{text.heading}</h2>
      <ul>
        {props.events.map((event) => {
          const name = quoted(typeof event.details.friendlyName === 'string' ? event.details.friendlyName : typeof event.details.deviceName === 'string' ? event.details.deviceName : '', props.locale);
          const credential = text.credential[event.details.credentialType as CredentialType] ?? text.credential.password;
          const sentence = text.sentence(event, `${format.format(event.occurredAt)}${zoneSuffix}`, event.ip ? text.from(event.ip) : '', credential, name);
          const href = ASK_NOT_YOU.has(event.type) ? props.revokeHref?.(event) : undefined;
          return (
            <li data-event-type={event.type}>
              {sentence}
              {ASK_NOT_YOU.has(event.type) ? (
                <>
                  {' '}
                  <strong>{text.notYou}</strong> {href ? <a href={href}>{text.revoke}</a> : text.tellAdmin}
                </>
              ) : null}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
