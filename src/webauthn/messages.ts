import { addMessages, type MessageKey, type Translate } from '../ui/i18n.js';

/**
 * Registers a capability's messages in both languages and returns a typed
 * look-up for them (the shared `Translate` only knows the layout's own keys).
 */
export function catalogue<K extends string>(messages: { en: Record<K, string>; pl: Record<K, string> }) {
  addMessages(messages);
  return (t: Translate, key: K, params?: Record<string, string>): string => t(key as unknown as MessageKey, params);
}

const en = {
  'signin.title': 'Sign in',
  'signin.intro': 'Sign in with the passkey on this device, on your phone, or on your security key.',
  'signin.passkey_button': 'Sign in with a passkey',
  'signin.username_label': 'Username (e-mail or employee number)',
  'signin.username_hint': 'Optional: enter it if your passkey is not offered automatically.',
  'signin.continue': 'Continue with a passkey',
  'signin.password_link': 'Sign in with a password and a one-time code instead',
  'signin.working': 'Follow the instructions of your browser or security key…',
  'signin.done': 'Signed in.',
  'js.required': 'Passkeys need JavaScript: please enable it for this site.',
  'enroll.title': 'Set up your passkey',
  'enroll.checking': 'Checking your invitation…',
  'enroll.for': 'This invitation is for {name} ({organisation}).',
  'enroll.no_token': 'This page needs the full invitation link. Open the link from your invitation again.',
  'enroll.what_title': 'What happens now',
  'enroll.step1': 'Your device or security key creates a passkey: a key that works only on {origin}, so a fake website cannot use it.',
  'enroll.step2': 'You confirm with your fingerprint, face, PIN or security key.',
  'enroll.step3': 'The secret part never leaves your device. Warta stores only the public part.',
  'enroll.name_label': 'Name for this passkey (optional)',
  'enroll.name_hint': 'For example “YubiKey 5 — desk” or “Work phone”.',
  'enroll.create': 'Create my passkey',
  'enroll.done': 'Your passkey is ready. Taking you to your account…',
  'error.cancelled': 'The passkey prompt was cancelled or timed out. Try again when you are ready.',
  'error.exists': 'This device or key already holds a passkey for your account.',
  'error.credential_blocked': 'This passkey has been blocked because it may have been copied. Contact the recovery desk to restore access.',
  'error.credential_unknown': 'This passkey is not registered with Warta. Try another one, or contact the recovery desk.',
  'error.credential_revoked': 'This passkey was removed from your account. Use another one, or contact the recovery desk.',
  'error.expired': 'That took too long. Please try again.',
  'error.too_many_attempts': 'Too many failed attempts. Wait a little and try again.',
  'error.user_verification_required': 'Your device did not confirm it was you (PIN or biometric). Use a device or key that can.',
  'error.invitation_used': 'This invitation has already been used. If that was not you, contact the recovery desk at once.',
  'error.invitation_expired': 'This invitation has expired. Ask your administrator for a new one.',
  'error.invitation_revoked': 'This invitation was withdrawn. Ask your administrator for a new one.',
  'error.invitation_not_found': 'This invitation link is not valid. Check that you opened the whole link.',
  'error.attestation': 'Your organisation accepts only approved security keys, and this one is not on its list.',
  'error.generic': 'Something went wrong. Please try again; if it keeps happening, contact the recovery desk.',
};

const pl = {
  'signin.title': 'Logowanie',
  'signin.intro': 'Zaloguj się kluczem dostępu z tego urządzenia, z telefonu lub z klucza sprzętowego.',
  'signin.passkey_button': 'Zaloguj się kluczem dostępu',
  'signin.username_label': 'Nazwa użytkownika (e-mail lub numer pracownika)',
  'signin.username_hint': 'Opcjonalnie: wpisz ją, jeśli klucz dostępu nie pojawia się sam.',
  'signin.continue': 'Dalej z kluczem dostępu',
  'signin.password_link': 'Zaloguj się zamiast tego hasłem i kodem jednorazowym',
  'signin.working': 'Postępuj zgodnie z instrukcjami przeglądarki lub klucza sprzętowego…',
  'signin.done': 'Zalogowano.',
  'js.required': 'Klucze dostępu wymagają JavaScriptu: włącz go dla tej strony.',
  'enroll.title': 'Utwórz klucz dostępu',
  'enroll.checking': 'Sprawdzamy Twoje zaproszenie…',
  'enroll.for': 'To zaproszenie jest dla: {name} ({organisation}).',
  'enroll.no_token': 'Ta strona potrzebuje pełnego linku z zaproszenia. Otwórz go ponownie.',
  'enroll.what_title': 'Co się teraz stanie',
  'enroll.step1': 'Twoje urządzenie lub klucz sprzętowy utworzy klucz dostępu, który działa tylko na {origin}, więc fałszywa strona nie może go użyć.',
  'enroll.step2': 'Potwierdzisz to odciskiem palca, twarzą, kodem PIN lub kluczem sprzętowym.',
  'enroll.step3': 'Tajna część nigdy nie opuszcza Twojego urządzenia. Warta przechowuje tylko część publiczną.',
  'enroll.name_label': 'Nazwa tego klucza dostępu (opcjonalnie)',
  'enroll.name_hint': 'Na przykład „YubiKey 5 — biurko” albo „Telefon służbowy”.',
  'enroll.create': 'Utwórz mój klucz dostępu',
  'enroll.done': 'Klucz dostępu jest gotowy. Przechodzimy do Twojego konta…',
  'error.cancelled': 'Okno klucza dostępu zostało zamknięte lub minął czas. Spróbuj ponownie, gdy będziesz gotów.',
  'error.exists': 'To urządzenie lub klucz ma już klucz dostępu do Twojego konta.',
  'error.credential_blocked': 'Ten klucz dostępu został zablokowany, bo mógł zostać skopiowany. Skontaktuj się z punktem odzyskiwania dostępu.',
  'error.credential_unknown': 'Ten klucz dostępu nie jest zarejestrowany w Warcie. Użyj innego lub skontaktuj się z punktem odzyskiwania dostępu.',
  'error.credential_revoked': 'Ten klucz dostępu został usunięty z Twojego konta. Użyj innego lub skontaktuj się z punktem odzyskiwania dostępu.',
  'error.expired': 'Trwało to zbyt długo. Spróbuj ponownie.',
  'error.too_many_attempts': 'Zbyt wiele nieudanych prób. Odczekaj chwilę i spróbuj ponownie.',
  'error.user_verification_required': 'Urządzenie nie potwierdziło, że to Ty (PIN lub biometria). Użyj urządzenia lub klucza, które to potrafi.',
  'error.invitation_used': 'To zaproszenie zostało już wykorzystane. Jeśli to nie Ty, natychmiast skontaktuj się z punktem odzyskiwania dostępu.',
  'error.invitation_expired': 'To zaproszenie wygasło. Poproś administratora o nowe.',
  'error.invitation_revoked': 'To zaproszenie zostało wycofane. Poproś administratora o nowe.',
  'error.invitation_not_found': 'Ten link z zaproszenia jest nieprawidłowy. Sprawdź, czy otwarto cały link.',
  'error.attestation': 'Twoja organizacja przyjmuje tylko zatwierdzone klucze sprzętowe, a tego nie ma na jej liście.',
  'error.generic': 'Coś poszło nie tak. Spróbuj ponownie; jeśli to się powtarza, skontaktuj się z punktem odzyskiwania dostępu.',
} satisfies Record<keyof typeof en, string>;

export const passkeyText = catalogue({ en, pl });
export type PasskeyMessage = keyof typeof en;

/**
 * Messages the page scripts show for WebAuthn DOM errors and Warta error codes,
 * handed to them in a data- attribute (no inline scripts under the CSP).
 */
export function clientMessages(t: Translate): Record<string, string> {
  const m = (key: PasskeyMessage) => passkeyText(t, key);
  return {
    NotAllowedError: m('error.cancelled'),
    AbortError: m('error.cancelled'),
    InvalidStateError: m('error.exists'),
    credential_exists: m('error.exists'),
    credential_blocked: m('error.credential_blocked'),
    credential_unknown: m('error.credential_unknown'),
    credential_revoked: m('error.credential_revoked'),
    challenge_expired: m('error.expired'),
    challenge_used: m('error.expired'),
    challenge_unknown: m('error.expired'),
    too_many_attempts: m('error.too_many_attempts'),
    user_verification_required: m('error.user_verification_required'),
    invitation_used: m('error.invitation_used'),
    invitation_expired: m('error.invitation_expired'),
    invitation_revoked: m('error.invitation_revoked'),
    invitation_not_found: m('error.invitation_not_found'),
    aaguid_not_allowed: m('error.attestation'),
    attestation_required: m('error.attestation'),
    attestation_untrusted: m('error.attestation'),
    authenticator_revoked: m('error.attestation'),
    generic: m('error.generic'),
    working: m('signin.working'),
  };
}
