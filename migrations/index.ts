import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_foundation.js';

/**
 * Every migration, by name. Listed explicitly (not read from the folder) so the
 * same list works under tsx, vitest and the compiled image.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
};
