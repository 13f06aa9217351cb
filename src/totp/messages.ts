import { type Catalogue, messageLookup } from '../ui/i18n.js';

/**
 * Texts of the authenticator-app pages and of the parts the password pages
 * share with them (the code field, the set-up panel, the errors of both).
 */
const en = {
  'pwd.field.code': 'Code from your authenticator app',
  'pwd.back': 'Back to your account',

  'pwd.err.too_many_attempts': 'Too many failed attempts. Wait a while, then try again.',
  'pwd.err.passkey_required': 'Your account must sign in with a passkey.',
  'pwd.err.invalid_code_format': 'Enter the code from your authenticator app: digits only.',
  'pwd.err.invalid_code': 'That code is not right. Check that the time on your phone is correct and enter the current code.',
  'pwd.err.reauthentication_required': 'Confirm it is you first.',
  'pwd.err.totp_setup_expired': 'The set-up took too long. Start again to get a new QR code.',
  'pwd.err.totp_setup_missing': 'Start the set-up again.',
  'pwd.err.last_sign_in_method': 'Add a passkey first: without one you could not sign in any more.',
  'pwd.err.generic': 'Something went wrong. Try again.',

  'pwd.totp.title': 'Authenticator app',
  'pwd.totp.status_active': 'Set up {date}; last used {used}.',
  'pwd.totp.status_none': 'No authenticator app is set up.',
  'pwd.totp.setup': 'Set up an authenticator app',
  'pwd.totp.replace': 'Replace with a new app',
  'pwd.totp.replace_note': 'The current app keeps working until you confirm the new one.',
  'pwd.totp.step_scan': 'Scan this QR code with your authenticator app (for example Aegis, FreeOTP, Google Authenticator or Microsoft Authenticator).',
  'pwd.totp.qr_alt': 'QR code holding the key for your authenticator app',
  'pwd.totp.step_type': 'Cannot scan it? Type this key into the app instead:',
  'pwd.totp.uri': 'Key as a link (otpauth URI)',
  'pwd.totp.step_confirm': 'To finish, enter the code the app shows now:',
  'pwd.totp.confirm': 'Confirm',
  'pwd.totp.remove': 'Remove the authenticator app',
  'pwd.totp.remove_confirm': 'Remove the authenticator app? Signing in with your password will stop working.',
  'pwd.totp.done': 'Your authenticator app is set up.',
  'pwd.totp.not_allowed': 'Your organisation or role does not allow authenticator apps: sign in with a passkey.',
  'pwd.totp.never': 'never',
} as const;

export type TotpMessageKey = keyof typeof en;

const pl = {
  'pwd.field.code': 'Kod z aplikacji uwierzytelniającej',
  'pwd.back': 'Wróć do konta',

  'pwd.err.too_many_attempts': 'Zbyt wiele nieudanych prób. Odczekaj chwilę i spróbuj ponownie.',
  'pwd.err.passkey_required': 'Twoje konto musi logować się kluczem dostępu (passkey).',
  'pwd.err.invalid_code_format': 'Wpisz kod z aplikacji uwierzytelniającej: same cyfry.',
  'pwd.err.invalid_code': 'Ten kod jest nieprawidłowy. Sprawdź, czy czas w telefonie jest poprawny, i wpisz aktualny kod.',
  'pwd.err.reauthentication_required': 'Najpierw potwierdź, że to Ty.',
  'pwd.err.totp_setup_expired': 'Konfiguracja trwała zbyt długo. Zacznij od nowa, aby otrzymać nowy kod QR.',
  'pwd.err.totp_setup_missing': 'Zacznij konfigurację od nowa.',
  'pwd.err.last_sign_in_method': 'Najpierw dodaj klucz dostępu: bez niego nie można by się już zalogować.',
  'pwd.err.generic': 'Coś poszło nie tak. Spróbuj ponownie.',

  'pwd.totp.title': 'Aplikacja uwierzytelniająca',
  'pwd.totp.status_active': 'Skonfigurowana {date}; ostatnio użyta {used}.',
  'pwd.totp.status_none': 'Nie skonfigurowano aplikacji uwierzytelniającej.',
  'pwd.totp.setup': 'Skonfiguruj aplikację uwierzytelniającą',
  'pwd.totp.replace': 'Zastąp nową aplikacją',
  'pwd.totp.replace_note': 'Obecna aplikacja działa, dopóki nie potwierdzisz nowej.',
  'pwd.totp.step_scan': 'Zeskanuj ten kod QR w aplikacji uwierzytelniającej (np. Aegis, FreeOTP, Google Authenticator lub Microsoft Authenticator).',
  'pwd.totp.qr_alt': 'Kod QR z kluczem dla aplikacji uwierzytelniającej',
  'pwd.totp.step_type': 'Nie możesz zeskanować? Wpisz w aplikacji ten klucz:',
  'pwd.totp.uri': 'Klucz jako link (otpauth URI)',
  'pwd.totp.step_confirm': 'Na koniec wpisz kod, który teraz pokazuje aplikacja:',
  'pwd.totp.confirm': 'Potwierdź',
  'pwd.totp.remove': 'Usuń aplikację uwierzytelniającą',
  'pwd.totp.remove_confirm': 'Usunąć aplikację uwierzytelniającą? Logowanie hasłem przestanie działać.',
  'pwd.totp.done': 'Aplikacja uwierzytelniająca jest skonfigurowana.',
  'pwd.totp.not_allowed': 'Twoja organizacja lub rola nie pozwala na aplikacje uwierzytelniające: zaloguj się kluczem dostępu.',
  'pwd.totp.never': 'nigdy',
} satisfies Record<TotpMessageKey, string>;

export const totpMessages = { en, pl } satisfies Catalogue<TotpMessageKey>;

/** `t` for the authenticator-app keys. */
export const tt = messageLookup<TotpMessageKey>();

/** API error codes the authenticator-app pages' script translates; anything else shows `pwd.err.generic`. */
export const TOTP_ERRORS: Record<string, TotpMessageKey> = {
  too_many_attempts: 'pwd.err.too_many_attempts',
  passkey_required: 'pwd.err.passkey_required',
  invalid_code_format: 'pwd.err.invalid_code_format',
  invalid_code: 'pwd.err.invalid_code',
  reauthentication_required: 'pwd.err.reauthentication_required',
  totp_setup_expired: 'pwd.err.totp_setup_expired',
  totp_setup_missing: 'pwd.err.totp_setup_missing',
  last_sign_in_method: 'pwd.err.last_sign_in_method',
  generic: 'pwd.err.generic',
};
