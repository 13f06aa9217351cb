import { TOTP_ERRORS, type TotpMessageKey } from '../totp/messages.js';
import { type Catalogue, messageLookup } from '../ui/i18n.js';

/** Texts of the password, re-authentication and password-enrollment pages (the authenticator-app texts they share: src/totp/messages.ts). */
const en = {
  'pwd.field.username': 'Username (e-mail address or employee ID)',
  'pwd.field.password': 'Password',
  'pwd.field.new_password': 'New password',
  'pwd.field.repeat_password': 'Repeat the password',
  'pwd.working': 'Please wait…',

  'pwd.err.invalid_credentials': 'The username, password or code is not right. Each code works only once: wait for the next one before trying again.',
  'pwd.err.password_too_short': 'The password is too short: use at least {min} characters.',
  'pwd.err.password_too_long': 'The password is too long: use at most 1,024 characters.',
  'pwd.err.password_blocklisted': 'This password is too common. Choose another one.',
  'pwd.err.password_contains_context': 'The password cannot contain your name, username, e-mail address or the word "Warta".',
  'pwd.err.password_mismatch': 'The two passwords differ.',
  'pwd.err.invitation': 'This invitation link cannot be used any more. Ask your administrator for a new one.',
  'pwd.err.account_disabled': 'Your account has been disabled by an administrator, so you cannot sign in. Contact your administrator or the recovery desk.',

  'pwd.signin.title': 'Sign in with a password',
  'pwd.signin.intro': 'Enter your username, your password and the code your authenticator app shows now.',
  'pwd.signin.passkey_note': 'Administrators and recovery officers always sign in with a passkey.',
  'pwd.signin.use_passkey': 'Sign in with a passkey instead',
  'pwd.signin.submit': 'Sign in',

  'pwd.account.title': 'Password',
  'pwd.account.status_set': 'You have a password, last changed {date}.',
  'pwd.account.status_none': 'You have no password.',
  'pwd.account.rules': 'At least {min} characters. A long phrase is best; no special characters are required. Common passwords and passwords containing your name are refused.',
  'pwd.account.needs_totp': 'A password only works together with an authenticator app.',
  'pwd.account.change_note': 'Changing the password signs you out on your other devices.',
  'pwd.account.set': 'Set password',
  'pwd.account.change': 'Change password',
  'pwd.account.remove': 'Remove password',
  'pwd.account.remove_confirm': 'Remove your password? You will no longer be able to sign in with it.',
  'pwd.account.saved': 'Your password is saved.',
  'pwd.account.not_allowed': 'Your organisation or role does not allow passwords: sign in with a passkey.',

  'pwd.reauth.title': 'Confirm it is you',
  'pwd.reauth.intro': 'Changing how you sign in needs a fresh confirmation (valid for 5 minutes).',
  'pwd.reauth.submit': 'Confirm',
  'pwd.reauth.passkey': 'Confirm with a passkey',
  'pwd.reauth.nothing': 'You have no way to confirm it is you here: sign out and sign in again.',

  'pwd.enroll.title': 'Create your account with a password',
  'pwd.enroll.intro': 'Use this only if you cannot use a passkey: a passkey protects you better against phishing.',
  'pwd.enroll.loading': 'Checking your invitation…',
  'pwd.enroll.no_token': 'Open this page from the link in your invitation.',
  'pwd.enroll.for': 'Invitation for',
  'pwd.enroll.username': 'Your username',
  'pwd.enroll.step_password': '1. Choose a password',
  'pwd.enroll.step_app': '2. Set up your authenticator app',
  'pwd.enroll.submit': 'Create my account',
} as const;

type PasswordMessageKey = keyof typeof en;

const pl = {
  'pwd.field.username': 'Nazwa użytkownika (adres e-mail lub numer służbowy)',
  'pwd.field.password': 'Hasło',
  'pwd.field.new_password': 'Nowe hasło',
  'pwd.field.repeat_password': 'Powtórz hasło',
  'pwd.working': 'Proszę czekać…',

  'pwd.err.invalid_credentials': 'Nazwa użytkownika, hasło lub kod są nieprawidłowe. Każdy kod działa tylko raz: przed ponowną próbą poczekaj na następny.',
  'pwd.err.password_too_short': 'Hasło jest za krótkie: użyj co najmniej {min} znaków.',
  'pwd.err.password_too_long': 'Hasło jest za długie: użyj najwyżej 1024 znaków.',
  'pwd.err.password_blocklisted': 'To hasło jest zbyt popularne. Wybierz inne.',
  'pwd.err.password_contains_context': 'Hasło nie może zawierać Twojego imienia, nazwiska, nazwy użytkownika, adresu e-mail ani słowa „Warta”.',
  'pwd.err.password_mismatch': 'Podane hasła się różnią.',
  'pwd.err.invitation': 'Tego zaproszenia nie można już użyć. Poproś administratora o nowe.',
  'pwd.err.account_disabled': 'Twoje konto zostało wyłączone przez administratora, więc nie możesz się zalogować. Skontaktuj się z administratorem lub punktem odzyskiwania dostępu.',

  'pwd.signin.title': 'Logowanie hasłem',
  'pwd.signin.intro': 'Wpisz nazwę użytkownika, hasło i kod, który teraz pokazuje aplikacja uwierzytelniająca.',
  'pwd.signin.passkey_note': 'Administratorzy i urzędnicy ds. odzyskiwania kont zawsze logują się kluczem dostępu.',
  'pwd.signin.use_passkey': 'Zaloguj się kluczem dostępu',
  'pwd.signin.submit': 'Zaloguj się',

  'pwd.account.title': 'Hasło',
  'pwd.account.status_set': 'Masz hasło, ostatnio zmienione {date}.',
  'pwd.account.status_none': 'Nie masz hasła.',
  'pwd.account.rules': 'Co najmniej {min} znaków. Najlepsza jest długa fraza; znaki specjalne nie są wymagane. Popularne hasła i hasła zawierające Twoje imię lub nazwisko są odrzucane.',
  'pwd.account.needs_totp': 'Hasło działa tylko razem z aplikacją uwierzytelniającą.',
  'pwd.account.change_note': 'Zmiana hasła wyloguje Cię na pozostałych urządzeniach.',
  'pwd.account.set': 'Ustaw hasło',
  'pwd.account.change': 'Zmień hasło',
  'pwd.account.remove': 'Usuń hasło',
  'pwd.account.remove_confirm': 'Usunąć hasło? Nie będzie można już się nim zalogować.',
  'pwd.account.saved': 'Hasło zostało zapisane.',
  'pwd.account.not_allowed': 'Twoja organizacja lub rola nie pozwala na hasła: zaloguj się kluczem dostępu.',

  'pwd.reauth.title': 'Potwierdź, że to Ty',
  'pwd.reauth.intro': 'Zmiana sposobu logowania wymaga ponownego potwierdzenia (ważnego przez 5 minut).',
  'pwd.reauth.submit': 'Potwierdź',
  'pwd.reauth.passkey': 'Potwierdź kluczem dostępu',
  'pwd.reauth.nothing': 'Nie możesz tu potwierdzić swojej tożsamości: wyloguj się i zaloguj ponownie.',

  'pwd.enroll.title': 'Utwórz konto z hasłem',
  'pwd.enroll.intro': 'Użyj tej opcji tylko, jeśli nie możesz użyć klucza dostępu: klucz dostępu lepiej chroni przed phishingiem.',
  'pwd.enroll.loading': 'Sprawdzanie zaproszenia…',
  'pwd.enroll.no_token': 'Otwórz tę stronę z linku w zaproszeniu.',
  'pwd.enroll.for': 'Zaproszenie dla',
  'pwd.enroll.username': 'Twoja nazwa użytkownika',
  'pwd.enroll.step_password': '1. Wybierz hasło',
  'pwd.enroll.step_app': '2. Skonfiguruj aplikację uwierzytelniającą',
  'pwd.enroll.submit': 'Utwórz konto',
} satisfies Record<PasswordMessageKey, string>;

export const passwordMessages = { en, pl } satisfies Catalogue<PasswordMessageKey>;

/** `t` for this module's keys and the authenticator-app keys its pages share (the shared MessageKey type only knows the core catalogue). */
export const pt = messageLookup<PasswordMessageKey | TotpMessageKey>();

/** API error codes the pages' script translates; anything else shows `pwd.err.generic`. */
export const TRANSLATED_ERRORS: Record<string, PasswordMessageKey | TotpMessageKey> = {
  ...TOTP_ERRORS,
  invalid_credentials: 'pwd.err.invalid_credentials',
  account_disabled: 'pwd.err.account_disabled',
  password_too_short: 'pwd.err.password_too_short',
  password_too_long: 'pwd.err.password_too_long',
  password_blocklisted: 'pwd.err.password_blocklisted',
  password_contains_context: 'pwd.err.password_contains_context',
  password_mismatch: 'pwd.err.password_mismatch',
  invitation_not_found: 'pwd.err.invitation',
  invitation_used: 'pwd.err.invitation',
  invitation_expired: 'pwd.err.invitation',
  invitation_revoked: 'pwd.err.invitation',
};
