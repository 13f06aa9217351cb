import { parseArgs } from 'node:util';
import { type CliCommand, CliUsageError, type Flags, type FlagSpec } from './command.js';

const GLOBAL_FLAGS: Record<string, FlagSpec> = { json: { type: 'boolean', description: 'print the result as JSON' }, help: { type: 'boolean', description: 'show help' } };

/** Finds the longest command path matching the leading words, then reads its flags strictly. */
export function parseCommandLine(argv: string[], commands: CliCommand<any>[]): { command: CliCommand<any> | undefined; flags: Flags } {
  const words: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith('-')) break;
    words.push(arg);
  }
  const command = [...commands].sort((a, b) => b.path.length - a.path.length).find((c) => c.path.every((w, i) => words[i] === w));
  if (!command) {
    if (words.length === 0) return { command: undefined, flags: { help: argv.includes('--help') || argv.length === 0 } };
    throw new CliUsageError(`unknown command "${words.join(' ')}"`);
  }
  if (words.length > command.path.length) throw new CliUsageError(`unexpected argument "${words[command.path.length]}" for "${command.path.join(' ')}"`);

  const specs: Record<string, FlagSpec> = { ...command.flags, ...GLOBAL_FLAGS };
  const flags = readFlags(argv.slice(command.path.length), specs, command.path.join(' '));
  if (!flags.help) for (const [name, spec] of Object.entries(command.flags)) if (spec.required && flags[name] === undefined) throw new CliUsageError(`--${name} is required`);
  return { command, flags };
}

/**
 * Flags after the command words. node:util's parseArgs splits them (`--name value`,
 * `--name=value`, `--`); its tokens are then checked here so every mistake is a usage
 * error in our words: a flag given twice or a missing value is refused, where
 * parseArgs would keep the last one or read the next flag as the value.
 */
function readFlags(args: string[], specs: Record<string, FlagSpec>, commandName: string): Flags {
  const options = Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type }]));
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  const flags: Flags = {};
  for (const token of tokens) {
    if (token.kind === 'positional') throw new CliUsageError(`unexpected argument "${token.value}"`);
    if (token.kind === 'option-terminator' || !token.rawName.startsWith('--')) throw new CliUsageError(`unexpected argument "${args[token.index]}"`);
    const { name } = token;
    const spec = specs[name];
    if (!spec) throw new CliUsageError(`unknown flag --${name} for "${commandName}"`);
    if (name in flags) throw new CliUsageError(`--${name} given twice`);
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new CliUsageError(`--${name} takes no value`);
      flags[name] = true;
    } else {
      if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) throw new CliUsageError(`--${name} needs a value`);
      flags[name] = token.value;
    }
  }
  return flags;
}

export function usage(commands: CliCommand<any>[], command?: CliCommand<any>): string {
  if (command) {
    const lines = [`usage: warta ${command.path.join(' ')} [flags]`, '', command.summary, '', 'flags:'];
    for (const [name, spec] of Object.entries({ ...command.flags, ...GLOBAL_FLAGS }))
      lines.push(`  --${name}${spec.type === 'string' ? ' VALUE' : ''}${spec.required ? ' (required)' : ''}  ${spec.description}`);
    return lines.join('\n');
  }
  return ['usage: warta <command> [flags]   (every command takes --json and --help)', '', 'commands:', ...commands.map((c) => `  ${c.path.join(' ').padEnd(22)} ${c.summary}`)].join('\n');
}
