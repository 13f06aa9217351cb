import path from 'node:path';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { toWartaError } from '../http/error-handler.js';
import { WartaError } from '../errors.js';
import { createLogger } from '../log.js';
import { recordedIssuer, TamperedIssuerError } from '../instance/issuer.js';
import { openRuntime, type Runtime } from '../runtime.js';
import { commands } from './commands/index.js';
import { type CliCommand, type CliIo, CliUsageError, type Flags, OutputClosedError } from './command.js';
import { CommandChannelRefused, forwardCommand } from './channel.js';
import { parseCommandLine, usage } from './parse.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one `warta` command. Exit codes: 0 done, 1 refused or failed, 2 bad
 * usage, 78 bad configuration. With --json, errors are `{error, error_description}` too.
 * On the embedded database, while a server holds it, the command is sent to that
 * server and runs there (src/cli/channel.ts).
 */
export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env, write: (text: string) => void = (t) => process.stdout.write(t)): Promise<CliResult> {
  let runtime: Runtime | undefined;
  try {
    return await execute(argv, write, {
      beforeRun: async (command, flags) => {
        const config = loadConfig(env);
        if (config.database.url !== undefined || command.forward === false) return undefined;
        return forwardCommand(config.database.dataDir, forwardedArgv(command, flags), write);
      },
      runtime: async () => {
        if (!runtime) runtime = await openCliRuntime(env);
        return runtime;
      },
      config: () => loadConfig(env),
    });
  } finally {
    await runtime?.close();
  }
}

/** A command sent by `runCli` over the command channel, run on the server's own runtime (never closed here). */
export function runForwardedCli(argv: string[], runtime: Runtime, write: (text: string) => void): Promise<CliResult> {
  return execute(argv, write, { runtime: async () => runtime, config: () => runtime.config });
}

interface Execution {
  /** A result here ends the command without running it locally. */
  beforeRun?(command: CliCommand<any>, flags: Flags): Promise<CliResult | undefined>;
  runtime(): Promise<Runtime>;
  config(): Config;
}

async function execute(argv: string[], write: (text: string) => void, execution: Execution): Promise<CliResult> {
  const json = argv.includes('--json');
  const fail = (exitCode: number, code: string, description: string): CliResult =>
    json ? { exitCode, stdout: `${JSON.stringify({ error: code, error_description: description })}\n`, stderr: '' } : { exitCode, stdout: '', stderr: `warta: ${description}\n` };
  try {
    const { command, flags } = parseCommandLine(argv, commands);
    if (!command || flags.help) return { exitCode: 0, stdout: `${usage(commands, command)}\n`, stderr: '' };
    const forwarded = await execution.beforeRun?.(command, flags);
    if (forwarded) return forwarded;
    const io: CliIo = { runtime: execution.runtime, config: execution.config, write };
    const result = await command.run(flags, io);
    const exitCode = command.exitCode?.(result) ?? 0;
    return { exitCode, stdout: json ? `${JSON.stringify(result)}\n` : `${command.format(result)}\n`, stderr: '' };
  } catch (error) {
    if (error instanceof OutputClosedError) return { exitCode: 0, stdout: '', stderr: '' };
    if (error instanceof CliUsageError) return { ...fail(2, 'invalid_usage', `${error.message} (see warta --help)`) };
    if (error instanceof ConfigError) return fail(78, 'invalid_configuration', `configuration error: ${error.message}`);
    if (error instanceof CommandChannelRefused) return fail(1, 'server_unreachable', error.message);
    if (error instanceof WartaError) return fail(1, error.code, error.description);
    const wartaError = toWartaError(error);
    return fail(1, wartaError.code === 'server_error' ? 'failed' : wartaError.code, error instanceof Error ? error.message : String(error));
  }
}

/** The command line again, with file flags made absolute: the server's working directory is not this one. */
function forwardedArgv(command: CliCommand<any>, flags: Flags): string[] {
  const argv = [...command.path];
  for (const [name, value] of Object.entries(flags)) {
    if (value === undefined || value === false) continue;
    if (value === true) argv.push(`--${name}`);
    else argv.push(`--${name}=${command.flags[name]?.file ? path.resolve(value) : value}`);
  }
  return argv;
}

/**
 * The runtime a command works on, serving the issuer the server recorded: links
 * the CLI prints (invitations) must reach the running server. Without
 * WARTA_ISSUER the recorded one is used; a different WARTA_ISSUER is refused.
 */
async function openCliRuntime(env: Record<string, string | undefined>): Promise<Runtime> {
  const log = createLogger(env.WARTA_LOG_LEVEL ?? 'warn', process.stderr as never);
  const runtime = await openRuntime(loadConfig(env), { log });
  const recorded = await recordedIssuer(runtime).catch(async (error) => {
    await runtime.close();
    // Someone changed the record in the database: print no link at all rather than one that may lead to their server.
    if (error instanceof TamperedIssuerError) throw new ConfigError('WARTA_ISSUER', `${error.message}: refusing to print links; start the server once (it records its issuer again) and check who wrote to instance_settings`);
    throw error;
  });
  if (recorded === undefined || recorded === runtime.config.issuer) return runtime;
  await runtime.close();
  if (env.WARTA_ISSUER?.trim())
    throw new ConfigError('WARTA_ISSUER', `is ${runtime.config.issuer} here, but the server on this database serves ${recorded}: links printed here would point to the wrong server. Run the command with WARTA_ISSUER=${recorded}, or without WARTA_ISSUER`);
  return openRuntime(loadConfig({ ...env, WARTA_ISSUER: recorded }), { log });
}

/** `warta …` as a process: the output streamed to stdout, a reader that stops early (`| head`) ends the command quietly. */
export async function runCliProcess(argv: string[]): Promise<void> {
  let stdoutClosed = false;
  // EPIPE arrives as an event, after the write returned: remember it, and let the next write end the command.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stdoutClosed = true;
  });
  const result = await runCli(argv, process.env, (text) => {
    if (stdoutClosed) throw new OutputClosedError();
    process.stdout.write(text);
  });
  if (!stdoutClosed) process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = stdoutClosed ? 0 : result.exitCode;
}

const invokedDirectly = process.argv[1] !== undefined && /cli[/\\]main\.(ts|js)$/.test(process.argv[1]);
if (invokedDirectly) await runCliProcess(process.argv.slice(2));
