import { type Catalogue, messageLookup } from '../ui/i18n.js';

const en = {
  'setup.title': 'Set up Warta',
  'setup.intro': 'Warta has no organisation yet. Name the first one and its first administrator; next you create the administrator’s passkey on this device or a security key.',
  'setup.no_token': 'This page needs the whole setup link Warta printed when it started. Open it again, or run `warta setup-link` on the server for a new one.',
  'setup.organisation_label': 'Organisation name',
  'setup.domains_label': 'E-mail domains of the organisation (optional)',
  'setup.domains_hint': 'Separated by commas, e.g. “example.gov, mail.example.gov”. Administrators may invite only these addresses. Left empty: the administrator’s own e-mail domain.',
  'setup.admin_title': 'The first administrator',
  'setup.admin_hint': 'This person also becomes the instance operator. Give an e-mail address or an employee id: it becomes the username.',
  'setup.name_label': 'Full name',
  'setup.email_label': 'E-mail address',
  'setup.employee_id_label': 'Employee id (if no e-mail address)',
  'setup.submit': 'Create the organisation and continue to the passkey',
  'setup.working': 'Creating the organisation…',
  'setup.done': 'Done. Taking you to create the administrator’s passkey…',
  'setup.signin_link': 'Sign in',
  'setup.error.setup_link_invalid': 'This setup link is not valid, or a newer one replaced it. Use the link Warta printed last, or run `warta setup-link` on the server.',
  'setup.error.setup_link_used': 'This setup link has already been used. If that was not you, check the organisation Warta now has.',
  'setup.error.setup_link_expired': 'This setup link has expired. Restart Warta or run `warta setup-link` on the server for a new one.',
  'setup.error.already_set_up': 'Warta is already set up: an organisation exists. Sign in instead.',
};

const pl = {
  'setup.title': 'Konfiguracja Warty',
  'setup.intro': 'Warta nie ma jeszcze żadnej organizacji. Podaj nazwę pierwszej i jej pierwszego administratora; potem utworzysz klucz dostępu administratora na tym urządzeniu lub kluczu sprzętowym.',
  'setup.no_token': 'Ta strona potrzebuje pełnego linku konfiguracyjnego, który Warta wypisała przy starcie. Otwórz go ponownie albo uruchom na serwerze `warta setup-link`, aby dostać nowy.',
  'setup.organisation_label': 'Nazwa organizacji',
  'setup.domains_label': 'Domeny e-mail organizacji (opcjonalnie)',
  'setup.domains_hint': 'Oddzielone przecinkami, np. „example.gov, mail.example.gov”. Administratorzy mogą zapraszać tylko te adresy. Puste: domena adresu administratora.',
  'setup.admin_title': 'Pierwszy administrator',
  'setup.admin_hint': 'Ta osoba zostaje też operatorem instancji. Podaj adres e-mail lub numer pracownika: stanie się nazwą użytkownika.',
  'setup.name_label': 'Imię i nazwisko',
  'setup.email_label': 'Adres e-mail',
  'setup.employee_id_label': 'Numer pracownika (jeśli brak adresu e-mail)',
  'setup.submit': 'Utwórz organizację i przejdź do klucza dostępu',
  'setup.working': 'Tworzymy organizację…',
  'setup.done': 'Gotowe. Przechodzimy do tworzenia klucza dostępu administratora…',
  'setup.signin_link': 'Zaloguj się',
  'setup.error.setup_link_invalid': 'Ten link konfiguracyjny jest nieprawidłowy albo zastąpił go nowszy. Użyj linku, który Warta wypisała ostatnio, albo uruchom na serwerze `warta setup-link`.',
  'setup.error.setup_link_used': 'Ten link konfiguracyjny został już użyty. Jeśli nie przez Ciebie, sprawdź, jaką organizację ma teraz Warta.',
  'setup.error.setup_link_expired': 'Ten link konfiguracyjny wygasł. Uruchom Wartę ponownie albo uruchom na serwerze `warta setup-link`, aby dostać nowy.',
  'setup.error.already_set_up': 'Warta jest już skonfigurowana: organizacja istnieje. Zaloguj się.',
} satisfies Record<keyof typeof en, string>;

/** The first-run setup page's messages. */
export const setupMessages = { en, pl } satisfies Catalogue<keyof typeof en>;
export const setupText = messageLookup<keyof typeof en>();
