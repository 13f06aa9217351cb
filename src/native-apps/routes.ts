import { Hono } from 'hono';
import type { AppEnv } from '../http/context.js';
import type { Deps } from '../deps.js';
import { APPLE_APP_SITE_ASSOCIATION_PATH, appleAppSiteAssociation, ASSET_LINKS_PATH, assetLinks, type AssociationFile } from './association-files.js';

/**
 * Served straight (no redirect: Android and Apple's CDN refuse to follow one) as
 * `application/json`. An unset setting registers no route, so the answer is 404.
 */
export function nativeAppRoutes(deps: Pick<Deps, 'config'>) {
  const app = new Hono<AppEnv>();
  const files: [string, AssociationFile | undefined][] = [
    [ASSET_LINKS_PATH, assetLinks(deps.config.nativeApps)],
    [APPLE_APP_SITE_ASSOCIATION_PATH, appleAppSiteAssociation(deps.config.nativeApps)],
  ];
  for (const [path, file] of files) {
    if (!file) continue;
    app.get(path, function associationFile(c) {
      c.header('Cache-Control', 'public, max-age=3600');
      c.header('ETag', file.etag);
      if (c.req.header('if-none-match')?.split(',').some((tag) => tag.trim() === file.etag)) return c.body(null, 304);
      c.header('Content-Type', 'application/json');
      return c.body(file.body);
    });
  }
  return app;
}
