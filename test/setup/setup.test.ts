/**
 * First-run setup through the printed link: the link makes the first
 * organisation and its admin once, and nothing else. Over real HTTP, each test
 * on its own fresh database (no organisation yet).
 */
import { describe, expect, it } from 'vitest';
import { bootstrapCommand } from '../../src/cli/commands/bootstrap.js';
import { setupLinkCommand } from '../../src/cli/commands/setup-link.js';
import { createOrganisation } from '../../src/orgs/service.js';
import type { Runtime } from '../../src/runtime.js';
import { announceSetupLink } from '../../src/setup/announce.js';
import { holdFirstOrganisationLock } from '../../src/setup/first-organisation.js';
import { issueSetupLink } from '../../src/setup/link.js';
import { userRoles } from '../../src/users/service.js';
import { startWartaServer } from '../support/browser.js';
import { capturingLogger } from '../support/capturing-logger.js';
import { createTestRuntime, usingPostgres } from '../support/runtime.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { browser, enrollmentOptions, origin } from '../webauthn/ceremony.js';

async function freshInstance(env: Record<string, string> = {}) {
  const server = await startWartaServer({ env });
  const runtime = server.runtime;
  const client = browser(runtime, { baseUrl: server.url });
  const newLink = async () => {
    const outcome = await issueSetupLink(runtime, { actor: 'test' }, { wait: true });
    if (!outcome.issued) throw new Error(`no link: ${outcome.reason}`);
    return outcome.link;
  };
  /** What setup writes: organisations, invitations, audit entries, and whether the token is spent. */
  const written = async () => ({
    organisations: (await runtime.db.selectFrom('organisations').select('id').execute()).length,
    invitations: (await runtime.db.selectFrom('invitations').select('id').execute()).length,
    audit: (await runtime.db.selectFrom('audit_log').select('id').execute()).length,
    tokenUsed: (await runtime.db.selectFrom('setup_token').select('used_at').executeTakeFirst())?.used_at != null,
  });
  return { server, runtime, client, newLink, written };
}

const tokenOf = (link: string) => /#token=([\w-]+)$/.exec(link)![1]!;

const form = (token: string, overrides: Record<string, unknown> = {}) => ({
  token,
  organisation_name: 'Ministry of Digital Affairs',
  display_name: 'Ala Admin',
  email: 'ala@digital.example.gov',
  ...overrides,
});

describe('the setup link', () => {
  it('is one line with the token in the fragment, and its audit entry holds no token', async () => {
    const { runtime, newLink } = await freshInstance();
    const link = await newLink();
    expect(link).toMatch(new RegExp(`^${runtime.config.issuer}/setup#token=[A-Za-z0-9_-]{43}$`));
    const entry = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'setup.link_issued').executeTakeFirstOrThrow();
    expect(JSON.stringify(entry)).not.toContain(tokenOf(link));
    const stored = await runtime.db.selectFrom('setup_token').selectAll().execute();
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(tokenOf(link));
  });

  it('sets up the first organisation, its e-mail domain and an admin who is also operator, then enrolls a passkey from the returned link', async () => {
    const { runtime, client, newLink } = await freshInstance();
    const reply = await client.post('/api/setup', form(tokenOf(await newLink())));
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body.organisation).toMatchObject({ name: 'Ministry of Digital Affairs', email_domains: ['digital.example.gov'] });
    expect(reply.body.enrollment_url).toMatch(new RegExp(`^${runtime.config.issuer}/enroll#invitation=`));
    const invitation = await runtime.db.selectFrom('invitations').selectAll().executeTakeFirstOrThrow();
    expect(invitation).toMatchObject({ role: 'admin', grants_operator: true, email: 'ala@digital.example.gov', display_name: 'Ala Admin' });
    const actions = (await runtime.db.selectFrom('audit_log').select(['action', 'actor']).orderBy('id').execute()).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['organisation.created', 'organisation.email_domains_set', 'invitation.created', 'setup.completed']));

    const invitationToken = /#invitation=([\w-]+)$/.exec(reply.body.enrollment_url)![1]!;
    const authenticator = new SoftAuthenticator();
    const creation = await enrollmentOptions(client, invitationToken);
    const enrolled = await client.post('/api/webauthn/enrollment/verify', { invitation: invitationToken, credential: authenticator.createCredential(creation, { origin: origin(runtime) }) });
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(201);
    expect((await userRoles(runtime.db, enrolled.body.user.id)).sort()).toEqual(['admin', 'operator']);
  });

  it('takes the e-mail domains given, and none for an admin named by employee id', async () => {
    const { client, newLink } = await freshInstance();
    const reply = await client.post('/api/setup', form(tokenOf(await newLink()), { email: undefined, employee_id: 'E-1001', email_domains: ['Example.gov', 'mail.example.gov'] }));
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body.organisation.email_domains).toEqual(['example.gov', 'mail.example.gov']);
  });

  it('refuses a link used once (setup_link_used, from the single-use UPDATE), writing nothing', async () => {
    const { client, newLink, written } = await freshInstance();
    const token = tokenOf(await newLink());
    expect((await client.post('/api/setup', form(token))).status).toBe(201);
    const before = await written();
    const again = await client.post('/api/setup', form(token, { organisation_name: 'Second Ministry', email: 'eve@evil.example' }));
    expect(again.status).toBe(410);
    // Without `used_at is null` in the UPDATE the token would pass and only the organisation check would refuse (already_set_up).
    expect(again.body.error).toBe('setup_link_used');
    expect(await written()).toEqual(before);
  });

  it('refuses an expired link (setup_link_expired), writing nothing', async () => {
    const { runtime, client, newLink, written } = await freshInstance();
    const token = tokenOf(await newLink());
    runtime.clock.advance(3600);
    const before = await written();
    const reply = await client.post('/api/setup', form(token));
    expect(reply.status).toBe(410);
    expect(reply.body.error).toBe('setup_link_expired');
    expect(await written()).toEqual(before);
    expect(before.organisations).toBe(0);
  });

  it('refuses a wrong token and a link replaced by a newer one (setup_link_invalid), counting the failure, writing nothing', async () => {
    const { runtime, client, newLink, written } = await freshInstance();
    const first = tokenOf(await newLink());
    const second = tokenOf(await newLink());
    const before = await written();
    for (const token of [first, 'A'.repeat(43), second.slice(0, -1) + (second.endsWith('A') ? 'B' : 'A')]) {
      const reply = await client.post('/api/setup', form(token));
      expect(reply.status, token).toBe(404);
      expect(reply.body.error).toBe('setup_link_invalid');
    }
    expect(await written()).toEqual(before);
    const counted = await runtime.db.selectFrom('anonymous_failure_counts').selectAll().where('action', '=', 'setup.refused').executeTakeFirstOrThrow();
    expect(counted).toMatchObject({ key: 'setup_link_invalid', count: 3 });
    // The newest link still works.
    expect((await client.post('/api/setup', form(second))).status).toBe(201);
  });

  it('refuses setup once an organisation exists, even with a valid link made before it appeared (already_set_up)', async () => {
    const { runtime, client, newLink, written } = await freshInstance();
    const token = tokenOf(await newLink());
    await createOrganisation(runtime, { actor: 'cli' }, { name: 'Made by the CLI meanwhile' });
    const before = await written();
    const reply = await client.post('/api/setup', form(token));
    expect(reply.status).toBe(409);
    expect(reply.body.error).toBe('already_set_up');
    expect(await written()).toEqual(before);
  });

  it('lets exactly one of two simultaneous requests with one link through', async () => {
    const { server, runtime, client, newLink } = await freshInstance();
    const token = tokenOf(await newLink());
    const other = browser(runtime, { baseUrl: server.url });
    const replies = await Promise.all([client.post('/api/setup', form(token)), other.post('/api/setup', form(token, { organisation_name: 'Rival Ministry', email: 'eve@rival.example.gov' }))]);
    expect(replies.map((r) => r.status).sort()).toEqual([201, 410]);
    expect(replies.find((r) => r.status === 410)!.body.error).toBe('setup_link_used');
    expect(await runtime.db.selectFrom('organisations').select('name').execute()).toHaveLength(1);
    expect(await runtime.db.selectFrom('invitations').select('id').execute()).toHaveLength(1);
  });

  it.each([
    ['no token', { token: undefined }],
    ['an overlong token', { token: 'A'.repeat(129) }],
    ['no organisation name', { organisation_name: undefined }],
    ['an empty organisation name', { organisation_name: '   ' }],
    ['an overlong organisation name', { organisation_name: 'M'.repeat(201) }],
    ['a NUL in the organisation name', { organisation_name: 'Ministry\u0000 of Digital Affairs' }],
    ['no admin name', { display_name: undefined }],
    ['an overlong admin name', { display_name: 'A'.repeat(201) }],
    ['a NUL in the admin name', { display_name: 'Ala\u0000Admin' }],
    ['neither e-mail nor employee id', { email: undefined }],
    ['a malformed e-mail', { email: 'not-an-address' }],
    ['an overlong e-mail', { email: `${'a'.repeat(250)}@example.gov` }],
    ['a malformed employee id', { email: undefined, employee_id: 'E 1001; drop' }],
    ['a malformed e-mail domain', { email_domains: ['not a domain'] }],
    ['e-mail domains that are not a list', { email_domains: 'example.gov' }],
    ['too many e-mail domains', { email_domains: Array.from({ length: 51 }, (_, i) => `d${i}.example.gov`) }],
    ['a number for a name', { display_name: 42 }],
  ])('refuses %s with 400 invalid_request, writing nothing, and the link still works', async (_name, overrides) => {
    const { client, newLink, written } = await freshInstance();
    const token = tokenOf(await newLink());
    const before = await written();
    const reply = await client.post('/api/setup', form(token, overrides));
    expect(reply.status, JSON.stringify(reply.body)).toBe(400);
    expect(reply.body.error).toBe('invalid_request');
    expect(await written()).toEqual(before);
    expect((await client.post('/api/setup', form(token))).status).toBe(201);
  });

  it('is throttled per address like the other anonymous endpoints', async () => {
    const { client } = await freshInstance({ WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: '2' });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await client.post('/api/setup', form('A'.repeat(43)))).status);
    expect(statuses).toEqual([404, 404, 429]);
  });

  it('serves the page in English and Polish, without the token (it stays in the fragment)', async () => {
    const { server } = await freshInstance();
    const en = await fetch(`${server.url}/setup`);
    expect(en.status).toBe(200);
    expect(await en.text()).toContain('/static/setup.js');
    const pl = await (await fetch(`${server.url}/setup`, { headers: { 'accept-language': 'pl' } })).text();
    expect(pl).toContain('Konfiguracja Warty');
    expect((await fetch(`${server.url}/static/setup.js`)).status).toBe(200);
  });

  it('once set up, the page says so and offers no form', async () => {
    const { server, runtime } = await freshInstance();
    await createOrganisation(runtime, { actor: 'cli' }, { name: 'Existing Ministry' });
    const page = await (await fetch(`${server.url}/setup`)).text();
    expect(page).toContain('Warta is already set up');
    expect(page).not.toContain('setup-form');
  });
});

describe('announcing the link at start-up', () => {
  const consoleFor = (isTTY: boolean) => {
    const lines: string[] = [];
    return { lines, console: { isTTY, write: (line: string) => lines.push(line) } };
  };

  it('prints one line on a terminal, never to the log; a restart voids the last link', async () => {
    const { runtime, client } = await freshInstance();
    const { log, lines: logged } = capturingLogger();
    const first = consoleFor(true);
    await announceSetupLink({ ...runtime, log }, first.console);
    expect(first.lines).toHaveLength(1);
    expect(first.lines[0]).toMatch(/^[^\n]*\/setup#token=[\w-]+[^\n]*\n$/);
    const firstToken = /#token=([\w-]+)/.exec(first.lines[0]!)![1]!;
    const second = consoleFor(true);
    await announceSetupLink({ ...runtime, log }, second.console);
    const secondToken = /#token=([\w-]+)/.exec(second.lines[0]!)![1]!;
    expect(JSON.stringify(logged)).not.toContain(firstToken);
    expect((await client.post('/api/setup', form(firstToken))).body.error).toBe('setup_link_invalid');
    expect((await client.post('/api/setup', form(secondToken))).status).toBe(201);
  });

  it('off a terminal logs only a hint without the token and keeps the link `warta setup-link` printed, unless WARTA_PRINT_SETUP_LINK is set', async () => {
    const { runtime, client, newLink } = await freshInstance();
    const fromCli = tokenOf(await newLink());
    const { log, lines: logged } = capturingLogger();
    const piped = consoleFor(false);
    await announceSetupLink({ ...runtime, log }, piped.console);
    expect(piped.lines).toEqual([]);
    expect(logged.map((l) => l.msg)).toEqual(['no organisation yet: run `warta setup-link` for the setup link']);
    expect(JSON.stringify(logged)).not.toContain('#token=');
    expect((await client.post('/api/setup', form(fromCli))).status).toBe(201);

    const printing = await freshInstance({ WARTA_PRINT_SETUP_LINK: '1' });
    const forced = consoleFor(false);
    await announceSetupLink({ ...printing.runtime, log }, forced.console);
    expect(forced.lines).toHaveLength(1);
    expect(logged).toHaveLength(1);
  });

  it('makes and prints nothing once an organisation exists', async () => {
    const { runtime, written } = await freshInstance();
    await createOrganisation(runtime, { actor: 'cli' }, { name: 'Existing Ministry' });
    const before = await written();
    const out = consoleFor(true);
    await announceSetupLink(runtime, out.console);
    expect(out.lines).toEqual([]);
    expect(await runtime.db.selectFrom('setup_token').selectAll().execute()).toEqual([]);
    expect(await written()).toEqual(before);
  });
});

describe('warta setup-link and warta bootstrap', () => {
  const io = (runtime: Runtime) => ({ runtime: async () => runtime, write: () => {} });

  it('setup-link prints a fresh link that voids the last, and is refused (already_set_up) once an organisation exists', async () => {
    const { runtime, client, newLink } = await freshInstance();
    const earlier = tokenOf(await newLink());
    const result = await setupLinkCommand.run({}, io(runtime));
    expect(setupLinkCommand.format(result)).toContain(result.link);
    expect((await client.post('/api/setup', form(earlier))).body.error).toBe('setup_link_invalid');
    expect((await client.post('/api/setup', form(tokenOf(result.link)))).status).toBe(201);
    const refused = await setupLinkCommand.run({}, io(runtime)).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 409, code: 'already_set_up' });
  });

  it('two bootstraps at once make one first organisation; the other is refused', async () => {
    const { runtime } = await freshInstance();
    const flags = (org: string, email: string) => ({ org, admin: 'Admin', email });
    const results = await Promise.allSettled([bootstrapCommand.run(flags('First Ministry', 'a@first.example.gov'), io(runtime)), bootstrapCommand.run(flags('Second Ministry', 'b@second.example.gov'), io(runtime))]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'already_bootstrapped' });
    expect(await runtime.db.selectFrom('organisations').select('name').execute()).toHaveLength(1);
  });

  it('a setup after bootstrap is refused (already_set_up)', async () => {
    const { runtime, client, newLink } = await freshInstance();
    const token = tokenOf(await newLink());
    await bootstrapCommand.run({ org: 'Bootstrapped Ministry', admin: 'Admin', email: 'a@boot.example.gov' }, io(runtime));
    expect((await client.post('/api/setup', form(token))).body.error).toBe('already_set_up');
  });
});

// PGlite has one connection, so its transactions never overlap: the lock shows only with several instances on PostgreSQL.
describe.runIf(usingPostgres)('several instances on one PostgreSQL database', () => {
  it('an instance that does not get the lock prints no link and voids none', async () => {
    const { runtime: first } = await freshInstance();
    const second = await createTestRuntime({ databaseUrl: first.databaseUrl!, clock: first.clock });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = first.db.transaction().execute(async (trx) => {
      await holdFirstOrganisationLock(trx);
      holding();
      await released;
    });
    await held;
    const quiet: string[] = [];
    await announceSetupLink(second, { isTTY: true, write: (line) => quiet.push(line) });
    release();
    await holder;
    expect(quiet).toEqual([]);
    expect(await second.db.selectFrom('setup_token').selectAll().execute()).toEqual([]);
    const printed: string[] = [];
    await announceSetupLink(second, { isTTY: true, write: (line) => printed.push(line) });
    expect(printed).toHaveLength(1);
  });

  it('two instances bootstrapping at once make one first organisation', async () => {
    const { runtime: first } = await freshInstance();
    const second = await createTestRuntime({ databaseUrl: first.databaseUrl!, clock: first.clock });
    const io = (runtime: Runtime) => ({ runtime: async () => runtime, write: () => {} });
    const results = await Promise.allSettled([
      bootstrapCommand.run({ org: 'First Ministry', admin: 'Admin', email: 'a@first.example.gov' }, io(first)),
      bootstrapCommand.run({ org: 'Second Ministry', admin: 'Admin', email: 'b@second.example.gov' }, io(second)),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await first.db.selectFrom('organisations').select('name').execute()).toHaveLength(1);
  });
});
