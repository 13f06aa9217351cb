import type { Result, Router } from 'hono/router';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { SmartRouter } from 'hono/router/smart-router';
import { TrieRouter } from 'hono/router/trie-router';

/** Distinct method and path pairs remembered; past this the memo starts over, so made-up paths cannot grow it. */
export const MEMOISED_ROUTES = 1024;
/** Longer paths are routed every time: the memo holds at most MEMOISED_ROUTES × this many characters of keys. */
export const MEMOISED_PATH_LENGTH = 256;

/**
 * hono's default router, remembering its answer for each method and path. A
 * match depends on nothing else, and hono only reads what a match returns, so a
 * remembered answer is the one the router would give again. Warta's routes
 * leave hono on its trie router (the faster RegExpRouter refuses some of them),
 * which walks a few hundred routes on every request; the memo makes the
 * endpoints clients call all day (token, JWKS, introspection) one map look-up.
 */
export class MemoisedRouter<T> implements Router<T> {
  readonly name = 'MemoisedRouter';
  private readonly matches = new Map<string, Result<T>>();

  constructor(private readonly router: Router<T> = new SmartRouter<T>({ routers: [new RegExpRouter<T>(), new TrieRouter<T>()] })) {}

  add(method: string, path: string, handler: T): void {
    this.matches.clear();
    this.router.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    if (path.length > MEMOISED_PATH_LENGTH) return this.router.match(method, path);
    const key = `${method} ${path}`;
    let result = this.matches.get(key);
    if (result === undefined) {
      result = this.router.match(method, path);
      if (this.matches.size >= MEMOISED_ROUTES) this.matches.clear();
      this.matches.set(key, result);
    }
    return result;
  }
}
