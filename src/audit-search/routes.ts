import { createRoute, z } from '@hono/zod-openapi';
import type { AuditEntry } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { adminActorOf, auditContext } from '../http/context.js';
import { ndjsonStream } from '../http/ndjson.js';
import { AUTHORITY_REFUSALS, documentedRouter, jsonResponse, NOT_FOUND } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { auditEntryView, exportAuditEntries, MAX_EXPORT_ROWS, MAX_PAGE, readAuditFilters, searchAudit } from '../audit/search.js';

/**
 * The audit log of the admin's own organisation: search a page at a time, or
 * export as JSON lines (the export is audited). Which entries are the
 * organisation's is decided in src/audit/search.ts; another organisation's
 * never are. These routes sit outside src/audit/ because http and sessions
 * build on audit, which must not import them back.
 */
const Filters = {
  person: z.string().max(80).optional().openapi({ description: 'user:<id> (or the id) of a person of your organisation: entries about them' }),
  actor: z.string().max(140).optional().openapi({ description: 'who acted: user:<id>, client:<id>, cli or system' }),
  action: z.string().max(100).optional().openapi({ description: 'an action (person.disabled), or a prefix ending with a dot (person.)' }),
  from: z.string().max(40).optional().openapi({ description: 'at or after (ISO 8601 date or time)' }),
  to: z.string().max(40).optional().openapi({ description: 'before (ISO 8601 date or time)' }),
};

const AuditEntry = z
  .object({
    id: z.number().openapi({ description: 'order of appending; pages are newest first by it' }),
    seq: z.number().nullable().openapi({ description: 'position in the hash chain; null until sealed' }),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    subject: z.string().nullable(),
    outcome: z.enum(['success', 'failure']),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi('AuditEntry');

const adminOnly = { tags: ['Audit'], middleware: requireRole('admin') };

const searchRoute = createRoute({
  ...adminOnly,
  method: 'get',
  path: '/api/admin/audit',
  summary: "Your organisation's audit entries, newest first, a page at a time",
  request: {
    query: z.object({
      ...Filters,
      cursor: z.string().max(100).optional().openapi({ description: 'next_cursor of the previous page' }),
      limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
    }),
  },
  responses: { 200: jsonResponse('A page of entries', z.object({ entries: z.array(AuditEntry), next_cursor: z.string().nullable() })), ...AUTHORITY_REFUSALS, 404: NOT_FOUND },
});

const exportRoute = createRoute({
  ...adminOnly,
  method: 'get',
  path: '/api/admin/audit/export',
  summary: `Your organisation's audit entries as JSON lines, oldest first, at most ${MAX_EXPORT_ROWS} (audited as audit.exported)`,
  request: { query: z.object(Filters) },
  responses: {
    200: {
      description: `application/x-ndjson: one AuditEntry per line. Warta-Export-Rows says how many; Warta-Export-Truncated: true when more than ${MAX_EXPORT_ROWS} matched (take the rest with a later from).`,
      headers: { 'warta-export-rows': { schema: { type: 'integer' } }, 'warta-export-truncated': { schema: { type: 'boolean' } } },
    },
    ...AUTHORITY_REFUSALS,
    404: NOT_FOUND,
  },
});

async function* viewsOf(entries: AsyncIterable<AuditEntry>) {
  for await (const entry of entries) yield auditEntryView(entry);
}

export function auditRoutes(deps: Deps) {
  const app = documentedRouter();
  const scopeOf = (organisationId: string) => ({ organisationId });

  app.openapi(searchRoute, async (c) => {
    const { cursor, limit, ...raw } = c.req.valid('query');
    const scope = scopeOf(adminActorOf(c).organisationId);
    return c.json(await searchAudit(deps.db, scope, await readAuditFilters(deps.db, scope, raw), { cursor, limit }), 200);
  });

  app.openapi(exportRoute, async (c) => {
    const scope = scopeOf(adminActorOf(c).organisationId);
    const exported = await exportAuditEntries(deps, auditContext(c), scope, await readAuditFilters(deps.db, scope, c.req.valid('query')));
    return c.body(ndjsonStream(viewsOf(exported.entries)), 200, {
      'content-type': 'application/x-ndjson',
      'content-disposition': 'attachment; filename="audit.ndjson"',
      'cache-control': 'no-store',
      'warta-export-rows': String(exported.rows),
      'warta-export-truncated': String(exported.truncated),
    });
  });

  return app;
}
