import { issueSetupLinkOrRefuse, SETUP_LINK_TTL_SECONDS } from '../../setup/link.js';
import { defineCommand } from '../command.js';

/** The first-run setup link again (the one printed at start-up is lost, or expired): a new one voids the last. */
export const setupLinkCommand = defineCommand({
  path: ['setup-link'],
  summary: `print a new first-run setup link (single use, valid ${SETUP_LINK_TTL_SECONDS / 60} minutes; the previous one stops working); refused once an organisation exists`,
  flags: {},
  async run(_flags, io) {
    const runtime = await io.runtime();
    const issued = await issueSetupLinkOrRefuse(runtime, { actor: 'cli' });
    return { link: issued.link, expires_at: issued.expiresAt.toISOString() };
  },
  format: (r) => `Open this link to set up the first organisation and its admin (single use, valid until ${r.expires_at}; any earlier setup link no longer works):\n${r.link}`,
});
