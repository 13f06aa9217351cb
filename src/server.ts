import { serve as listen } from '@hono/node-server';
import { createApp } from './app.js';
import { startAnonymousFailureAudit } from './audit/anonymous-failures.js';
import { startAuditSealer } from './audit/sealer.js';
import { startAuditShipping } from './audit-sink/worker.js';
import { startOidcHousekeeping } from './oidc/housekeeping.js';
import { startBackchannelLogoutDelivery } from './oidc/logout/backchannel.js';
import { startSecurityEventDelivery } from './events/worker.js';
import { startPersonalDataRetention } from './privacy/retention.js';
import { startRecoveryExpiry } from './recovery/expire.js';
import { startRoleRequestExpiry } from './people/role-requests.js';
import { startChangeRequestExpiry } from './authority/change-requests.js';
import { startRateLimitHousekeeping } from './throttle/housekeeping.js';
import { startChallengeHousekeeping } from './webauthn/challenges.js';
import { httpServerOptions } from './http/server-options.js';
import { developmentMasterKeyWarning } from './crypto/master-key.js';
import { recordIssuer } from './instance/issuer.js';
import { managementRoutes } from './metrics/routes.js';
import { type RunForwarded, startCommandChannel } from './cli/channel.js';
import { announceSetupLink } from './setup/announce.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Runtime } from './runtime.js';

/** Everything after the database is open: background jobs, the command channel, the HTTP servers; SIGTERM/SIGINT: drain, then close. */
export async function serve(runtime: Runtime, config: Config, log: Logger): Promise<void> {
  if (config.masterKey.source === 'generated') process.stderr.write(developmentMasterKeyWarning(config.masterKey.file!));
  const previousIssuer = await recordIssuer(runtime, config.issuer);
  // Instances behind one load balancer share one issuer; a different one here is a configuration slip worth seeing.
  if (previousIssuer) log.warn({ issuer: config.issuer, previous: previousIssuer }, 'the issuer differs from the one this database last served; the CLI now prints links to this one');
  await announceSetupLink(runtime, process.stdout);
  const sealer = startAuditSealer(runtime);
  const auditShipping = startAuditShipping(runtime);
  const backchannelLogouts = startBackchannelLogoutDelivery(runtime);
  const oidcHousekeeping = startOidcHousekeeping(runtime);
  const securityEventDelivery = startSecurityEventDelivery(runtime);
  const recoveryExpiry = startRecoveryExpiry(runtime);
  const roleRequestExpiry = startRoleRequestExpiry(runtime);
  const changeRequestExpiry = startChangeRequestExpiry(runtime);
  const rateLimitHousekeeping = startRateLimitHousekeeping(runtime);
  const challengeHousekeeping = startChallengeHousekeeping(runtime);
  const anonymousFailureAudit = startAnonymousFailureAudit(runtime);
  const personalDataRetention = startPersonalDataRetention(runtime);
  // `warta` commands reach the embedded database through this process while it holds it.
  const commandChannel = runtime.dbKind === 'pglite' ? await startCommandChannel(runtime, config.database.dataDir, forwardedCommand, log) : undefined;
  const app = createApp(runtime);
  const server = listen({ fetch: app.fetch, port: config.http.port, hostname: config.http.host, serverOptions: httpServerOptions(config.http) }, (info) => {
    log.info({ port: info.port, host: config.http.host, issuer: config.issuer, database: runtime.dbKind }, 'warta listening');
  });
  const { metrics: management } = config;
  const managementServer =
    management.port === undefined
      ? undefined
      : listen({ fetch: managementRoutes(runtime).fetch, port: management.port, hostname: management.host, serverOptions: httpServerOptions(config.http) }, (info) => {
          log.info({ port: info.port, host: management.host, public: management.public }, 'management port listening (/metrics, /readyz)');
        });
  managementServer?.on('error', (error: NodeJS.ErrnoException) => {
    process.stderr.write(`warta: cannot start: management port ${management.host}:${management.port}: ${error.code ?? error.message}\n`);
    process.exit(1);
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      log.warn('in-flight requests did not finish in 10 s; closing anyway');
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    }, 10_000);
    force.unref();
    // Scrapes and readiness checks have nothing in flight worth waiting for.
    managementServer?.close();
    (managementServer as unknown as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.();
    server.close(async () => {
      await commandChannel?.stop();
      await securityEventDelivery.stop();
      await recoveryExpiry.stop();
      await roleRequestExpiry.stop();
      await changeRequestExpiry.stop();
      await rateLimitHousekeeping.stop();
      await challengeHousekeeping.stop();
      await anonymousFailureAudit.stop();
      await personalDataRetention.stop();
      await backchannelLogouts.stop();
      await oidcHousekeeping.stop();
      await sealer.stop();
      await auditShipping?.stop();
      await runtime.close();
      log.info('stopped');
      process.exit(0);
    });
    (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** The CLI's modules load with the first command sent over the channel: most starts never get one. */
const forwardedCommand: RunForwarded = async (argv, runtime, write) => (await import('./cli/main.js')).runForwardedCli(argv, runtime, write);
