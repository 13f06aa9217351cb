import type { Translate } from '../ui/i18n.js';
import { ErrorList } from '../ui/forms.js';
import { pt, TRANSLATED_ERRORS } from './messages.js';
import { minimumLength } from './service.js';

/** Translated API errors, read by the page script (no inline script: the CSP forbids it). */
export function ErrorMessages({ t }: { t: Translate }) {
  const min = String(minimumLength());
  return <ErrorList errors={Object.entries(TRANSLATED_ERRORS).map(([code, key]) => [code, pt(t, key, { min })])} />;
}

export function PasswordField({ t, name, label, autocomplete }: { t: Translate; name: string; label: 'pwd.field.password' | 'pwd.field.new_password' | 'pwd.field.repeat_password'; autocomplete: 'current-password' | 'new-password' }) {
  return (
    <>
      <label for={name}>{pt(t, label)}</label>
      <input id={name} name={name} type="password" autocomplete={autocomplete} required maxlength={1024} />
    </>
  );
}
