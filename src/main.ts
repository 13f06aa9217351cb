import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger, logDestination } from './log.js';
import { openRuntime } from './runtime.js';

/** start-up: config → database → app → listen (src/server.ts). */
async function main(): Promise<void> {
  const stopOnConfigError = (error: unknown): never => {
    if (error instanceof ConfigError) {
      process.stderr.write(`warta: configuration error: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  };
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    return stopOnConfigError(error);
  }
  // With the audit log shipped on stdout, the logs move to stderr: each stream then holds one kind of line.
  const log = createLogger(config.logLevel, logDestination(config.audit.sink?.target.kind === 'stdout' ? 2 : 1));
  // The server's modules (most of Warta) load while the database opens: the two overlap in a start.
  const server = import('./server.js');
  // Observed now so a failure to load is reported by the await below, not as an unhandled rejection meanwhile.
  server.catch(() => {});
  // A setting found wrong only when used (the HSM refusing the PIN) is reported like one found wrong when read.
  const runtime = await openRuntime(config, { log }).catch(stopOnConfigError);
  await (await server).serve(runtime, config, log);
}

main().catch((error: unknown) => {
  process.stderr.write(`warta: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
