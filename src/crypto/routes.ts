import { Hono } from 'hono';
import type { AppEnv } from '../http/context.js';
import type { Deps } from '../deps.js';

export function jwksRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get('/.well-known/jwks.json', async (c) => {
    const { signingKeys, config } = deps;
    c.header('Cache-Control', `public, max-age=${Math.min(config.signingKeys.cacheSeconds, 300)}`);
    c.header('Access-Control-Allow-Origin', '*');
    return c.json(await signingKeys.jwks());
  });
  return app;
}
