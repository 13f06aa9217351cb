import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ErrorSummary, type IntervalTimer } from '../../src/http/error-summary.js';
import { capturingLogger } from '../support/capturing-logger.js';


/** An interval timer the test ticks by hand; `running` says whether the summary keeps one. */
function manualTimer() {
  const timer = { tick: undefined as (() => void) | undefined, intervalMs: 0, started: 0 };
  const start: IntervalTimer = (intervalMs, tick) => {
    timer.tick = tick;
    timer.intervalMs = intervalMs;
    timer.started += 1;
    return () => {
      timer.tick = undefined;
    };
  };
  return { start, timer, running: () => timer.tick !== undefined, fire: () => timer.tick?.() };
}

function setUp() {
  const { log, lines } = capturingLogger();
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 8, 0, 0));
  const { start, timer, running, fire } = manualTimer();
  const summary = new ErrorSummary(log, { clock, timer: start });
  return { summary, lines, clock, timer, running, fire };
}

const databaseDown = { code: 'temporarily_unavailable', message: 'connect ECONNREFUSED 127.0.0.1:5432' };

describe('repeated errors in the log', () => {
  it('writes 1000 identical errors as the first in full and one line counting the other 999', () => {
    const { summary, lines, clock, fire } = setUp();
    const firstAt = clock.now().toISOString();
    for (let i = 0; i < 1000; i++) {
      clock.advance(0.005);
      summary.report('error', databaseDown, { requestId: `r${i}`, code: databaseDown.code }, 'request failed');
    }
    const lastAt = clock.now().toISOString();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, requestId: 'r0', code: 'temporarily_unavailable', msg: 'request failed' });

    clock.advance(5);
    fire();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 50, code: 'temporarily_unavailable', error: databaseDown.message, count: 999, msg: 'request failed: repeated 999 times' });
    expect(lines[1]!.first_at).toBe(new Date(Date.parse(firstAt) + 10).toISOString());
    expect(lines[1]!.last_at).toBe(lastAt);
  });

  it('keeps distinct errors apart: another code or another message is written in full and counted on its own', () => {
    const { summary, lines, fire } = setUp();
    const bug = { code: 'server_error', message: "Cannot read properties of undefined (reading 'id')" };
    const otherBug = { code: 'server_error', message: 'x is not a function' };
    for (let i = 0; i < 3; i++) {
      summary.report('error', databaseDown, { code: databaseDown.code }, 'request failed');
      summary.report('error', bug, { code: bug.code }, 'request failed');
      summary.report('error', otherBug, { code: otherBug.code }, 'request failed');
    }
    summary.report('warn', { code: 'temporarily_unavailable', message: 'timeout exceeded when trying to connect' }, { code: 'temporarily_unavailable' }, 'request failed');
    expect(lines).toHaveLength(4);
    fire();
    const summaries = lines.slice(4);
    expect(summaries).toHaveLength(3);
    expect(summaries.map((line) => [line.code, line.error, line.count])).toEqual([
      ['temporarily_unavailable', databaseDown.message, 2],
      ['server_error', bug.message, 2],
      ['server_error', otherBug.message, 2],
    ]);
  });

  it('writes the count only when the interval ticks, then one line per interval while the errors go on', () => {
    const { summary, lines, clock, timer, running, fire } = setUp();
    expect(running()).toBe(false);
    summary.report('error', databaseDown, {}, 'request failed');
    expect(running()).toBe(true);
    expect(timer.intervalMs).toBe(10_000);
    summary.report('error', databaseDown, {}, 'request failed');
    summary.report('error', databaseDown, {}, 'request failed');
    expect(lines).toHaveLength(1);

    clock.advance(10);
    fire();
    expect(lines.map((line) => line.count)).toEqual([undefined, 2]);

    // The outage goes on: still no line per error, one count per interval.
    for (let i = 0; i < 50; i++) summary.report('error', databaseDown, {}, 'request failed');
    expect(lines).toHaveLength(2);
    clock.advance(10);
    fire();
    expect(lines.map((line) => line.count)).toEqual([undefined, 2, 50]);

    // A quiet interval writes nothing, forgets the error and stops the timer; its return is written in full again.
    clock.advance(10);
    fire();
    expect(lines).toHaveLength(3);
    expect(running()).toBe(false);
    summary.report('error', databaseDown, { requestId: 'back' }, 'request failed');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatchObject({ requestId: 'back', msg: 'request failed' });
    expect(timer.started).toBe(2);
  });

  it('keeps an error seen just before a tick for the next interval, so it is not written in full twice', () => {
    const { summary, lines, clock, fire } = setUp();
    clock.advance(9.9);
    summary.report('error', databaseDown, {}, 'request failed');
    clock.advance(0.1);
    fire();
    summary.report('error', databaseDown, {}, 'request failed');
    expect(lines).toHaveLength(1);
    clock.advance(10);
    fire();
    expect(lines.map((line) => line.count)).toEqual([undefined, 1]);
  });

  it('writes what is still counted when it is closed at shutdown, and stops its timer', () => {
    const { summary, lines, running } = setUp();
    for (let i = 0; i < 7; i++) summary.report('error', databaseDown, {}, 'request failed');
    summary.close();
    expect(lines.map((line) => line.count)).toEqual([undefined, 6]);
    expect(running()).toBe(false);
  });
});
