/**
 * Repeated identical errors, summarised. While the database is down every
 * request fails the same way, and a flood hitting one bug fails the same way
 * thousands of times: one log line each buries everything else an operator
 * needs to read (about 9,700 lines in a 23 s PostgreSQL stop). The first error
 * of a kind (same code and message) is written in full; its repeats are only
 * counted, and written as one line per interval with the count and when the
 * first and last of them happened.
 *
 * @example
 * const summary = new ErrorSummary(log, { clock });
 * summary.report('error', { code: 'temporarily_unavailable', message: error.message }, { requestId, code }, 'request failed');
 * // at shutdown
 * summary.close();
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';

export const DEFAULT_SUMMARY_INTERVAL_MS = 10_000;

/** Kinds counted at once; beyond it a new kind is written in full and not followed, so odd messages cannot grow memory. */
const MAX_KINDS = 1000;

export type SummarisedLevel = 'error' | 'warn';

/** What makes two errors the same. */
export interface ErrorKind {
  code: string;
  message: string;
}

/** Calls `tick` every `intervalMs` until the returned function is called (tests pass one they tick by hand). */
export type IntervalTimer = (intervalMs: number, tick: () => void) => () => void;

const unrefInterval: IntervalTimer = (intervalMs, tick) => {
  const timer = setInterval(tick, intervalMs);
  // A pending summary never keeps a process (a CLI command, a test) alive; shutdown writes it with close().
  timer.unref();
  return () => clearInterval(timer);
};

interface Repeats {
  kind: ErrorKind;
  level: SummarisedLevel;
  message: string;
  lastSeenAt: Date;
  count: number;
  firstRepeatAt: Date | undefined;
}

export class ErrorSummary {
  private readonly kinds = new Map<string, Repeats>();
  private readonly intervalMs: number;
  private stopTimer: (() => void) | undefined;

  constructor(
    private readonly log: Logger,
    private readonly options: { clock: Clock; intervalMs?: number; timer?: IntervalTimer },
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_SUMMARY_INTERVAL_MS;
  }

  /** Writes `fields` and `message` at `level`, unless an error of the same kind was written within the interval: then it only counts it. */
  report(level: SummarisedLevel, kind: ErrorKind, fields: Record<string, unknown>, message: string): void {
    const now = this.options.clock.now();
    const key = `${kind.code}\n${kind.message}`;
    const repeats = this.kinds.get(key);
    if (repeats) {
      repeats.count += 1;
      repeats.firstRepeatAt ??= now;
      repeats.lastSeenAt = now;
      return;
    }
    this.log[level](fields, message);
    if (this.kinds.size >= MAX_KINDS) return;
    this.kinds.set(key, { kind, level, message, lastSeenAt: now, count: 0, firstRepeatAt: undefined });
    this.stopTimer ??= (this.options.timer ?? unrefInterval)(this.intervalMs, () => this.flush());
  }

  /**
   * Writes one line for each kind that repeated since the last flush. A kind not
   * seen for a whole interval is forgotten (its next error is written in full),
   * and with none left the timer stops.
   */
  flush(): void {
    const now = this.options.clock.now().getTime();
    for (const [key, repeats] of this.kinds) {
      if (repeats.count > 0) {
        const { kind, level, count } = repeats;
        this.log[level](
          { code: kind.code, error: kind.message, count, first_at: repeats.firstRepeatAt!.toISOString(), last_at: repeats.lastSeenAt.toISOString() },
          `${repeats.message}: repeated ${count} times`,
        );
        repeats.count = 0;
        repeats.firstRepeatAt = undefined;
      } else if (now - repeats.lastSeenAt.getTime() >= this.intervalMs) {
        this.kinds.delete(key);
      }
    }
    if (this.kinds.size === 0) this.stop();
  }

  /** At shutdown: writes the counts not written yet and stops the timer. */
  close(): void {
    this.flush();
    this.kinds.clear();
    this.stop();
  }

  private stop(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }
}
