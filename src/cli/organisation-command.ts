import type { Organisation } from '../db/schema.js';
import { findOrganisationByName } from '../orgs/service.js';
import type { Runtime } from '../runtime.js';
import { type CliCommand, type CliIo, type Flags, stringFlag } from './command.js';

export interface OrganisationCommandIo extends CliIo {
  /** Opens the runtime and finds the organisation `--org` names (a name that matches none exits 1). */
  openOrganisation(): Promise<{ runtime: Runtime; organisation: Organisation }>;
}

export interface OrganisationCommand<Result> extends Omit<CliCommand<Result>, 'run'> {
  run(flags: Flags, io: OrganisationCommandIo): Promise<Result>;
}

/**
 * A `warta` command that acts within one organisation, named by the required
 * `--org` flag. The command opens the organisation when it needs it, so its own
 * usage checks (a flag's file it cannot read …) still come first.
 */
export function defineOrganisationCommand<Result>(command: OrganisationCommand<Result>): CliCommand<Result> {
  return {
    ...command,
    flags: { org: { type: 'string', description: 'organisation name', required: true }, ...command.flags },
    run(flags, io) {
      return command.run(flags, {
        ...io,
        async openOrganisation() {
          const runtime = await io.runtime();
          return { runtime, organisation: await findOrganisationByName(runtime.db, stringFlag(flags, 'org')!) };
        },
      });
    },
  };
}
