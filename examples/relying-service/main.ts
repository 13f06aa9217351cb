/**
 * Starts the relying service: settings from the environment, Warta's discovery
 * document, then the HTTP server.
 *
 *   OIDC_ISSUER=https://id.example.gov OIDC_CLIENT_ID=… OIDC_CLIENT_KEY_FILE=client-key.json \
 *   SERVICE_BASE_URL=https://records.example.gov npx tsx examples/relying-service/main.ts
 */
import { serve } from '@hono/node-server';
import { createRelyingService } from './app.js';
import { ConfigError, readConfig } from './config.js';
import { connectToWarta } from './sign-in.js';

let config;
try {
  config = readConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`configuration: ${error.message}`);
  process.exit(78);
}
const { app } = createRelyingService(config, await connectToWarta(config));
serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (address) => console.log(`relying service on http://${address.address}:${address.port}, public URL ${config.baseUrl.href}`));
