import { describe, expect, it } from 'vitest';
import { startWartaServer } from '../support/browser.js';
import { createTestUser } from '../support/runtime.js';
import { codeAt, givePasswordAndTotp } from '../passwords/support.js';

/**
 * Attack 6 of issue 11: many password guesses against one account, sent at
 * once over real HTTP from one address. A check-then-count throttle lets every
 * guess in flight past the check; the attempt must be counted before it is
 * evaluated, so the configured threshold holds however many arrive together.
 */
const LOCK_AFTER = 10;
const server = await startWartaServer({ env: { WARTA_SIGNIN_FREE_ATTEMPTS: String(LOCK_AFTER), WARTA_SIGNIN_LOCK_AFTER: String(LOCK_AFTER) } });
const { runtime } = server;

const auditOf = (action: string, subject: string) => runtime.db.selectFrom('audit_log').select('id').where('action', '=', action).where('subject', '=', subject).execute();

describe('concurrent password guesses against one account', () => {
  it('refuses with 429 every guess beyond the lock threshold, evaluating no more than the threshold', async () => {
    const user = await createTestUser(runtime);
    const { secret } = await givePasswordAndTotp(runtime, user);
    const code = codeAt(secret, runtime.clock);
    const guesses = 80;
    const answers = await Promise.all(
      Array.from({ length: guesses }, (_, i) =>
        fetch(`${server.url}/api/signin/password`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user.username, password: `guess number ${i}`, code }) }).then(async (response) => ({
          status: response.status,
          body: (await response.json()) as { error: string },
          retryAfter: response.headers.get('retry-after'),
        })),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    // Every evaluated guess costs an argon2 verification and leaves one failure entry.
    const evaluated = await auditOf('signin.failed', `user:${user.id}`);
    expect(evaluated).toHaveLength(LOCK_AFTER);
    expect(statuses.filter((status) => status === 401)).toHaveLength(LOCK_AFTER);
    expect(statuses.filter((status) => status === 429)).toHaveLength(guesses - LOCK_AFTER);
    for (const answer of answers.filter((a) => a.status === 429)) {
      expect(answer.body.error).toBe('too_many_attempts');
      expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    }
    expect(await auditOf('signin.account_locked', `user:${user.id}`)).toHaveLength(1);
    expect(await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).toEqual([]);
  });
});
