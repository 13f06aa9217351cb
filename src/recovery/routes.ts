import { createRoute, z } from '@hono/zod-openapi';
import { isUuid } from '../db/uuid.js';
import { notFound } from '../errors.js';
import { type AppContext, type AppEnv, adminActorOf, auditContext, signInRequest } from '../http/context.js';
import { requireConsoleSession } from '../authority/person-required.js';
import { readJsonObject, requiredString } from '../http/json-body.js';
import { AUTHORITY_REFUSALS, documentedRouter, ErrorBody, IdParam, jsonResponse, NOT_FOUND } from '../http/openapi.js';
import { writeSessionCookie } from '../http/session-cookie.js';
import { requireRole, requireSession } from '../sessions/middleware.js';
import { passkeyView } from '../webauthn/credentials.js';
import { approveRecoveryCase, checkApproval } from './approve.js';
import { findCaseView, findOfficerCase } from './cases.js';
import { coApproveRecoveryCase } from './co-approve.js';
import { rejectRecoveryCase } from './close.js';
import { finishRecoveryPassword, finishRecoveryPasskey, recoveryMethods, startRecoveryPassword, startRecoveryPasskey } from './complete.js';
import { confirmPasskeyAtDesk, personPasskeys } from './confirm-passkey.js';
import { continueDisputedCase, disputeRecoveryCase } from './dispute.js';
import { readApproval, readOpenCase, readRecoveryPasskey, readRecoveryPassword, readRejection, readResolution } from './input.js';
import { requireOfficer } from './middleware.js';
import { openRecoveryCase } from './open.js';
import { openCasesOf, searchPeople, userCaseView } from './people.js';
import { recoveryPolicyFrom } from './policy.js';
import { redeemRecoveryCode } from './redeem.js';
import { exportRecoveryCases, listRecoveryCases, type RawCaseFilters, readCaseFilters } from './report.js';
import type { Deps } from '../deps.js';

function uuidParam(raw: string, code: string): string {
  if (!isUuid(raw)) throw notFound(code, 'not found');
  return raw.toLowerCase();
}

const filtersOf = (query: (name: string) => string | undefined): RawCaseFilters => ({
  status: query('status'),
  from: query('from'),
  to: query('to'),
  officer: query('officer'),
  user: query('user'),
  limit: query('limit'),
});

/** The signed-in officer's or admin's organisation's cases, filtered by the query. */
async function listOrganisationCases(deps: Deps, c: AppContext, filters: RawCaseFilters = filtersOf((name) => c.req.query(name))) {
  const organisationId = c.get('adminActor')?.organisationId ?? c.get('user')!.organisation_id;
  return c.json({ cases: await listRecoveryCases(deps.db, organisationId, await readCaseFilters(deps.db, organisationId, filters)) }, 200);
}

// Each filter is checked by readCaseFilters (the CLI's report reads the same filters), which answers 400 invalid_request naming it.
const CaseFilters = z.object({
  status: z.string().optional().openapi({ description: 'open, approved, redeemed, rejected, expired, disputed, …' }),
  from: z.string().optional().openapi({ description: 'Opened at or after (ISO 8601 date or time)' }),
  to: z.string().optional().openapi({ description: 'Opened before (ISO 8601 date or time)' }),
  officer: z.string().optional().openapi({ description: 'The officer\'s user id or username' }),
  user: z.string().optional().openapi({ description: 'The person\'s user id or username' }),
  limit: z.string().optional().openapi({ description: 'At most this many cases' }),
});

const RecoveryCase = z.object({ id: z.string(), status: z.string() }).passthrough().openapi('RecoveryCase');
const adminOnly = { tags: ['Recovery'], middleware: requireRole('admin') };

const listCasesRoute = createRoute({
  ...adminOnly,
  method: 'get',
  path: '/api/admin/recovery-cases',
  summary: 'The organisation\'s recovery cases, filtered',
  request: { query: CaseFilters },
  responses: { 200: jsonResponse('The cases', z.object({ cases: z.array(RecoveryCase) })), ...AUTHORITY_REFUSALS },
});

const coApproveRoute = createRoute({
  ...adminOnly,
  method: 'post',
  path: '/api/admin/recovery-cases/{id}/co-approve',
  summary: 'Co-approve a case about an admin or officer (a second person besides the officer)',
  request: { params: IdParam },
  responses: { 200: jsonResponse('The case after the co-approval', z.object({ case: RecoveryCase })), ...AUTHORITY_REFUSALS, 404: NOT_FOUND, 409: jsonResponse('The case is not waiting for a co-approval, or this admin may not give it', ErrorBody) },
});

const exportCasesRoute = createRoute({
  ...adminOnly,
  method: 'get',
  path: '/api/admin/recovery-cases/export',
  summary: 'Export the organisation\'s cases with their audit trail (the export is audited)',
  request: { query: CaseFilters },
  responses: { 200: jsonResponse('The export, as an attachment', z.object({ organisation_id: z.string(), exported_at: z.string(), cases: z.array(RecoveryCase) })), ...AUTHORITY_REFUSALS },
});

/**
 * The recovery desk's JSON API: the officer console (search, open, approve,
 * reject), redemption and enrollment at /recover, the user's own view of open
 * cases, and the admin report. docs/recovery-desk.md describes it.
 */
export function recoveryRoutes(deps: Deps) {
  const app = documentedRouter();
  const officer = requireOfficer(deps);

  app.get('/api/recovery/people', officer, async (c) => {
    return c.json({ people: await searchPeople(deps, auditContext(c), c.get('user')!, c.req.query('q') ?? '') });
  });

  // A passkey added from a password + TOTP session signs in at mfa until an officer (or the owner from a passkey session) confirms it.
  app.get('/api/recovery/people/:id/passkeys', officer, async (c) => {
    return c.json({ passkeys: (await personPasskeys(deps, c.get('user')!, uuidParam(c.req.param('id'), 'user_not_found'))).map(passkeyView) });
  });

  app.post('/api/recovery/people/:id/passkeys/:passkeyId/confirm', officer, async (c) => {
    const passkey = await confirmPasskeyAtDesk(deps, auditContext(c), {
      officer: c.get('user')!,
      session: c.get('session')!,
      userId: uuidParam(c.req.param('id'), 'user_not_found'),
      passkeyId: uuidParam(c.req.param('passkeyId'), 'passkey_not_found'),
    });
    return c.json({ passkey: passkeyView(passkey) });
  });

  app.get('/api/recovery/cases', officer, (c) => listOrganisationCases(deps, c));

  app.post('/api/recovery/cases', officer, async (c) => {
    const opened = await openRecoveryCase(deps, auditContext(c), c.get('user')!, readOpenCase(await readJsonObject(c)));
    return c.json({ case: await findCaseView(deps.db, opened.id) }, 201);
  });

  app.get('/api/recovery/cases/:id', officer, async (c) => {
    const found = await findOfficerCase(deps.db, c.get('user')!, c.req.param('id'));
    return c.json({ case: await findCaseView(deps.db, found.id) });
  });

  // The console asks first, so the officer confirms with a passkey only when the approval would otherwise go through.
  app.post('/api/recovery/cases/:id/approval-check', officer, async (c) => {
    await checkApproval(deps, { officer: c.get('user')!, session: c.get('session')!, caseId: c.req.param('id'), ...readApproval(await readJsonObject(c)) });
    return c.json({ ok: true });
  });

  // For API clients; the console's approval is the form POST of src/recovery/pages/case.tsx, whose answer is the printable slip.
  app.post('/api/recovery/cases/:id/approve', officer, async (c) => {
    const issued = await approveRecoveryCase(deps, auditContext(c), { officer: c.get('user')!, session: c.get('session')!, caseId: c.req.param('id'), ...readApproval(await readJsonObject(c)) });
    return c.json({ case_id: issued.recoveryCase.id, code: issued.code, code_expires_at: issued.recoveryCase.code_expires_at!.toISOString(), max_attempts: issued.recoveryCase.code_max_attempts });
  });

  app.post('/api/recovery/cases/:id/reject', officer, async (c) => {
    const rejected = await rejectRecoveryCase(deps, auditContext(c), { officer: c.get('user')!, caseId: c.req.param('id'), ...readRejection(await readJsonObject(c)) });
    return c.json({ case: await findCaseView(deps.db, rejected.id) });
  });

  // A disputed case, after the officer saw the person again: "continue" (genuine) or "reject".
  app.post('/api/recovery/cases/:id/resolve', officer, async (c) => {
    const { resolution, ...fields } = readResolution(await readJsonObject(c));
    const input = { officer: c.get('user')!, caseId: c.req.param('id'), ...fields };
    const resolved = resolution === 'continue' ? await continueDisputedCase(deps, auditContext(c), { ...input, session: c.get('session')! }) : await rejectRecoveryCase(deps, auditContext(c), input);
    return c.json({ case: await findCaseView(deps.db, resolved.id) });
  });

  // Redemption at /recover: no session; the code is the credential.
  app.post('/api/recovery/redeem', async (c) => {
    const body = await readJsonObject(c);
    const { grant, recoveryCase, user, organisationPolicy, roles } = await redeemRecoveryCode(deps, auditContext(c), { username: requiredString(body, 'username', 254), code: requiredString(body, 'code', 64) });
    return c.json({
      grant,
      grant_expires_at: recoveryCase.grant_expires_at!.toISOString(),
      user: { username: user.username, display_name: user.display_name },
      desk: recoveryCase.approved_desk,
      issued_at: recoveryCase.approved_at!.toISOString(),
      methods: recoveryMethods(organisationPolicy, roles),
      revokes_old_credentials: recoveryPolicyFrom(organisationPolicy).revokesOldCredentials,
    });
  });

  app.post('/api/recovery/passkey/options', async (c) => {
    const body = await readJsonObject(c);
    return c.json(await startRecoveryPasskey(deps, requiredString(body, 'grant', 128)));
  });

  app.post('/api/recovery/passkey/verify', async (c) => {
    const { user, passkey, session, token } = await finishRecoveryPasskey(deps, signInRequest(c), readRecoveryPasskey(await readJsonObject(c)));
    writeSessionCookie(c, deps.config, token);
    return c.json({ user: { id: user.id, username: user.username, display_name: user.display_name }, passkey: passkeyView(passkey), amr: session.amr, acr: session.acr, redirect_to: '/account' }, 201);
  });

  app.post('/api/recovery/password/start', async (c) => {
    const body = await readJsonObject(c);
    return c.json(await startRecoveryPassword(deps, auditContext(c), requiredString(body, 'grant', 128)));
  });

  app.post('/api/recovery/password', async (c) => {
    const { user, session, token } = await finishRecoveryPassword(deps, signInRequest(c), readRecoveryPassword(await readJsonObject(c)));
    writeSessionCookie(c, deps.config, token);
    return c.json({ user: { id: user.id, username: user.username, display_name: user.display_name }, amr: session.amr, acr: session.acr, redirect_to: '/account' }, 201);
  });

  // The user's own open cases, from any signed-in session: a device that still works sees a recovery it did not ask for.
  app.get('/api/account/recovery', requireSession(), async (c) => {
    return c.json({ cases: (await openCasesOf(deps.db, c.get('user')!.id)).map(userCaseView) });
  });

  // "Cancel" from any signed-in session disputes the case (src/recovery/dispute.ts): that session may be the attacker's.
  app.post('/api/account/recovery/:id/cancel', requireSession(), async (c) => {
    const disputed = await disputeRecoveryCase(deps, auditContext(c), { userId: c.get('user')!.id, caseId: c.req.param('id') });
    return c.json({ case: userCaseView(disputed) });
  });

  app.openapi(listCasesRoute, (c) => listOrganisationCases(deps, c, c.req.valid('query')));

  // The admin's co-approval of a case about an admin or officer (issue 11); requireAdminAuthority (app.ts) guards /api/admin/*.
  app.openapi(coApproveRoute, async (c) => {
    // The co-approval checks the passkey of the very session that gives it (co-approve.ts): an access token has none.
    const { user: admin, session } = await requireConsoleSession(deps, auditContext(c), adminActorOf(c), 'recovery.co_approved');
    const approved = await coApproveRecoveryCase(deps, auditContext(c), { admin, session, caseId: c.req.valid('param').id });
    return c.json({ case: await findCaseView(deps.db, approved.id) }, 200);
  });

  app.openapi(exportCasesRoute, async (c) => {
    const organisationId = adminActorOf(c).organisationId;
    const cases = await exportRecoveryCases(deps, auditContext(c), organisationId, c.req.valid('query'));
    c.header('Content-Disposition', 'attachment; filename="recovery-cases.json"');
    return c.json({ organisation_id: organisationId, exported_at: deps.clock.now().toISOString(), cases }, 200);
  });

  return app;
}
