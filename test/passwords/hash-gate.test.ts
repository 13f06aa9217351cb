import { describe, expect, it } from 'vitest';
import { WartaError } from '../../src/errors.js';
import { HashGate, threadpoolShortfall } from '../../src/passwords/hash-gate.js';

/** A hash the test finishes by hand: no timers, no sleeps. */
function deferred() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { done, finish };
}

/** Runs a controllable hash through the gate and records when it starts. */
function startHash(gate: HashGate, started: number[], id: number) {
  const work = deferred();
  const result = gate.run(async () => {
    started.push(id);
    await work.done;
    return id;
  });
  return { result, finish: work.finish };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the argon2 hash gate', () => {
  it('runs at most `concurrency` hashes at once, starting queued ones in order as slots free', async () => {
    const gate = new HashGate({ concurrency: 2, queue: 2 });
    const started: number[] = [];
    const hashes = [1, 2, 3, 4].map((id) => startHash(gate, started, id));
    await settle();
    expect(started).toEqual([1, 2]);
    hashes[1]!.finish();
    expect(await hashes[1]!.result).toBe(2);
    await settle();
    expect(started).toEqual([1, 2, 3]);
    hashes[0]!.finish();
    await settle();
    expect(started).toEqual([1, 2, 3, 4]);
    for (const hash of hashes) hash.finish();
    expect(await Promise.all(hashes.map((hash) => hash.result))).toEqual([1, 2, 3, 4]);
  });

  it('refuses a hash beyond the slots and the queue with 503 temporarily_unavailable and Retry-After, without running it', async () => {
    const gate = new HashGate({ concurrency: 1, queue: 1 });
    const started: number[] = [];
    const running = startHash(gate, started, 1);
    const queued = startHash(gate, started, 2);
    const refused = startHash(gate, started, 3);
    const error = await refused.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WartaError);
    expect(error).toMatchObject({ status: 503, code: 'temporarily_unavailable', headers: { 'Retry-After': '1' } });
    await settle();
    expect(started).toEqual([1]);
    running.finish();
    queued.finish();
    expect(await Promise.all([running.result, queued.result])).toEqual([1, 2]);
    expect(started).toEqual([1, 2]);
  });

  it('frees the slot of a hash that throws', async () => {
    const gate = new HashGate({ concurrency: 1, queue: 0 });
    await expect(gate.run(() => Promise.reject(new Error('argon2 failed')))).rejects.toThrow('argon2 failed');
    expect(await gate.run(() => Promise.resolve('next'))).toBe('next');
  });
});

describe('libuv threadpool beside the hashing slots', () => {
  it('asks for two threads beyond the hashing slots when UV_THREADPOOL_SIZE leaves fewer', () => {
    expect(threadpoolShortfall(2, {})).toBeUndefined();
    expect(threadpoolShortfall(3, {})).toBe(5);
    expect(threadpoolShortfall(8, {})).toBe(10);
    expect(threadpoolShortfall(8, { UV_THREADPOOL_SIZE: '10' })).toBeUndefined();
    expect(threadpoolShortfall(8, { UV_THREADPOOL_SIZE: '9' })).toBe(10);
  });

  it('reads UV_THREADPOOL_SIZE as libuv does (atoi; 0 is 1 thread; a negative number wraps to the cap of 1024)', () => {
    for (const value of ['', 'many', '0']) expect(threadpoolShortfall(0, { UV_THREADPOOL_SIZE: value })).toBe(2);
    expect(threadpoolShortfall(1, { UV_THREADPOOL_SIZE: '2.5' })).toBe(3);
    expect(threadpoolShortfall(5, { UV_THREADPOOL_SIZE: '7x' })).toBeUndefined();
    expect(threadpoolShortfall(6, { UV_THREADPOOL_SIZE: '7x' })).toBe(8);
    expect(threadpoolShortfall(1000, { UV_THREADPOOL_SIZE: '-3' })).toBeUndefined();
    expect(threadpoolShortfall(1000, { UV_THREADPOOL_SIZE: '5000' })).toBeUndefined();
    expect(threadpoolShortfall(1023, {})).toBeUndefined();
  });
});
