import { type CliCommand, CliUsageError, type Flags, type FlagSpec } from './command.js';

const GLOBAL_FLAGS: Record<string, FlagSpec> = { json: { type: 'boolean', description: 'print the result as JSON' }, help: { type: 'boolean', description: 'show help' } };

/** Finds the longest command path matching the leading words, then parses its flags strictly. */
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
  const flags: Flags = {};
  const rest = argv.slice(command.path.length);
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new CliUsageError(`unexpected argument "${arg}"`);
    const name = match[1]!;
    const spec = specs[name];
    if (!spec) throw new CliUsageError(`unknown flag --${name} for "${command.path.join(' ')}"`);
    if (name in flags) throw new CliUsageError(`--${name} given twice`);
    if (spec.type === 'boolean') {
      if (match[2] !== undefined) throw new CliUsageError(`--${name} takes no value`);
      flags[name] = true;
    } else {
      const value = match[2] ?? rest[++i];
      if (value === undefined || (match[2] === undefined && value.startsWith('--'))) throw new CliUsageError(`--${name} needs a value`);
      flags[name] = value;
    }
  }
  if (!flags.help) for (const [name, spec] of Object.entries(command.flags)) if (spec.required && flags[name] === undefined) throw new CliUsageError(`--${name} is required`);
  return { command, flags };
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
