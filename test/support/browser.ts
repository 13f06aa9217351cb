/**
 * Real HTTP servers and a real browser for tests.
 *
 * - startWartaServer(): Warta on a free port (@hono/node-server, port 0, the
 *   socket deadlines main.ts sets) over a test runtime; pass `runtime` to serve an existing one (two instances on one
 *   database), or let it create one whose issuer is the server's own URL, as a
 *   browser needs (WebAuthn binds passkeys to that origin).
 * - launchBrowser(): Debian's headless Chromium driven by playwright-core, with
 *   no background network.
 * - addVirtualAuthenticator(page): the DevTools virtual authenticator (CTAP2,
 *   platform, resident keys, user verification) so WebAuthn works headless.
 *
 * @example
 * const server = await startWartaServer();
 * const browser = await launchBrowser();
 * const page = await browser.newPage();
 * const authenticator = await addVirtualAuthenticator(page);
 * await page.goto(`${server.url}/signin`);
 */
import type { ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { type Browser, chromium, type Page } from 'playwright-core';

import { createApp } from '../../src/app.js';
import { httpServerOptions } from '../../src/http/server-options.js';
import type { Runtime } from '../../src/runtime.js';
import { createTestRuntime, type TestRuntime, cleanUpLater, testConfig } from './runtime.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface WartaServer<R extends Runtime = Runtime> {
  /** e.g. http://localhost:41234 */
  url: string;
  port: number;
  runtime: R;
  /** The node http server, for tests of what happens on the socket. */
  httpServer: ServerType;
  close(): Promise<void>;
}

function listen(fetch: (request: Request) => Response | Promise<Response>, serverOptions: ServerOptions): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1', serverOptions }, (info: AddressInfo) => resolve({ server, port: info.port }));
  });
}

function closer(server: ServerType): () => Promise<void> {
  let closed: Promise<void> | undefined;
  return () =>
    (closed ??= new Promise<void>((resolve) => {
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      server.close(() => resolve());
    }));
}

/**
 * Serves Warta on 127.0.0.1 at a free port; closed after the test file.
 * Without `runtime`, a fresh test runtime is created with WARTA_ISSUER set to
 * http://localhost:<port> (plus `env`), so pages, cookies and passkeys all work
 * in a browser pointed at `url`.
 */
export async function startWartaServer(options: { runtime: Runtime }): Promise<WartaServer>;
export async function startWartaServer(options?: { env?: Record<string, string> }): Promise<WartaServer<TestRuntime>>;
export async function startWartaServer(options: { runtime?: Runtime; env?: Record<string, string> } = {}): Promise<WartaServer> {
  let app: ReturnType<typeof createApp> | undefined;
  // The socket deadlines as main.ts sets them; the runtime (and its issuer) comes after the port is known, so they are read from `env` directly.
  const serverOptions = httpServerOptions((options.runtime?.config ?? testConfig(options.env)).http);
  const { server, port } = await listen((request) => (app ? app.fetch(request) : new Response('starting', { status: 503 })), serverOptions);
  const close = closer(server);
  cleanUpLater(close);
  const runtime = options.runtime ?? (await createTestRuntime({ env: { WARTA_ISSUER: `http://localhost:${port}`, ...options.env } }));
  app = createApp(runtime);
  return { url: `http://localhost:${port}`, port, runtime, httpServer: server, close };
}

/** Headless Debian Chromium; closed after the test file. */
export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Host names resolve to loopback or nowhere, and no background service calls out: a browser test attempts no DNS query or outside connection.
    args: [
      '--no-sandbox',
      '--host-resolver-rules=MAP localhost 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-domain-reliability',
      '--disable-client-side-phishing-detection',
      '--disable-sync',
      '--no-pings',
      '--disable-gpu',
      '--no-first-run',
    ],
  });
  cleanUpLater(() => browser.close());
  return browser;
}

export interface VirtualAuthenticator {
  authenticatorId: string;
  /** The credentials the authenticator holds (CDP WebAuthn.getCredentials). */
  credentials(): Promise<{ credentialId: string; isResidentCredential: boolean; signCount: number; userHandle?: string }[]>;
  /** Whether the next ceremonies verify the user (PIN/biometric succeeds). */
  setUserVerified(verified: boolean): Promise<void>;
  /** Whether the user "touches" the authenticator by themselves; off, ceremonies wait (e.g. to hold back passkey autofill). */
  setAutomaticPresence(enabled: boolean): Promise<void>;
  remove(): Promise<void>;
}

/**
 * A DevTools virtual authenticator on the page's browser context: CTAP2 over
 * the internal (platform) transport, resident keys, user verification, and
 * automatic presence, so ceremonies complete without a human.
 */
export async function addVirtualAuthenticator(page: Page, options: { transport?: 'internal' | 'usb' | 'nfc' | 'ble' | 'hybrid'; isUserVerified?: boolean } = {}): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: options.transport ?? 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: options.isUserVerified ?? true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    authenticatorId,
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
    setUserVerified: async (verified) => {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: verified });
    },
    setAutomaticPresence: async (enabled) => {
      await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
    },
    remove: async () => {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    },
  };
}
