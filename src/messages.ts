/**
 * Every capability's messages, composed in one place. The pages render them
 * through ui/, which cannot import the capabilities (they import ui/), so the
 * app hands the composed catalogue over (`messageCatalogue` in app.ts).
 */
import { accountMessages } from './account/messages.js';
import { adminMessages } from './admin/messages.js';
import { devicesMessages } from './devices/messages.js';
import { oidcMessages } from './oidc/messages.js';
import { passwordMessages } from './passwords/messages.js';
import { recoveryMessages } from './recovery/messages.js';
import { setupMessages } from './setup/messages.js';
import { totpMessages } from './totp/messages.js';
import { type Catalogue, composeCatalogues, layoutMessages } from './ui/i18n.js';
import { passkeyMessages } from './webauthn/messages.js';

export const catalogues = {
  layout: layoutMessages,
  passkeys: passkeyMessages,
  account: accountMessages,
  devices: devicesMessages,
  passwords: passwordMessages,
  totp: totpMessages,
  oidc: oidcMessages,
  recovery: recoveryMessages,
  admin: adminMessages,
  setup: setupMessages,
} satisfies Record<string, Catalogue>;

export const appMessages = composeCatalogues(Object.values(catalogues));
