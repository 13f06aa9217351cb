import { WartaError } from '../errors.js';

export interface HashGateLimits {
  /** Hashes computed at once on this instance (argon2 takes a core and its memory cost each). */
  concurrency: number;
  /** Hashes allowed to wait for a free slot; beyond that the request is refused at once. */
  queue: number;
}

/** How long a client refused for lack of hashing capacity should wait: a hash takes tens of milliseconds. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Caps the argon2 work of one instance. Each hash costs a core and
 * `WARTA_ARGON2_MEMORY_KIB` of memory, and anyone can ask for one (a sign-in
 * with any username verifies a hash), so an unbounded number of them in
 * parallel starves every other request and can exhaust memory (issue 11,
 * attack 6). Past the slots and a short queue the answer is 503 with
 * Retry-After: a client retries in a second, a flood costs nothing.
 *
 * Per instance on purpose: it protects this process's CPU and memory; the
 * failure counters that protect accounts are in the database.
 */
export class HashGate {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly limits: HashGateLimits) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.#enter();
    try {
      return await work();
    } finally {
      this.#leave();
    }
  }

  #enter(): Promise<void> {
    if (this.#running < this.limits.concurrency) {
      this.#running += 1;
      return Promise.resolve();
    }
    if (this.#waiting.length >= this.limits.queue) return Promise.reject(hashingBusy());
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** A finished hash hands its slot straight to the first waiter, so the running count never dips and lets a newcomer jump the queue. */
  #leave(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running -= 1;
  }
}

export const hashingBusy = () =>
  new WartaError(503, 'temporarily_unavailable', 'the server is busy checking other passwords; try again in a moment', { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } });

/** Threads kept free of hashing for token signatures (src/crypto/envelope-key-provider.ts) and file writes. */
const THREADS_BESIDE_HASHING = 2;

/**
 * argon2 hashes and token signatures share libuv's threadpool. When the hashing
 * slots fill it, a signature waits for a hash (tens of milliseconds) to finish, so
 * a burst of password sign-ins would slow every token endpoint. libuv sizes the
 * pool once, from UV_THREADPOOL_SIZE as the process started with it (module loading
 * already uses the pool, so Warta cannot set it for itself). Returns the size to set,
 * or undefined when the pool is large enough.
 */
export function threadpoolShortfall(concurrency: number, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const needed = concurrency + THREADS_BESIDE_HASHING;
  return libuvThreadpoolSize(env.UV_THREADPOOL_SIZE) < needed && needed <= LIBUV_MAX_THREADS ? needed : undefined;
}

const LIBUV_MAX_THREADS = 1024;

/** The pool libuv makes of UV_THREADPOOL_SIZE (its threadpool.c): 4 unset, else atoi's number, 0 taken as 1, past the cap (or negative, wrapping) the cap. */
function libuvThreadpoolSize(value: string | undefined): number {
  if (value === undefined) return 4;
  const leading = Number(/^\s*([+-]?\d+)/.exec(value)?.[1] ?? 0);
  if (leading === 0) return 1;
  return leading < 0 || leading > LIBUV_MAX_THREADS ? LIBUV_MAX_THREADS : leading;
}
