import { describe, expect, it, vi } from 'vitest';
import { startPeriodicJob } from '../src/jobs/periodic.js';
import { createLogger } from '../src/log.js';

describe('periodic background jobs', () => {
  it('skip a tick while a round is still running, and stop waits for that round', async () => {
    vi.useFakeTimers();
    try {
      let release!: () => void;
      const rounds: number[] = [];
      const job = startPeriodicJob({
        name: 'test job',
        intervalMs: 10,
        log: createLogger('silent'),
        round: () => {
          rounds.push(rounds.length);
          return new Promise<void>((resolve) => (release = resolve));
        },
      });
      await vi.advanceTimersByTimeAsync(50);
      expect(rounds).toEqual([0]);
      let stopped = false;
      const stopping = job.stop().then(() => (stopped = true));
      await Promise.resolve();
      expect(stopped).toBe(false);
      release();
      await stopping;
      await vi.advanceTimersByTimeAsync(50);
      expect(rounds).toEqual([0]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('log a failed round and run the next one', async () => {
    vi.useFakeTimers();
    try {
      const warnings: string[] = [];
      const log = createLogger('warn', { write: (line: string) => warnings.push(line) });
      let calls = 0;
      const job = startPeriodicJob({ name: 'flaky job', intervalMs: 10, log, round: async () => { calls += 1; if (calls === 1) throw new Error('database gone'); } });
      await vi.advanceTimersByTimeAsync(25);
      await job.stop();
      expect(calls).toBe(2);
      expect(warnings.join('')).toContain('flaky job failed; will retry');
    } finally {
      vi.useRealTimers();
    }
  });
});
