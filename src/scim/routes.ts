/**
 * The SCIM 2.0 service provider (RFC 7644) at `<issuer>/scim/v2`: thin handlers
 * over src/scim/users.ts and src/scim/groups.ts. Every answer, errors included, is `application/scim+json`
 * (RFC 7644 §3.1) and never carries an invitation link.
 */
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Context } from 'hono';
import type { Deps } from '../deps.js';
import { WartaError } from '../errors.js';
import { readAccessToken, readDpopProof } from '../http/authorization.js';
import { logRequestError, toWartaError } from '../http/error-handler.js';
import { readClientCertificate } from '../http/client-certificate.js';
import { type AppContext, type AppEnv, auditContext } from '../http/context.js';
import { dpopNonceToSend } from '../oidc/bearer.js';
import { authenticateScimClient, type ScimClient } from './authenticate.js';
import { LIST_RESPONSE_SCHEMA, resourceTypes, schemas, serviceProviderConfig } from './discovery.js';
import { invalidValue, SCIM_ERROR_SCHEMA, SCIM_MEDIA_TYPE, SCIM_TYPES } from './errors.js';
import { parseGroupFilter, parseUserFilter } from './filter.js';
import { applyGroupPatch } from './group-patch.js';
import { excludesMembers, GROUP_SCHEMA, groupFieldsOf, groupResource, groupVersion, type ScimGroup } from './group-resource.js';
import { createScimGroup, deleteScimGroup, findScimGroup, listScimGroups, membersOf, replaceScimGroup } from './groups.js';
import { applyPatch, patchOperations } from './patch.js';
import { assertSchemas, parseScimBody, patchableUser, USER_SCHEMA, userFieldsOf, userResource, userVersion } from './user-resource.js';
import { createScimUser, deleteScimUser, findScimUser, listScimUsers, MAX_COUNT, replaceScimUser } from './users.js';

export const SCIM_BASE_PATH = '/scim/v2';
const DEFAULT_COUNT = 100;

const scimJson = (c: AppContext, body: unknown, status: ContentfulStatusCode = 200, headers: Record<string, string> = {}) =>
  c.body(JSON.stringify(body), status, { ...headers, 'content-type': SCIM_MEDIA_TYPE, 'cache-control': 'no-store' });

/** RFC 7644 §3.4.2.4: startIndex below 1 is 1, a negative count is 0; count is capped at MAX_COUNT. */
function pageOf(startIndex: string | undefined, count: string | undefined): { startIndex: number; count: number } {
  const integer = (raw: string | undefined, name: string, fallback: number) => {
    if (raw === undefined) return fallback;
    if (!/^-?\d{1,9}$/.test(raw.trim())) throw invalidValue(`${name} must be an integer`);
    return Number(raw);
  };
  return { startIndex: Math.max(1, integer(startIndex, 'startIndex', 1)), count: Math.min(MAX_COUNT, Math.max(0, integer(count, 'count', DEFAULT_COUNT))) };
}

export function scimRoutes(deps: Deps) {
  const scim = new Hono<AppEnv>();
  const baseUrl = `${deps.config.issuer}${SCIM_BASE_PATH}`;
  const clients = new WeakMap<AppContext, ScimClient>();

  scim.onError((error, c) => scimErrorResponse(c, deps, error));

  scim.use(`${SCIM_BASE_PATH}/*`, async function scimClient(c, next) {
    const request = { accessToken: readAccessToken(c), dpop: readDpopProof(c), path: c.req.path, method: c.req.method, certificate: readClientCertificate(c, deps.config.http) };
    const client = await authenticateScimClient(deps, auditContext(c), request);
    clients.set(c, client);
    await next();
  });
  const clientOf = (c: AppContext) => clients.get(c)!;
  const actingContext = (c: AppContext) => ({ ...auditContext(c), actor: `client:${clientOf(c).clientId}` });

  async function readBody(c: AppContext): Promise<Record<string, unknown>> {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/(scim\+)?json\b/i.test(type)) throw new WartaError(415, 'unsupported_media_type', `send the body as ${SCIM_MEDIA_TYPE}`);
    return parseScimBody(await c.req.text());
  }

  /** One user in the answer: the resource, its version in ETag (RFC 7644 §3.14) and, when created, its Location. */
  async function userAnswer(c: AppContext, user: Parameters<typeof userResource>[0], status: ContentfulStatusCode = 200) {
    return resourceAnswer(c, userResource(user, baseUrl), userVersion(user), status);
  }
  /** One group in the answer, with its members unless the request's excludedAttributes names them. */
  async function groupAnswer(c: AppContext, group: ScimGroup, status: ContentfulStatusCode = 200) {
    const members = excludesMembers(c.req.query('excludedAttributes')) ? undefined : (await membersOf(deps.db, [group.id])).get(group.id);
    return resourceAnswer(c, groupResource(group, members, baseUrl), groupVersion(group), status);
  }
  async function resourceAnswer(c: AppContext, resource: { meta: { location: string } }, version: string, status: ContentfulStatusCode) {
    const nonce = await dpopNonceFor(c);
    return scimJson(c, resource, status, { ETag: version, ...(status === 201 ? { Location: resource.meta.location } : {}), ...(nonce ? { 'DPoP-Nonce': nonce } : {}) });
  }
  async function dpopNonceFor(c: AppContext): Promise<string | undefined> {
    const token = readAccessToken(c);
    const claims = token ? await deps.tokens.accessToken(token.token) : undefined;
    return claims ? dpopNonceToSend(deps, claims) : undefined;
  }

  scim.get(`${SCIM_BASE_PATH}/ServiceProviderConfig`, (c) => scimJson(c, serviceProviderConfig(baseUrl)));
  scim.get(`${SCIM_BASE_PATH}/ResourceTypes`, (c) => scimJson(c, listResponse(resourceTypes(baseUrl))));
  scim.get(`${SCIM_BASE_PATH}/ResourceTypes/:id`, (c) => {
    const found = resourceTypes(baseUrl).find((type) => type.id === c.req.param('id'));
    if (!found) throw new WartaError(404, 'not_found', 'no such resource type');
    return scimJson(c, found);
  });
  scim.get(`${SCIM_BASE_PATH}/Schemas`, (c) => scimJson(c, listResponse(schemas(baseUrl))));
  scim.get(`${SCIM_BASE_PATH}/Schemas/:id`, (c) => {
    const found = schemas(baseUrl).find((schema) => schema.id === c.req.param('id'));
    if (!found) throw new WartaError(404, 'not_found', 'no such schema');
    return scimJson(c, found);
  });

  scim.get(`${SCIM_BASE_PATH}/Users`, async (c) => {
    const filter = c.req.query('filter');
    const page = pageOf(c.req.query('startIndex'), c.req.query('count'));
    const { total, users } = await listScimUsers(deps, clientOf(c), { filter: filter === undefined ? [] : parseUserFilter(filter), ...page });
    return scimJson(c, { schemas: [LIST_RESPONSE_SCHEMA], totalResults: total, startIndex: page.startIndex, itemsPerPage: users.length, Resources: users.map((user) => userResource(user, baseUrl)) });
  });
  scim.post(`${SCIM_BASE_PATH}/Users`, async (c) => {
    const body = await readBody(c);
    assertSchemas(body, USER_SCHEMA);
    const user = await createScimUser(deps, actingContext(c), clientOf(c), userFieldsOf(body));
    return userAnswer(c, user, 201);
  });
  scim.get(`${SCIM_BASE_PATH}/Users/:id`, async (c) => userAnswer(c, await findScimUser(deps, clientOf(c), c.req.param('id'))));
  scim.put(`${SCIM_BASE_PATH}/Users/:id`, async (c) => {
    const body = await readBody(c);
    assertSchemas(body, USER_SCHEMA);
    const fields = userFieldsOf(body);
    const user = await replaceScimUser(deps, actingContext(c), clientOf(c), { id: c.req.param('id'), ifMatch: c.req.header('if-match'), fields: () => fields });
    return userAnswer(c, user);
  });
  scim.patch(`${SCIM_BASE_PATH}/Users/:id`, async (c) => {
    const operations = patchOperations(await readBody(c));
    const user = await replaceScimUser(deps, actingContext(c), clientOf(c), {
      id: c.req.param('id'),
      ifMatch: c.req.header('if-match'),
      fields: (current) => userFieldsOf(applyPatch(patchableUser(current), operations)),
    });
    return userAnswer(c, user);
  });
  scim.delete(`${SCIM_BASE_PATH}/Users/:id`, async (c) => {
    await deleteScimUser(deps, actingContext(c), clientOf(c), { id: c.req.param('id'), ifMatch: c.req.header('if-match') });
    return c.body(null, 204);
  });

  scim.get(`${SCIM_BASE_PATH}/Groups`, async (c) => {
    const filter = c.req.query('filter');
    const page = pageOf(c.req.query('startIndex'), c.req.query('count'));
    const { total, groups } = await listScimGroups(deps, clientOf(c), { filter: filter === undefined ? [] : parseGroupFilter(filter), ...page });
    const members = excludesMembers(c.req.query('excludedAttributes')) ? undefined : await membersOf(deps.db, groups.map((group) => group.id));
    return scimJson(c, { schemas: [LIST_RESPONSE_SCHEMA], totalResults: total, startIndex: page.startIndex, itemsPerPage: groups.length, Resources: groups.map((group) => groupResource(group, members?.get(group.id), baseUrl)) });
  });
  scim.post(`${SCIM_BASE_PATH}/Groups`, async (c) => {
    const body = await readBody(c);
    assertSchemas(body, GROUP_SCHEMA);
    const group = await createScimGroup(deps, actingContext(c), clientOf(c), groupFieldsOf(body));
    return groupAnswer(c, group, 201);
  });
  scim.get(`${SCIM_BASE_PATH}/Groups/:id`, async (c) => groupAnswer(c, await findScimGroup(deps, clientOf(c), c.req.param('id'))));
  scim.put(`${SCIM_BASE_PATH}/Groups/:id`, async (c) => {
    const body = await readBody(c);
    assertSchemas(body, GROUP_SCHEMA);
    const fields = groupFieldsOf(body);
    const group = await replaceScimGroup(deps, actingContext(c), clientOf(c), { id: c.req.param('id'), ifMatch: c.req.header('if-match'), fields: () => fields });
    return groupAnswer(c, group);
  });
  scim.patch(`${SCIM_BASE_PATH}/Groups/:id`, async (c) => {
    const id = c.req.param('id');
    const operations = patchOperations(await readBody(c));
    const group = await replaceScimGroup(deps, actingContext(c), clientOf(c), { id, ifMatch: c.req.header('if-match'), fields: (current) => applyGroupPatch(id, current, operations) });
    return groupAnswer(c, group);
  });
  scim.delete(`${SCIM_BASE_PATH}/Groups/:id`, async (c) => {
    await deleteScimGroup(deps, actingContext(c), clientOf(c), { id: c.req.param('id'), ifMatch: c.req.header('if-match') });
    return c.body(null, 204);
  });
  scim.all(`${SCIM_BASE_PATH}/Bulk`, () => {
    throw new WartaError(501, 'not_implemented', 'bulk operations are not supported (ServiceProviderConfig bulk.supported is false)');
  });
  scim.all(`${SCIM_BASE_PATH}/*`, () => {
    throw new WartaError(404, 'not_found', 'no such SCIM endpoint');
  });
  return scim;
}

const listResponse = (resources: unknown[]) => ({ schemas: [LIST_RESPONSE_SCHEMA], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources });

/** Every error as RFC 7644 §3.12 shapes it: a SCIM error's scimType, any other error's code in `detail`, its headers kept. */
export function scimErrorResponse(c: Context, deps: Pick<Deps, 'log' | 'errorSummary' | 'metrics'>, error: unknown): Response {
  const wartaError = toWartaError(error);
  logRequestError(deps, c.get('requestId') as string | undefined, error, wartaError);
  const isScimType = SCIM_TYPES.has(wartaError.code);
  const body = {
    schemas: [SCIM_ERROR_SCHEMA],
    status: String(wartaError.status),
    ...(isScimType ? { scimType: wartaError.code } : {}),
    detail: isScimType || wartaError.status >= 500 ? wartaError.description : `${wartaError.code}: ${wartaError.description}`,
  };
  return new Response(JSON.stringify(body), {
    status: wartaError.status as ContentfulStatusCode,
    headers: { ...wartaError.headers, 'content-type': SCIM_MEDIA_TYPE, 'cache-control': 'no-store' },
  });
}
