import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../deps.js';
import { adminActorOf } from '../http/context.js';
import { AUTHORITY_REFUSALS, documentedRouter, jsonResponse } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { recoveryReport } from './report.js';

/** The recovery report for the admin's own organisation: counts per outcome, desk and officer for a period. */
const counts = z.record(z.string(), z.number());
const RecoveryReport = z
  .object({
    organisation_id: z.string(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    total: z.number(),
    by_status: counts.openapi({ description: 'cases by where they stand now: completed, rejected, expired, pending …' }),
    by_desk: z.array(z.object({ desk: z.string(), total: z.number(), by_status: counts })),
    by_officer: z.array(z.object({ id: z.string(), username: z.string(), display_name: z.string(), opened: z.number(), approved: z.number(), co_approved: z.number(), closed: z.number() })),
  })
  .openapi('RecoveryReport');

const reportRoute = createRoute({
  tags: ['Recovery'],
  middleware: requireRole('admin'),
  method: 'get',
  path: '/api/admin/recovery-cases/report',
  summary: "Counts of your organisation's recovery cases opened in a period: by outcome, by desk, by officer",
  request: {
    query: z.object({
      from: z.string().max(40).optional().openapi({ description: 'opened at or after (ISO 8601 date or time)' }),
      to: z.string().max(40).optional().openapi({ description: 'opened before (ISO 8601 date or time)' }),
    }),
  },
  responses: { 200: jsonResponse('The report', RecoveryReport), ...AUTHORITY_REFUSALS },
});

export function recoveryReportRoutes(deps: Deps) {
  const app = documentedRouter();
  app.openapi(reportRoute, async (c) => c.json(await recoveryReport(deps.db, adminActorOf(c).organisationId, c.req.valid('query')), 200));
  return app;
}
