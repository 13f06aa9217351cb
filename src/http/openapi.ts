import { OpenAPIHono, z } from '@hono/zod-openapi';
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

/** The one error shape every refusal has (http/error-handler.ts). */
export const ErrorBody = z
  .object({
    error: z.string().openapi({ description: 'A stable error code', example: 'invalid_request' }),
    error_description: z.string().openapi({ description: 'A human-readable explanation; may change' }),
  })
  .openapi('Error');

const refusal = (description: string) => ({ description, content: { 'application/json': { schema: ErrorBody } } });

/**
 * The refusals every route behind requireAuthority can give, before its own:
 * no session, or a session without the role or without a fresh passkey.
 */
export const AUTHORITY_REFUSALS = {
  400: refusal('invalid_request: the request does not match its schema, or the domain rules refuse it'),
  401: refusal('login_required: no session; invalid_token: the access token is missing, invalid, a bearer token or without its DPoP proof'),
  403: refusal('forbidden (not the role), reauthentication_required (no passkey used in the last five minutes), insufficient_scope (not the area\'s scope), insufficient_user_authentication (the token\'s sign-in was not a passkey in the last five minutes), person_required (an admin client asked for a person\'s act), or cross_origin_request'),
} as const;

export const NOT_FOUND = refusal('Not found; for an admin, another organisation\'s thing answers the same, so ids reveal nothing');
export const UNSUPPORTED_MEDIA_TYPE = refusal('unsupported_media_type: the body is not application/json');

/** A JSON request body validated by `schema`. */
export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  required: true,
  ...(description ? { description } : {}),
  content: { 'application/json': { schema } },
});

/** A JSON response described by `schema`. */
export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({ description, content: { 'application/json': { schema } } });

/** `{id}` in a path: any string here; the route answers 404 for one that names nothing, as before the schema. */
export const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '0195f3c2-7b1e-7cc0-9a4e-3f1d2b6c8a90' }) });
