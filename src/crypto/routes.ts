import { Hono } from 'hono';
import type { JWK } from 'jose';
import type { AppEnv } from '../http/context.js';
import { answerPublishedDocument, type PublishedDocument, publishDocument } from '../http/published-document.js';
import type { Deps } from '../deps.js';

export function jwksRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  // Serialised again only when SigningKeys reloads its keys from the database (every WARTA_KEY_CACHE_SECONDS,
  // and at once after a rotation in this process): a rotation reaches this answer exactly as fast as before.
  let published: { keys: { keys: JWK[] }; document: PublishedDocument } | undefined;
  app.get('/.well-known/jwks.json', async (c) => {
    const { signingKeys, config } = deps;
    const keys = await signingKeys.jwks();
    if (published?.keys !== keys) published = { keys, document: publishDocument(keys) };
    return answerPublishedDocument(c, published.document, 'application/json', { 'Cache-Control': `public, max-age=${Math.min(config.signingKeys.cacheSeconds, 300)}`, 'Access-Control-Allow-Origin': '*' });
  });
  return app;
}
