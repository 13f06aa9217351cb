import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** How a person proved who they are; `completeSignIn`'s method names mapped to a few fixed label values. */
export type SignInMethod = 'passkey' | 'password_totp' | 'recovery_code' | 'other';

/** Which failed-attempt counter locked: a person's account, a client address, or a recovery case's code. */
export type LockScope = 'account' | 'address' | 'recovery_case';

/** Which throttle refused a request: the failed-attempt back-off (429 too_many_attempts) or the per-address request rate (429 too_many_requests). */
export type ThrottleLimit = 'failed_attempts' | 'request_rate';

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The method as a label: anything else a client sends would add a series per made-up method. */
const methodLabel = (method: string) => (HTTP_METHODS.has(method) ? method : 'other');

export function signInMethodLabel(method: string): SignInMethod {
  if (method === 'passkey') return 'passkey';
  if (method === 'password+totp') return 'password_totp';
  if (method.startsWith('recovery:') || method === 'recovery_code') return 'recovery_code';
  return 'other';
}

/**
 * One Prometheus registry per runtime (never prom-client's global one, so two
 * runtimes in one process count apart), with the counters and histograms code
 * records into as things happen. Gauges read from the database at scrape time
 * are added by `collectFromDatabase` (src/metrics/database.ts).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;
  private readonly signIns: Counter<'method' | 'result'>;
  private readonly tokens: Counter<'grant_type'>;
  private readonly throttleRefusals: Counter<'limit'>;
  private readonly locks: Counter<'scope'>;
  private readonly queryDuration: Histogram<'result'>;

  constructor() {
    const registers = [this.registry];
    // Memory, CPU, event loop lag, GC: the standard process_* and nodejs_* names dashboards expect.
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({ name: 'warta_http_requests_total', help: 'HTTP requests answered on the public port, by method, matched route pattern and status.', labelNames: ['method', 'route', 'status'], registers });
    this.httpDuration = new Histogram({ name: 'warta_http_request_duration_seconds', help: 'Time from a request reaching Warta to its response, by method and matched route pattern.', labelNames: ['method', 'route'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    this.signIns = new Counter({ name: 'warta_sign_ins_total', help: 'Sign-in attempts by method and result (success or failure).', labelNames: ['method', 'result'], registers });
    this.tokens = new Counter({ name: 'warta_tokens_issued_total', help: 'Token responses issued by the token endpoint, by grant type.', labelNames: ['grant_type'], registers });
    this.throttleRefusals = new Counter({ name: 'warta_throttle_refusals_total', help: 'Requests refused with 429 by a throttle: failed-attempt back-off or per-address request rate.', labelNames: ['limit'], registers });
    this.locks = new Counter({ name: 'warta_locks_total', help: 'Failed-attempt counters that reached their lock: an account, a client address, or a recovery case.', labelNames: ['scope'], registers });
    this.queryDuration = new Histogram({ name: 'warta_database_query_duration_seconds', help: 'Database query durations, by result (ok or error).', labelNames: ['result'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers });
  }

  /** `route` is the matched pattern (`/api/admin/clients/:id`), never the raw path: one series per endpoint, not per id. */
  recordRequest(request: { method: string; route: string; status: number; seconds: number }): void {
    const method = methodLabel(request.method);
    this.httpRequests.inc({ method, route: request.route, status: String(request.status) });
    this.httpDuration.observe({ method, route: request.route }, request.seconds);
  }

  recordSignIn(method: string, result: 'success' | 'failure'): void {
    this.signIns.inc({ method: signInMethodLabel(method), result });
  }

  recordTokenIssued(grantType: 'authorization_code' | 'refresh_token' | 'client_credentials'): void {
    this.tokens.inc({ grant_type: grantType });
  }

  recordThrottleRefusal(limit: ThrottleLimit): void {
    this.throttleRefusals.inc({ limit });
  }

  recordLock(scope: LockScope): void {
    this.locks.inc({ scope });
  }

  recordQuery(seconds: number, failed: boolean): void {
    this.queryDuration.observe({ result: failed ? 'error' : 'ok' }, seconds);
  }

  /** The Prometheus text exposition of everything registered. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
