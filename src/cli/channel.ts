import { chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../log.js';
import { OutputClosedError } from './command.js';
import type { Runtime } from '../runtime.js';

/**
 * The embedded database is one process's: while `npm start` holds it, a `warta`
 * command cannot open it, so the command is sent to the running server instead,
 * over a unix socket in the data directory that only the server's OS user can
 * open (0600, made so under a restrictive umask: there is no moment when it is
 * wider). The server runs the command on its own runtime and streams the output
 * back. On PostgreSQL there is no channel: every command opens its own pool.
 *
 * Protocol, one JSON object a line: the command sends `{argv}`; the server answers
 * `{out}` lines (streamed output, `warta audit export`) and one last `{result}`.
 */
export const COMMAND_SOCKET = 'warta.sock';

/** The longest unix socket path Linux accepts (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;
/** A command line is a few hundred bytes; this only bounds a confused peer. */
const MAX_REQUEST_BYTES = 64 * 1024;

export interface ForwardedResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type RunForwarded = (argv: string[], runtime: Runtime, write: (text: string) => void) => Promise<ForwardedResult>;

export function commandSocketPath(dataDir: string): string {
  return path.join(path.resolve(dataDir), COMMAND_SOCKET);
}

export interface CommandChannel {
  path: string | undefined;
  stop(): Promise<void>;
}

/** Listens for forwarded commands; `run` is the CLI's own executor, so a forwarded command behaves as a local one. */
export async function startCommandChannel(runtime: Runtime, dataDir: string, run: RunForwarded, log: Logger): Promise<CommandChannel> {
  const socketPath = commandSocketPath(dataDir);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    log.warn({ socketPath }, 'the data directory path is too long for a unix socket: `warta` commands cannot reach this server while it runs (use a shorter WARTA_DATA_DIR)');
    return { path: undefined, stop: async () => {} };
  }
  // This process holds the embedded database's lock, so a socket file here is one a killed server left behind.
  rmSync(socketPath, { force: true });
  const server = net.createServer((socket) => serveOne(socket, runtime, run, log));
  const previousUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(previousUmask);
  }
  chmodSync(socketPath, 0o600);
  return {
    path: socketPath,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        rmSync(socketPath, { force: true });
      }),
  };
}

function serveOne(socket: net.Socket, runtime: Runtime, run: RunForwarded, log: Logger): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  const send = (message: object) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
  };
  const onData = (chunk: string) => {
    buffered += chunk;
    const newline = buffered.indexOf('\n');
    if (newline < 0) {
      if (buffered.length > MAX_REQUEST_BYTES) socket.destroy();
      return;
    }
    socket.off('data', onData);
    const argv = parseRequest(buffered.slice(0, newline));
    if (!argv) {
      send({ result: { exitCode: 2, stdout: '', stderr: 'warta: the running server could not read the command\n' } });
      socket.end();
      return;
    }
    run(argv, runtime, (text) => {
      if (socket.destroyed) throw new OutputClosedError();
      send({ out: text });
    })
      .then((result) => send({ result }))
      .catch((error: unknown) => {
        log.error({ err: String(error) }, 'a forwarded command failed');
        send({ result: { exitCode: 1, stdout: '', stderr: 'warta: the command failed in the running server (see its log)\n' } });
      })
      .finally(() => socket.end());
  };
  socket.on('data', onData);
}

function parseRequest(line: string): string[] | undefined {
  try {
    const request = JSON.parse(line) as { argv?: unknown };
    if (Array.isArray(request.argv) && request.argv.every((arg) => typeof arg === 'string' && !arg.includes('\0'))) return request.argv as string[];
  } catch {
    // fall through: not JSON
  }
  return undefined;
}

/** Why a forward could not be made; `absent` means no server is listening and the command runs here. */
export class CommandChannelRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandChannelRefused';
  }
}

/**
 * Sends a command to the server running on `dataDir`'s embedded database.
 * Resolves undefined when none runs there (no socket, or one a killed server left),
 * so the command opens the database itself.
 */
export function forwardCommand(dataDir: string, argv: string[], write: (text: string) => void): Promise<ForwardedResult | undefined> {
  const socketPath = commandSocketPath(dataDir);
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let buffered = '';
    let result: ForwardedResult | undefined;
    let connected = false;
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify({ argv })}\n`);
    });
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const message = JSON.parse(buffered.slice(0, newline)) as { out?: string; result?: ForwardedResult };
        buffered = buffered.slice(newline + 1);
        if (typeof message.out === 'string') {
          try {
            write(message.out);
          } catch (error) {
            // The reader stopped (`| head`): so does the command in the server, at its next write.
            socket.destroy();
            return reject(error);
          }
        }
        if (message.result) result = message.result;
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (connected) return reject(new CommandChannelRefused(`lost the running Warta server mid-command (${error.code ?? error.message}); check its log and \`warta audit verify\` before running the command again`));
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') return resolve(undefined);
      if (error.code === 'EACCES' || error.code === 'EPERM')
        return reject(new CommandChannelRefused(`a Warta server runs on ${path.dirname(socketPath)}, but its command channel belongs to another OS user: run the command as the user that runs Warta`));
      reject(new CommandChannelRefused(`cannot reach the Warta server running on ${path.dirname(socketPath)}: ${error.code ?? error.message}`));
    });
    socket.on('close', () => {
      if (!connected) return;
      if (result) resolve(result);
      else reject(new CommandChannelRefused('the running Warta server closed the command channel without an answer (did it stop?)'));
    });
  });
}
