import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, vi } from 'vitest';

/** Debian's nginx, which `.ci/run` installs. */
const NGINX = '/usr/sbin/nginx';
/** nginx connects to Warta from this address (`proxy_bind`), so Warta's socket peer is never the client's address. */
export const NGINX_SOURCE_ADDRESS = '127.0.0.2';

const nginxes: ChildProcess[] = [];
// SIGTERM, not SIGKILL: nginx's master then stops its workers, which SIGKILL would orphan.
afterAll(() => nginxes.forEach((nginx) => nginx.kill('SIGTERM')));

/** A folder for one nginx's configuration, logs and temporary files; `why` says what the test needs nginx for when it is missing. */
export function nginxFolder(why: string): string {
  if (!existsSync(NGINX)) throw new Error(`nginx is not installed (${NGINX} is missing): ${why}. Install it with: apt-get install -y nginx`);
  const dir = mkdtempSync(path.join(tmpdir(), 'warta-nginx-'));
  // nginx's workers run as nobody when the test runs as root.
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * nginx in the foreground with `http` as its http block (the temporary paths are added),
 * resolved once it listens on `port`; stopped after the file's tests.
 */
export async function startNginx(dir: string, port: number, http: string): Promise<void> {
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http}
}
`,
  );
  const child = spawn(NGINX, ['-p', dir, '-e', `${dir}/error.log`, '-c', 'nginx.conf', '-g', `daemon off; pid ${dir}/nginx.pid;`], { stdio: ['ignore', 'ignore', 'pipe'] });
  nginxes.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  let exited: number | null | undefined;
  child.on('close', (code) => (exited = code));
  // Listening, whatever it speaks (TLS or not): the port can no longer be bound.
  await vi.waitFor(
    () => {
      if (exited !== undefined) throw new Error(`nginx exited with ${exited}: ${stderr}`);
      return new Promise<void>((resolve, reject) =>
        createServer()
          .listen(port, '127.0.0.1')
          .on('error', () => resolve())
          .on('listening', function stillFree(this: ReturnType<typeof createServer>) {
            this.close(() => reject(new Error('nginx is not listening yet')));
          }),
      );
    },
    { timeout: 10_000, interval: 50 },
  );
}
