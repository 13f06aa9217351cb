import { OpenAPIHono } from '@hono/zod-openapi';
import { WartaError } from '../errors.js';
import type { AppEnv } from './context.js';

/**
 * A router whose routes are declared with their request and response schemas
 * (`createRoute` from @hono/zod-openapi): one zod schema validates the request
 * and describes it in the admin API's OpenAPI document, so the two cannot drift.
 * A request the schema refuses is the usual `400 invalid_request`, thrown into
 * the one error mapping (http/error-handler.ts) rather than answered in a shape
 * of its own. Mount it with `.route()` on an OpenAPIHono so its routes reach the document.
 */
export function documentedRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const issue = result.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      throw new WartaError(400, 'invalid_request', `${where}${issue?.message ?? 'the request does not match its schema'}`.slice(0, 300));
    },
  });
}
