import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const children: ChildProcess[] = [];
afterAll(() => children.forEach((child) => child.kill('SIGKILL')));

export interface WartaProcess {
  port: number;
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code once the process ended and everything it wrote was read. */
  exited: Promise<number | null>;
  stderr: () => string;
  /** Every line of the structured log so far. */
  logLines: string[];
}

export interface StartOptions {
  /** The program and its arguments; default: `src/main.ts` through tsx, as `npm start` runs a changed checkout. */
  command?: string[];
  /** Start under this umask (e.g. '000'), through /bin/sh. */
  umask?: string;
}

/** A Warta server as a child process on a free port; resolves once it logs that it listens. Killed after the file's tests. */
export function startWartaProcess(env: Record<string, string>, options: StartOptions = {}): Promise<WartaProcess> {
  const command = options.command ?? [process.execPath, '--import', 'tsx', 'src/main.ts'];
  const [program, ...args] = options.umask === undefined ? command : ['/bin/sh', '-c', `umask ${options.umask}; exec ${command.map((part) => `"${part}"`).join(' ')}`];
  const child = spawn(program!, args, { cwd: root, env: { ...process.env, NODE_ENV: 'development', PORT: '0', HOST: '127.0.0.1', WARTA_LOG_LEVEL: 'info', ...env } });
  children.push(child);
  // 'close', not 'exit': by then everything the process wrote to stderr has been read.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const logLines: string[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logLines.push(line);
      const entry = JSON.parse(line) as { msg: string; port?: number };
      if (entry.msg === 'warta listening') resolve({ port: entry.port!, url: `http://127.0.0.1:${entry.port!}`, child, exited, stderr: () => stderr, logLines });
    });
    void exited.then((code) => reject(new Error(`warta exited with ${code}: ${stderr}`)));
  });
}
