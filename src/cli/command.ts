import type { Config } from '../config.js';
import type { Runtime } from '../runtime.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  description: string;
  required?: boolean;
  /** A file the command reads or writes: made absolute before a command is sent to the running server, whose working directory differs. */
  file?: boolean;
}

export type Flags = Record<string, string | boolean | undefined>;

export interface CliIo {
  /** Opens the runtime (config from the environment, migrations applied) on first use. */
  runtime(): Promise<Runtime>;
  /** The configuration, without opening the database: for a `forward: false` command that must not open it (`warta restore`). */
  config?(): Config;
  /** Where streaming commands (audit export) write lines. */
  write(text: string): void;
}

/**
 * A `warta` command: `path` is its words (`['keys', 'rotate']`). `run` returns
 * a plain object, printed as JSON with --json and by `format` otherwise.
 */
export interface CliCommand<Result = unknown> {
  path: string[];
  summary: string;
  flags: Record<string, FlagSpec>;
  run(flags: Flags, io: CliIo): Promise<Result>;
  format(result: Result): string;
  /** False for a command that must not run inside a running server (it replaces the database it would run on). */
  forward?: boolean;
  /** Exit status for a result (e.g. a broken audit chain exits 1). Default 0. */
  exitCode?(result: Result): number;
}

/** Wrong words or flags: exit 2 with the usage. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/**
 * Thrown by `CliIo.write` once standard output is a closed pipe (`warta audit
 * export | head -1`): the reader took what it wanted, so the command ends
 * quietly with exit 0 (as the reader chose to stop, nothing failed).
 */
export class OutputClosedError extends Error {
  constructor() {
    super('standard output was closed by its reader');
    this.name = 'OutputClosedError';
  }
}

export const defineCommand = <R>(command: CliCommand<R>): CliCommand<R> => command;

export function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

/** A comma-separated flag as its items, blanks dropped. */
export function listFlag(flags: Flags, name: string): string[] | undefined {
  return stringFlag(flags, name)
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

export function integerFlag(flags: Flags, name: string): number | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new CliUsageError(`--${name} expects a whole number, got "${raw}"`);
  return Number(raw);
}
