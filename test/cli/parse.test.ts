import { describe, expect, it } from 'vitest';
import { type CliCommand, CliUsageError, defineCommand } from '../../src/cli/command.js';
import { parseCommandLine } from '../../src/cli/parse.js';

const invite = defineCommand({
  path: ['invite'],
  summary: 'invite someone',
  flags: { org: { type: 'string', description: 'organisation', required: true }, 'ttl-hours': { type: 'string', description: 'hours' }, admin: { type: 'boolean', description: 'as admin' } },
  run: async () => ({}),
  format: () => '',
});
const rotate = defineCommand({ path: ['keys', 'rotate'], summary: 'rotate', flags: {}, run: async () => ({}), format: () => '' });
const list = defineCommand({ path: ['keys', 'list'], summary: 'list', flags: {}, run: async () => ({}), format: () => '' });
const commands: CliCommand<any>[] = [invite, rotate, list];

const parse = (...argv: string[]) => parseCommandLine(argv, commands);
const usageError = (...argv: string[]) => {
  try {
    parse(...argv);
  } catch (error) {
    expect(error).toBeInstanceOf(CliUsageError);
    return (error as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
};

describe('warta command line', () => {
  it('finds the command by its words and reads string and boolean flags, with or without =', () => {
    expect(parse('invite', '--org', 'Ministry', '--admin', '--json')).toEqual({ command: invite, flags: { org: 'Ministry', admin: true, json: true } });
    expect(parse('invite', '--org=Ministry', '--ttl-hours=', '--help')).toEqual({ command: invite, flags: { org: 'Ministry', 'ttl-hours': '', help: true } });
    expect(parse('invite', '--org', '-5').flags).toEqual({ org: '-5' });
    expect(parse('keys', 'list').command).toBe(list);
  });

  it('answers no command with help', () => {
    expect(parse()).toEqual({ command: undefined, flags: { help: true } });
    expect(parse('--help')).toEqual({ command: undefined, flags: { help: true } });
    expect(parse('--json')).toEqual({ command: undefined, flags: { help: false } });
  });

  it('skips the required check when help is asked for', () => {
    expect(parse('invite', '--help')).toEqual({ command: invite, flags: { help: true } });
  });

  it('refuses unknown words, flags, repeated flags and missing values with a usage error naming them', () => {
    expect(usageError('frobnicate')).toBe('unknown command "frobnicate"');
    expect(usageError('keys')).toBe('unknown command "keys"');
    expect(usageError('keys', 'list', 'now')).toBe('unexpected argument "now" for "keys list"');
    expect(usageError('invite', '--org', 'X', 'extra')).toBe('unexpected argument "extra"');
    expect(usageError('invite', '--org', 'X', '-x')).toBe('unexpected argument "-x"');
    expect(usageError('invite', '--org', 'X', '--')).toBe('unexpected argument "--"');
    expect(usageError('invite', '--org', 'X', '--colour', 'red')).toBe('unknown flag --colour for "invite"');
    expect(usageError('invite', '--org', 'X', '--org', 'Y')).toBe('--org given twice');
    expect(usageError('invite', '--org', 'X', '--admin=yes')).toBe('--admin takes no value');
    expect(usageError('invite', '--org')).toBe('--org needs a value');
    expect(usageError('invite', '--org', '--json')).toBe('--org needs a value');
    expect(usageError('invite', '--admin')).toBe('--org is required');
  });
});
