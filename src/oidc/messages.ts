/** Texts of the provider's pages: consent, logout confirmation, and errors that must not go back to a client. */
import { type Catalogue, messageLookup } from '../ui/i18n.js';

const en = {
  'oidc.error.title': 'Cannot continue',
  'oidc.error.lead': 'The application that sent you here made a request Warta cannot accept. Nothing was shared with it.',
  'oidc.error.detail': 'Details for the application’s administrator: {detail}',
  'oidc.consent.title': 'Allow access?',
  'oidc.consent.lead': '{client} asks to use your Warta account.',
  'oidc.consent.scopes': 'It will receive:',
  'oidc.consent.return_to': 'Afterwards you return to {target}.',
  'oidc.consent.allow': 'Allow',
  'oidc.consent.deny': 'Deny',
  'oidc.scope.openid': 'Confirmation that you are signed in, and how you signed in',
  'oidc.scope.profile': 'Your name, username, organisation and roles',
  'oidc.scope.email': 'Your e-mail address',
  'oidc.scope.offline_access': 'Access that continues while you are not signed in',
  'oidc.scope.warta:account': 'See and sign out your devices and browser sessions, with their addresses and recent sign-ins (warta:account)',
  'oidc.scope.other': 'Permission “{scope}”',
  'oidc.scope.groups': 'The groups of your organisation you belong to (department, unit …)',
  'oidc.scope.attribute': 'Your “{name}”, as your organisation records it',
  'oidc.consent.claims': 'as: {claims}',
  'oidc.logout.title': 'Sign out?',
  'oidc.logout.lead': 'Do you want to sign out of Warta? You will be signed out of the applications you used through it.',
  'oidc.logout.from': 'The request came from {client}.',
  'oidc.logout.confirm': 'Sign out',
  'oidc.logout.cancel': 'Stay signed in',
  'oidc.logout.done.title': 'Signed out',
  'oidc.logout.done.lead': 'You are signed out of Warta. You may close this window.',
} as const;

export type OidcMessageKey = keyof typeof en;

const pl: Record<OidcMessageKey, string> = {
  'oidc.error.title': 'Nie można kontynuować',
  'oidc.error.lead': 'Aplikacja, która Cię tu skierowała, wysłała żądanie, którego Warta nie może przyjąć. Nic jej nie przekazano.',
  'oidc.error.detail': 'Szczegóły dla administratora aplikacji: {detail}',
  'oidc.consent.title': 'Zezwolić na dostęp?',
  'oidc.consent.lead': '{client} prosi o dostęp do Twojego konta Warta.',
  'oidc.consent.scopes': 'Otrzyma:',
  'oidc.consent.return_to': 'Następnie wrócisz do {target}.',
  'oidc.consent.allow': 'Zezwól',
  'oidc.consent.deny': 'Odmów',
  'oidc.scope.openid': 'Potwierdzenie, że jesteś zalogowany(-a), i sposób logowania',
  'oidc.scope.profile': 'Twoje imię i nazwisko, nazwę użytkownika, organizację i role',
  'oidc.scope.email': 'Twój adres e-mail',
  'oidc.scope.offline_access': 'Dostęp trwający także wtedy, gdy nie jesteś zalogowany(-a)',
  'oidc.scope.warta:account': 'Podgląd i wylogowanie Twoich urządzeń i sesji przeglądarki, z ich adresami i ostatnimi logowaniami (warta:account)',
  'oidc.scope.other': 'Uprawnienie „{scope}”',
  'oidc.scope.groups': 'Grupy Twojej organizacji, do których należysz (departament, wydział …)',
  'oidc.scope.attribute': 'Twój atrybut „{name}”, tak jak zapisała go Twoja organizacja',
  'oidc.consent.claims': 'jako: {claims}',
  'oidc.logout.title': 'Wylogować?',
  'oidc.logout.lead': 'Czy chcesz wylogować się z Warty? Zostaniesz wylogowany(-a) z aplikacji, z których korzystasz przez Wartę.',
  'oidc.logout.from': 'Żądanie pochodzi od {client}.',
  'oidc.logout.confirm': 'Wyloguj',
  'oidc.logout.cancel': 'Pozostań zalogowany(-a)',
  'oidc.logout.done.title': 'Wylogowano',
  'oidc.logout.done.lead': 'Wylogowano Cię z Warty. Możesz zamknąć to okno.',
};

export const oidcMessages = { en, pl } satisfies Catalogue<OidcMessageKey>;

export const tr = messageLookup<OidcMessageKey>();
