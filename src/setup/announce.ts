import type { Deps } from '../deps.js';
import { firstOrganisationName } from './first-organisation.js';
import { issueSetupLink } from './link.js';

/** Where the setup link may go: the process's own stdout, never the structured log (which is shipped and kept). */
export interface SetupLinkConsole {
  isTTY?: boolean | undefined;
  write(line: string): unknown;
}

/**
 * At start-up, while Warta has no organisation: when someone is watching the
 * console (a terminal, or WARTA_PRINT_SETUP_LINK=1 for a container's console),
 * a new setup link (the last one stops working) printed as one line. Otherwise
 * the log gets only a hint, and no link is made: a log line is read by more
 * people than the operator, and a link nobody sees would only void the one
 * `warta setup-link` printed (on the embedded database the CLI runs while the
 * server is stopped, so its link must survive the next start).
 */
export async function announceSetupLink(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey' | 'config' | 'log'>, console: SetupLinkConsole): Promise<void> {
  if (!deps.config.setup.printLink && !console.isTTY) {
    if ((await firstOrganisationName(deps.db)) === undefined) deps.log.info('no organisation yet: run `warta setup-link` for the setup link');
    return;
  }
  const outcome = await issueSetupLink(deps, { actor: 'system' }, { wait: false });
  if (outcome.issued) console.write(`Warta has no organisation yet: set it up at ${outcome.link} (single use, valid for an hour)\n`);
  else if (outcome.reason === 'another_instance') deps.log.info('no organisation yet: another instance is printing the setup link; `warta setup-link` prints a new one');
}
