import type { OutboxSettings } from '../config.js';

export type RetryRules = Pick<OutboxSettings, 'retryMinSeconds' | 'retryMaxSeconds' | 'maxAgeSeconds'>;

/** Exponential back-off from retryMin to retryMax, with jitter so a recovering endpoint is not hit by every instance at once. */
export function retryDelaySeconds(attempts: number, rules: Pick<RetryRules, 'retryMinSeconds' | 'retryMaxSeconds'>, random: () => number = Math.random): number {
  const base = Math.min(rules.retryMaxSeconds, rules.retryMinSeconds * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  return Math.min(rules.retryMaxSeconds, Math.max(rules.retryMinSeconds, Math.round(base * (0.5 + random() * 0.5))));
}

/** A failed message is given up on once it is older than the give-up age, or has used the attempts its outbox allows. */
export function isTimeToGiveUp(message: { created_at: Date; attempts: number }, now: Date, rules: Pick<RetryRules, 'maxAgeSeconds'> & { maxAttempts?: number }): boolean {
  if (rules.maxAttempts !== undefined && message.attempts >= rules.maxAttempts) return true;
  return now.getTime() - message.created_at.getTime() >= rules.maxAgeSeconds * 1000;
}
