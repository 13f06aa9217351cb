import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseProxyTrust, type ProxyTrust, ProxyTrustEntryError } from './http/proxy-trust.js';
import { AllowListEntryError, destinationRefusal, DEVELOPMENT_OUTBOUND_ALLOW, type OutboundAllowList, parseOutboundAllowList } from './outbound/allow-list.js';

/** A bad or missing setting. Start-up prints `message` as its one line and stops. */
export class ConfigError extends Error {
  constructor(readonly variable: string, expected: string) {
    super(`${variable}: ${expected}`);
    this.name = 'ConfigError';
  }
}

/** Every setting, grouped by the capability that reads it. */
export interface Config {
  env: 'production' | 'development' | 'test';
  issuer: string;
  /** The issuer's origin, e.g. `https://id.example.gov`: the web origin pages and passkeys are bound to. */
  origin: string;
  /** True when the issuer is https: cookies get `Secure` and the `__Host-` prefix, responses get HSTS. */
  secureCookies: boolean;
  masterKey: { source: 'env' | 'file' | 'generated'; base64?: string; file?: string };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  http: {
    port: number;
    host: string;
    /** Which peers are the reverse proxy, whose last X-Forwarded-For hop is the client address (and whose forwarded client certificate is believed). */
    trustProxy: ProxyTrust;
    /** RFC 8705 behind a TLS-terminating proxy: the headers carrying the client certificate the proxy received, and its verdict on the chain; off when undefined. */
    clientCertificate: ClientCertificateSettings | undefined;
    bodyLimitBytes: number;
    /** Deadlines on the socket (src/http/server-options.ts): for the request headers, for the whole request, and for an idle kept-alive connection. */
    headersTimeoutSeconds: number;
    requestTimeoutSeconds: number;
    keepAliveTimeoutSeconds: number;
  };
  database: {
    /** PostgreSQL; undefined = the embedded PGlite database under dataDir. */
    url: string | undefined;
    dataDir: string;
    poolSize: number;
    connectAttempts: number;
    /** PostgreSQL: the hot statements as named prepared statements (src/db/prepared.ts); off behind a pooler that cannot keep them. */
    preparedStatements: boolean;
  };
  webauthn: {
    rpId: string;
    rpName: string;
    /** Exact origins accepted in WebAuthn clientDataJSON: the web origin, WARTA_ALLOWED_ORIGINS, and one `android:apk-key-hash:` origin per signing certificate of `nativeApps.android`. */
    allowedOrigins: string[];
    challengeTtlSeconds: number;
    /** Local FIDO Metadata Service data for `direct` attestation policies: an MDS3 BLOB (+ the FIDO root it must chain to) or a folder of statements. Never fetched. */
    fidoMetadata: { blobFile: string; rootCertFile: string } | { dir: string } | undefined;
  };
  /** The messenger's native apps (src/native-apps/): what the association files declare, and (Android) the passkey origins. */
  nativeApps: NativeAppSettings;
  sessions: { idleSeconds: number; absoluteSeconds: number };
  invitations: { ttlSeconds: number };
  /** First run (src/setup/): print the setup link on stdout even when it is not a terminal (a container's console); otherwise only a hint is logged. */
  setup: { printLink: boolean };
  oidc: {
    accessTokenTtlSeconds: number;
    idTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    /** How long an authorization code may wait for its token request. */
    authorizationCodeTtlSeconds: number;
    /** How long an authorization request waits for the user to sign in and consent. */
    authorizationRequestTtlSeconds: number;
    /** RFC 9126: lifetime of a pushed authorization request's request_uri. */
    pushedRequestTtlSeconds: number;
    /** How long an instance trusts a client record it read (a rotated secret or deleted client takes effect elsewhere within this); 0 = always read. */
    clientCacheSeconds: number;
    /** Back-channel logout outbox: poll interval, attempts before giving up (besides the outbox's give-up age), per-request timeout. */
    backchannelLogout: { intervalMs: number; maxAttempts: number; timeoutMs: number };
    /** The least security profile every client is held to (src/clients/security-profile.ts); `fapi2` puts the whole instance under FAPI 2.0. */
    clientSecurityProfileFloor: 'baseline' | 'fapi2';
  };
  signingKeys: {
    cacheSeconds: number;
    /** Who holds the private halves of new signing keys (src/crypto/key-provider.ts): sealed in the database, or an HSM token over PKCS#11. */
    provider: SigningKeyProviderSettings;
  };
  audit: {
    sealIntervalMs: number;
    /** Anonymous failures (no existing account or client named) are counted per action and key over windows this long, then audited once per window (src/audit/anonymous-failures.ts). */
    anonymousFailureWindowSeconds: number;
    /** Where sealed entries are shipped as they are sealed (`WARTA_AUDIT_SINK`, src/audit-sink/); undefined: nowhere. */
    sink: AuditSinkSettings | undefined;
  };
  /** Security Event Token push delivery (src/events/): worker cadence, batch, per-request timeout, health threshold, retention. */
  securityEvents: SecurityEventSettings;
  /** The retry rules every outbox (SETs, back-channel logouts) delivers under (src/outbox/). */
  outbox: OutboxSettings;
  /** Where Warta may send anything (src/outbound/): SET receivers and back-channel logout URIs must be on this list. */
  outbound: { allow: OutboundAllowList };
  passwords: {
    /** argon2id cost for new password hashes; never below OWASP's minimum (m=19 MiB, t=2, p=1). Raising it rehashes at the next sign-in. */
    argon2: { memoryKiB: number; timeCost: number; parallelism: number };
    /** argon2 hashes computed at once on this instance, and how many may wait for a slot before the answer is 503 (src/passwords/hash-gate.ts). */
    hashing: { concurrency: number; queue: number };
  };
  totp: {
    /** Codes accepted this many time steps either side of now. */
    window: number;
    /** How long a secret shown for set-up waits for its confirming code. */
    setupTtlSeconds: number;
  };
  throttle: {
    /** Failed password sign-ins per account allowed before exponential back-off. */
    freeAttempts: number;
    /** Failed password sign-ins per account that lock it (NIST SP 800-63B: at most 100). */
    lockAfter: number;
    lockSeconds: number;
    /** Requests per minute one address may make to each anonymous endpoint that stores a row (passkey options, /authorize, /par) or checks a setup link (/api/setup); src/throttle/request-limit.ts. */
    anonymousRequestsPerMinute: number;
  };
  recovery: {
    /** How long a redeemed code's enrollment grant lasts. */
    grantTtlSeconds: number;
    /** How often expired cases are swept. */
    sweepIntervalMs: number;
    /** After a completed recovery, how long the account may not act as admin or officer (src/sessions/privilege.ts). */
    privilegeCooldownSeconds: number;
    /** A newly granted recovery officer acts on cases only after this long (a rogue admin's fresh officers cannot act at once); `warta officer waive-cooldown` lifts it for a named officer. */
    officerCooldownSeconds: number;
  };
  /** Addresses and user agents on records kept for other reasons (ended sessions, idle devices, old security events) are blanked after this long (src/privacy/). */
  personalData: { retentionSeconds: number };
  /** The management port (src/metrics/): Prometheus metrics and the detailed readiness report; off when `port` is undefined. */
  metrics: MetricsSettings;
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${value}`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${env[name]}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
}

function parseIssuer(raw: string, production: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('WARTA_ISSUER', `expected an absolute URL such as https://id.example.gov, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('WARTA_ISSUER', `expected an http(s) URL, got "${raw}"`);
  if (url.search || url.hash || raw.includes('#') || raw.includes('?')) throw new ConfigError('WARTA_ISSUER', 'must not have a query or fragment (OpenID Connect Discovery §3)');
  if (production && url.protocol !== 'https:' && !isLoopbackHost(url.hostname))
    throw new ConfigError('WARTA_ISSUER', `must be https in production, got "${raw}"`);
  return url;
}

/**
 * Extra web origins for passkeys. Native origins are not written here: an
 * Android app's origin is derived from WARTA_ANDROID_APPS (so the origin and the
 * assetlinks.json that lets the app use Warta's passkeys cannot disagree), and iOS
 * sends the web origin itself (`https://<rp id>`), never an `ios:bundle-id:`.
 */
function parseOrigins(raw: string | undefined, webOrigin: string, android: readonly AndroidApp[]): string[] {
  const extra = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const origin of extra) {
    if (origin.startsWith('android:'))
      throw new ConfigError('WARTA_ALLOWED_ORIGINS', `"${origin}": Android app origins come from WARTA_ANDROID_APPS (package=SHA-256 fingerprint), which also publishes assetlinks.json; remove it here`);
    if (origin.startsWith('ios:'))
      throw new ConfigError('WARTA_ALLOWED_ORIGINS', `"${origin}": iOS never sends an ios:bundle-id: origin (it sends https://<rp id>); set WARTA_APPLE_APP_IDS (TEAMID.bundle.id) instead, which publishes apple-app-site-association`);
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError('WARTA_ALLOWED_ORIGINS', `"${origin}" is not an origin (https://host[:port])`);
    }
    if (url.origin !== origin) throw new ConfigError('WARTA_ALLOWED_ORIGINS', `"${origin}" is not an origin (no path, no trailing slash)`);
  }
  const appOrigins = android.flatMap((app) => app.sha256CertFingerprints.map(androidOrigin));
  return [...new Set([webOrigin, ...extra, ...appOrigins])];
}

export interface AndroidApp {
  /** The application id, e.g. `gov.example.messenger`. */
  packageName: string;
  /** SHA-256 fingerprints of the app's signing certificates, as `keytool`/`apksigner` print them: 32 bytes, upper-case colon-separated hex. */
  sha256CertFingerprints: string[];
}

export interface NativeAppSettings {
  android: AndroidApp[];
  /** Apple app ids, `TEAMID.bundle.id`, allowed to use Warta's passkeys (webcredentials). */
  appleAppIds: string[];
}

/** The WebAuthn origin Android's Credential Manager sends for an app: `android:apk-key-hash:` + base64url (unpadded) of its signing certificate's SHA-256. */
export function androidOrigin(fingerprint: string): string {
  return `android:apk-key-hash:${Buffer.from(fingerprint.replaceAll(':', ''), 'hex').toString('base64url')}`;
}

// Java package naming as Android enforces it for an application id: two or more segments, each a letter then letters, digits, underscores.
const ANDROID_PACKAGE = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/;
const SHA256_FINGERPRINT = /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/;
// Apple: a ten-character team id, then the bundle id (letters, digits, hyphens, dots).
const APPLE_APP_ID = /^[A-Z0-9]{10}\.[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;

/**
 * `WARTA_ANDROID_APPS`: comma-separated `package=FINGERPRINT[|FINGERPRINT…]`, e.g.
 * `gov.example.messenger=AB:CD:…:EF|12:34:…:56` (a second certificate while the
 * signing key rotates, or a debug build's). Lower-case hex is accepted and stored upper-case.
 */
function androidApps(env: Env): AndroidApp[] {
  const raw = env.WARTA_ANDROID_APPS?.trim();
  if (!raw) return [];
  const apps = new Map<string, string[]>();
  for (const entry of raw.split(',').map((s) => s.trim())) {
    const [packageName = '', fingerprints = '', ...rest] = entry.split('=').map((s) => s.trim());
    if (!entry || rest.length || !fingerprints)
      throw new ConfigError('WARTA_ANDROID_APPS', `expected package=SHA-256 fingerprint[|fingerprint], comma-separated, e.g. gov.example.messenger=AB:CD:…(32 bytes), got "${entry}"`);
    if (!ANDROID_PACKAGE.test(packageName)) throw new ConfigError('WARTA_ANDROID_APPS', `"${packageName}" is not an Android package name (e.g. gov.example.messenger)`);
    if (apps.has(packageName)) throw new ConfigError('WARTA_ANDROID_APPS', `${packageName} is listed twice; give its fingerprints once, separated by |`);
    const list = fingerprints.split('|').map((f) => f.trim().toUpperCase());
    for (const fingerprint of list)
      if (!SHA256_FINGERPRINT.test(fingerprint))
        throw new ConfigError('WARTA_ANDROID_APPS', `${packageName}: "${fingerprint}" is not a SHA-256 certificate fingerprint (32 bytes as colon-separated hex, as \`keytool -list -v\` or \`apksigner verify --print-certs\` print it)`);
    apps.set(packageName, [...new Set(list)]);
  }
  return [...apps].map(([packageName, sha256CertFingerprints]) => ({ packageName, sha256CertFingerprints }));
}

/** `WARTA_APPLE_APP_IDS`: comma-separated `TEAMID.bundle.id`, e.g. `ABCDE12345.gov.example.messenger`. */
function appleAppIds(env: Env): string[] {
  const ids = (env.WARTA_APPLE_APP_IDS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids)
    if (!APPLE_APP_ID.test(id)) throw new ConfigError('WARTA_APPLE_APP_IDS', `"${id}" is not an app id: expected TEAMID.bundle.id (a ten-character team id, e.g. ABCDE12345.gov.example.messenger)`);
  return [...new Set(ids)];
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['production', 'development', 'test'] as const, 'development');
  const production = nodeEnv === 'production';
  const port = int(env, 'PORT', 3000, 0, 65535);
  const issuerUrl = parseIssuer(env.WARTA_ISSUER?.trim() || `http://localhost:${port}`, production);
  const issuer = issuerUrl.href.replace(/\/$/, '');

  const outboundAllow = outboundAllowList(env, production);

  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl))
    throw new ConfigError('DATABASE_URL', 'expected postgres://user:password@host:port/database (or unset for the embedded database)');

  const dataDir = path.resolve(env.WARTA_DATA_DIR?.trim() || './data');

  let masterKey: Config['masterKey'];
  if (env.WARTA_MASTER_KEY && env.WARTA_MASTER_KEY_FILE)
    throw new ConfigError('WARTA_MASTER_KEY', 'set either WARTA_MASTER_KEY or WARTA_MASTER_KEY_FILE, not both');
  if (env.WARTA_MASTER_KEY) {
    masterKey = { source: 'env', base64: validateMasterKey('WARTA_MASTER_KEY', env.WARTA_MASTER_KEY) };
  } else if (env.WARTA_MASTER_KEY_FILE) {
    const file = env.WARTA_MASTER_KEY_FILE;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError('WARTA_MASTER_KEY_FILE', `cannot read "${file}": ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    masterKey = { source: 'file', file, base64: validateMasterKey('WARTA_MASTER_KEY_FILE', text) };
  } else if (production) {
    throw new ConfigError('WARTA_MASTER_KEY', 'required when NODE_ENV=production (32 random bytes, base64: `openssl rand -base64 32`), or set WARTA_MASTER_KEY_FILE');
  } else {
    masterKey = { source: 'generated', file: path.join(dataDir, 'master.key') };
  }

  const trustProxy = proxyTrust(env);
  const nativeApps: NativeAppSettings = { android: androidApps(env), appleAppIds: appleAppIds(env) };

  const rpId = env.WARTA_RP_ID?.trim() || issuerUrl.hostname;
  if (issuerUrl.hostname !== rpId && !issuerUrl.hostname.endsWith(`.${rpId}`))
    throw new ConfigError('WARTA_RP_ID', `must be the issuer's host "${issuerUrl.hostname}" or a registrable suffix of it, got "${rpId}"`);

  return {
    env: nodeEnv,
    issuer,
    origin: issuerUrl.origin,
    secureCookies: issuerUrl.protocol === 'https:',
    masterKey,
    logLevel: oneOf(env, 'WARTA_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, nodeEnv === 'test' ? 'silent' : 'info'),
    http: {
      port,
      host: env.HOST?.trim() || '127.0.0.1',
      trustProxy,
      clientCertificate: clientCertificateSettings(env, trustProxy),
      bodyLimitBytes: int(env, 'WARTA_BODY_LIMIT_BYTES', 64 * 1024, 1024, 10 * 1024 * 1024),
      ...socketDeadlines(env),
    },
    database: {
      url: databaseUrl,
      dataDir,
      poolSize: int(env, 'WARTA_DB_POOL_SIZE', 10, 1, 200),
      connectAttempts: int(env, 'WARTA_DB_CONNECT_ATTEMPTS', 8, 1, 100),
      preparedStatements: bool(env, 'WARTA_DB_PREPARED_STATEMENTS', true),
    },
    webauthn: {
      rpId,
      rpName: env.WARTA_RP_NAME?.trim() || 'Warta',
      allowedOrigins: parseOrigins(env.WARTA_ALLOWED_ORIGINS, issuerUrl.origin, nativeApps.android),
      challengeTtlSeconds: int(env, 'WARTA_CHALLENGE_TTL_SECONDS', 300, 30, 3600),
      fidoMetadata: fidoMetadataSource(env),
    },
    nativeApps,
    sessions: {
      idleSeconds: int(env, 'WARTA_SESSION_IDLE_MINUTES', 30, 1, 7 * 24 * 60) * 60,
      absoluteSeconds: int(env, 'WARTA_SESSION_ABSOLUTE_HOURS', 12, 1, 24 * 90) * 3600,
    },
    invitations: { ttlSeconds: int(env, 'WARTA_INVITATION_TTL_HOURS', 72, 1, 24 * 30) * 3600 },
    setup: { printLink: bool(env, 'WARTA_PRINT_SETUP_LINK', false) },
    oidc: {
      accessTokenTtlSeconds: int(env, 'WARTA_ACCESS_TOKEN_TTL_SECONDS', 300, 30, 86400),
      idTokenTtlSeconds: int(env, 'WARTA_ID_TOKEN_TTL_SECONDS', 3600, 60, 86400),
      refreshTokenTtlSeconds: int(env, 'WARTA_REFRESH_TOKEN_TTL_DAYS', 30, 1, 365) * 86400,
      authorizationCodeTtlSeconds: int(env, 'WARTA_AUTHORIZATION_CODE_TTL_SECONDS', 60, 10, 600),
      authorizationRequestTtlSeconds: int(env, 'WARTA_AUTHORIZATION_REQUEST_TTL_MINUTES', 15, 1, 120) * 60,
      pushedRequestTtlSeconds: int(env, 'WARTA_PAR_TTL_SECONDS', 60, 10, 600),
      clientCacheSeconds: int(env, 'WARTA_CLIENT_CACHE_SECONDS', 1, 0, 60),
      backchannelLogout: {
        intervalMs: int(env, 'WARTA_BACKCHANNEL_LOGOUT_INTERVAL_MS', 2000, 100, 600_000),
        maxAttempts: int(env, 'WARTA_BACKCHANNEL_LOGOUT_MAX_ATTEMPTS', 15, 1, 100),
        timeoutMs: int(env, 'WARTA_BACKCHANNEL_LOGOUT_TIMEOUT_MS', 5000, 100, 60_000),
      },
      clientSecurityProfileFloor: oneOf(env, 'WARTA_CLIENT_SECURITY_PROFILE_FLOOR', ['baseline', 'fapi2'] as const, 'baseline'),
    },
    signingKeys: { cacheSeconds: int(env, 'WARTA_KEY_CACHE_SECONDS', 30, 0, 3600), provider: signingKeyProviderSettings(env) },
    audit: {
      sealIntervalMs: int(env, 'WARTA_AUDIT_SEAL_INTERVAL_MS', 1000, 50, 60_000),
      anonymousFailureWindowSeconds: int(env, 'WARTA_AUDIT_ANONYMOUS_WINDOW_SECONDS', 300, 10, 86_400),
      sink: auditSinkSettings(env, outboundAllow),
    },
    securityEvents: securityEventSettings(env),
    outbox: outboxSettings(env),
    outbound: { allow: outboundAllow },
    passwords: {
      argon2: {
        memoryKiB: int(env, 'WARTA_ARGON2_MEMORY_KIB', 19456, 19456, 4 * 1024 * 1024),
        timeCost: int(env, 'WARTA_ARGON2_TIME_COST', 2, 2, 100),
        parallelism: int(env, 'WARTA_ARGON2_PARALLELISM', 1, 1, 16),
      },
      hashing: hashingSettings(env),
    },
    totp: {
      window: int(env, 'WARTA_TOTP_WINDOW', 1, 0, 10),
      setupTtlSeconds: int(env, 'WARTA_TOTP_SETUP_TTL_MINUTES', 15, 1, 24 * 60) * 60,
    },
    throttle: {
      freeAttempts: int(env, 'WARTA_SIGNIN_FREE_ATTEMPTS', 5, 0, 100),
      lockAfter: int(env, 'WARTA_SIGNIN_LOCK_AFTER', 100, 1, 100),
      lockSeconds: int(env, 'WARTA_SIGNIN_LOCK_MINUTES', 60, 1, 7 * 24 * 60) * 60,
      anonymousRequestsPerMinute: int(env, 'WARTA_ANONYMOUS_REQUESTS_PER_MINUTE', 120, 1, 1_000_000),
    },
    recovery: {
      grantTtlSeconds: int(env, 'WARTA_RECOVERY_GRANT_TTL_MINUTES', 15, 1, 120) * 60,
      sweepIntervalMs: int(env, 'WARTA_RECOVERY_SWEEP_INTERVAL_MS', 30_000, 1000, 3_600_000),
      // At least an hour, never off: it keeps a recovery obtained by deceiving two officers from reaching admin or officer rights at once.
      privilegeCooldownSeconds: int(env, 'WARTA_RECOVERY_PRIVILEGE_COOLDOWN_HOURS', 24, 1, 24 * 30) * 3600,
      officerCooldownSeconds: int(env, 'WARTA_OFFICER_COOLDOWN_HOURS', 24, 0, 24 * 30) * 3600,
    },
    personalData: { retentionSeconds: int(env, 'WARTA_PERSONAL_DATA_RETENTION_DAYS', 90, 1, 3650) * 86400 },
    metrics: metricsSettings(env, port),
  };
}

function proxyTrust(env: Env): ProxyTrust {
  try {
    return parseProxyTrust(env.WARTA_TRUST_PROXY ?? '');
  } catch (error) {
    if (error instanceof ProxyTrustEntryError) throw new ConfigError('WARTA_TRUST_PROXY', `expected true, false, or the proxy's addresses and networks, comma-separated; ${error.message}`);
    throw error;
  }
}

export interface ClientCertificateSettings {
  /** Lower case, e.g. `x-ssl-client-cert`: the certificate as URL-encoded PEM or base64 DER (src/http/client-certificate.ts). */
  header: string;
  /** Lower case, e.g. `x-ssl-client-verify`: `SUCCESS` when the proxy verified the chain to its CAs; undefined: PKI client authentication (tls_client_auth) is off. */
  verifyHeader: string | undefined;
}

const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
/** Headers a client or the HTTP stack sets for other purposes: naming one would make them a certificate. */
const RESERVED_HEADERS = ['authorization', 'cookie', 'host', 'content-type', 'content-length', 'dpop', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'origin', 'referer', 'user-agent'];

/**
 * The certificate header is a credential: whoever can set it is whichever client they name.
 * So it is honoured only from peers named by address, never under `WARTA_TRUST_PROXY=true`
 * (which trusts any peer the network lets through).
 */
function clientCertificateSettings(env: Env, trust: ProxyTrust): ClientCertificateSettings | undefined {
  const headerName = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return undefined;
    if (!HEADER_NAME.test(raw)) throw new ConfigError(name, `expected an HTTP header name such as X-SSL-Client-Cert, got "${raw}"`);
    if (RESERVED_HEADERS.includes(raw.toLowerCase())) throw new ConfigError(name, `"${raw}" carries something else; choose a header only the proxy sets, such as X-SSL-Client-Cert`);
    return raw.toLowerCase();
  };
  const header = headerName('WARTA_MTLS_CERT_HEADER');
  const verifyHeader = headerName('WARTA_MTLS_VERIFY_HEADER');
  if (header === undefined) {
    if (verifyHeader !== undefined) throw new ConfigError('WARTA_MTLS_VERIFY_HEADER', 'only meaningful with WARTA_MTLS_CERT_HEADER');
    return undefined;
  }
  if (verifyHeader === header) throw new ConfigError('WARTA_MTLS_VERIFY_HEADER', 'must differ from WARTA_MTLS_CERT_HEADER');
  if (trust.kind !== 'networks')
    throw new ConfigError('WARTA_MTLS_CERT_HEADER', 'the forwarded certificate is believed only from the proxy: set WARTA_TRUST_PROXY to the proxy\'s addresses or networks (e.g. 127.0.0.1 or 10.20.0.0/16), not true or false');
  return { header, verifyHeader };
}

export interface MetricsSettings {
  port: number | undefined;
  host: string;
  /** The operator said on purpose that the management port may listen beyond this machine. */
  public: boolean;
}

/** Loopback names and addresses: only this machine reaches them. */
export function isLoopbackAddress(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare) || /^::ffff:127(\.\d{1,3}){3}$/.test(bare);
}

/**
 * The metrics and the detailed readiness report name event receivers' hosts and
 * describe the instance's load: an attacker's reconnaissance. So the port listens
 * on loopback unless the operator says otherwise by a setting of its own, not by a
 * host typed in passing.
 */
function metricsSettings(env: Env, publicPort: number): MetricsSettings {
  const raw = env.WARTA_METRICS_PORT?.trim();
  const port = raw === undefined || raw === '' ? undefined : int(env, 'WARTA_METRICS_PORT', 0, 0, 65535);
  const host = env.WARTA_METRICS_HOST?.trim() || '127.0.0.1';
  const allowPublic = bool(env, 'WARTA_METRICS_PUBLIC', false);
  if (port !== undefined && port !== 0 && port === publicPort) throw new ConfigError('WARTA_METRICS_PORT', `must differ from PORT (${publicPort}): the management port is a server of its own`);
  if (port !== undefined && !isLoopbackAddress(host) && !allowPublic)
    throw new ConfigError('WARTA_METRICS_HOST', `"${host}" is not a loopback address; the metrics port would be reachable from other machines. Bind it to 127.0.0.1, or set WARTA_METRICS_PUBLIC=1 if that is intended (and firewall it)`);
  return { port, host, public: allowPublic };
}

/** One slot per core by default: more hashes at once only make each one slower. The queue absorbs a burst of a few per slot. */
function socketDeadlines(env: Env): Pick<Config['http'], 'headersTimeoutSeconds' | 'requestTimeoutSeconds' | 'keepAliveTimeoutSeconds'> {
  // At least 1: Node reads 0 as "no limit".
  const requestTimeoutSeconds = int(env, 'WARTA_HTTP_REQUEST_TIMEOUT_SECONDS', 30, 1, 3600);
  const headersTimeoutSeconds = int(env, 'WARTA_HTTP_HEADERS_TIMEOUT_SECONDS', 20, 1, 3600);
  // Node refuses to start a server whose header deadline is past its request deadline; say so by name.
  if (headersTimeoutSeconds > requestTimeoutSeconds)
    throw new ConfigError('WARTA_HTTP_HEADERS_TIMEOUT_SECONDS', `must not be above WARTA_HTTP_REQUEST_TIMEOUT_SECONDS (${requestTimeoutSeconds})`);
  return { headersTimeoutSeconds, requestTimeoutSeconds, keepAliveTimeoutSeconds: int(env, 'WARTA_HTTP_KEEPALIVE_TIMEOUT_SECONDS', 5, 1, 600) };
}

function hashingSettings(env: Env): Config['passwords']['hashing'] {
  const concurrency = int(env, 'WARTA_HASH_CONCURRENCY', availableParallelism(), 1, 1024);
  return { concurrency, queue: int(env, 'WARTA_HASH_QUEUE', 4 * concurrency, 0, 100_000) };
}

function fidoMetadataSource(env: Env): Config['webauthn']['fidoMetadata'] {
  const blobFile = env.WARTA_FIDO_MDS_FILE?.trim();
  const dir = env.WARTA_FIDO_MDS_DIR?.trim();
  const rootCertFile = env.WARTA_FIDO_ROOT_CERT_FILE?.trim();
  if (blobFile && dir) throw new ConfigError('WARTA_FIDO_MDS_FILE', 'set either WARTA_FIDO_MDS_FILE or WARTA_FIDO_MDS_DIR, not both');
  if (blobFile) {
    if (!rootCertFile) throw new ConfigError('WARTA_FIDO_ROOT_CERT_FILE', 'required with WARTA_FIDO_MDS_FILE: the FIDO Alliance root certificate (PEM) the BLOB must chain to');
    return { blobFile: path.resolve(blobFile), rootCertFile: path.resolve(rootCertFile) };
  }
  if (rootCertFile) throw new ConfigError('WARTA_FIDO_ROOT_CERT_FILE', 'only meaningful with WARTA_FIDO_MDS_FILE');
  return dir ? { dir: path.resolve(dir) } : undefined;
}

function validateMasterKey(variable: string, raw: string): string {
  const text = raw.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || Buffer.from(text, 'base64').length !== 32)
    throw new ConfigError(variable, 'expected 32 random bytes in base64 (44 characters; `openssl rand -base64 32`)');
  return text;
}

export interface SecurityEventSettings {
  deliveryIntervalMs: number;
  batchSize: number;
  timeoutMs: number;
  /** A receiver failing this long is reported on /readyz. */
  failingAfterSeconds: number;
  /** Delivered and given-up outbox rows are deleted this long after they finished. */
  retentionSeconds: number;
}

function securityEventSettings(env: Env): SecurityEventSettings {
  return {
    deliveryIntervalMs: int(env, 'WARTA_SET_DELIVERY_INTERVAL_MS', 2000, 100, 600_000),
    batchSize: int(env, 'WARTA_SET_BATCH_SIZE', 50, 1, 1000),
    timeoutMs: int(env, 'WARTA_SET_TIMEOUT_MS', 5000, 100, 60_000),
    failingAfterSeconds: int(env, 'WARTA_SET_RECEIVER_FAILING_MINUTES', 15, 1, 24 * 60) * 60,
    retentionSeconds: int(env, 'WARTA_SET_RETENTION_DAYS', 30, 1, 3650) * 86400,
  };
}

/** Unset: nothing in production (the operator names every destination), the local machine otherwise. */
function outboundAllowList(env: Env, production: boolean): OutboundAllowList {
  const raw = env.WARTA_OUTBOUND_ALLOW?.trim();
  try {
    return parseOutboundAllowList(raw || (production ? 'none' : DEVELOPMENT_OUTBOUND_ALLOW));
  } catch (error) {
    if (error instanceof AllowListEntryError) throw new ConfigError('WARTA_OUTBOUND_ALLOW', `${error.message}; expected comma-separated host names, *.wildcards and networks, or none`);
    throw error;
  }
}

export type SigningKeyProviderSettings =
  | { kind: 'envelope' }
  /** `module`: the vendor's PKCS#11 library; `pinFile`: read at start-up, the PIN is kept nowhere else. */
  | { kind: 'pkcs11'; module: string; tokenLabel: string; pinFile: string };

const PKCS11_SETTINGS = ['WARTA_PKCS11_MODULE', 'WARTA_PKCS11_TOKEN_LABEL', 'WARTA_PKCS11_PIN_FILE'] as const;

function signingKeyProviderSettings(env: Env): SigningKeyProviderSettings {
  // A PIN in the environment shows in /proc, `docker inspect` and crash reports: only a file is read.
  if (env.WARTA_PKCS11_PIN !== undefined) throw new ConfigError('WARTA_PKCS11_PIN', 'the PIN is never read from the environment: put it in a file readable only by Warta and set WARTA_PKCS11_PIN_FILE');
  const kind = oneOf(env, 'WARTA_SIGNING_KEY_PROVIDER', ['envelope', 'pkcs11'] as const, 'envelope');
  const [module, tokenLabel, pinFile] = PKCS11_SETTINGS.map((name) => env[name]?.trim() || undefined);
  if (kind === 'envelope') {
    const stray = PKCS11_SETTINGS.find((name) => env[name]?.trim());
    if (stray) throw new ConfigError(stray, 'only meaningful with WARTA_SIGNING_KEY_PROVIDER=pkcs11');
    return { kind };
  }
  if (!module) throw new ConfigError('WARTA_PKCS11_MODULE', 'required with WARTA_SIGNING_KEY_PROVIDER=pkcs11: the path of the token\'s PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so)');
  if (!existsSync(module)) throw new ConfigError('WARTA_PKCS11_MODULE', `no such file "${module}"`);
  if (!tokenLabel) throw new ConfigError('WARTA_PKCS11_TOKEN_LABEL', 'required with WARTA_SIGNING_KEY_PROVIDER=pkcs11: the label of the token holding the keys');
  if (!pinFile) throw new ConfigError('WARTA_PKCS11_PIN_FILE', 'required with WARTA_SIGNING_KEY_PROVIDER=pkcs11: a file holding the token\'s user PIN');
  return { kind, module, tokenLabel, pinFile };
}

export interface OutboxSettings {
  /** Exponential back-off between attempts, from the minimum to the maximum delay (with jitter). */
  retryMinSeconds: number;
  retryMaxSeconds: number;
  /** A message not delivered this long after it was queued is given up on (and audited). */
  maxAgeSeconds: number;
}

/** The retry rules were SET-only before both outboxes shared them: the WARTA_SET_* names still count when the WARTA_OUTBOX_* ones are unset. */
function outboxSettings(env: Env): OutboxSettings {
  const named = (name: string, formerName: string) => (env[name] === undefined || env[name] === '' ? formerName : name);
  const minName = named('WARTA_OUTBOX_RETRY_MIN_SECONDS', 'WARTA_SET_RETRY_MIN_SECONDS');
  const maxName = named('WARTA_OUTBOX_RETRY_MAX_SECONDS', 'WARTA_SET_RETRY_MAX_SECONDS');
  const retryMinSeconds = int(env, minName, 5, 1, 3600);
  const retryMaxSeconds = int(env, maxName, 3600, 1, 86400);
  if (retryMaxSeconds < retryMinSeconds) throw new ConfigError(maxName, `must not be below ${minName} (${retryMinSeconds})`);
  return {
    retryMinSeconds,
    retryMaxSeconds,
    maxAgeSeconds: int(env, named('WARTA_OUTBOX_MAX_AGE_HOURS', 'WARTA_SET_MAX_AGE_HOURS'), 72, 1, 30 * 24) * 3600,
  };
}

/** Where `WARTA_AUDIT_SINK` sends each sealed audit entry, as one JSON line (src/audit-sink/). */
export type AuditSinkTarget =
  | { kind: 'stdout' }
  /** Appended and fsynced; renamed to `path.1` … `path.<keep>` when the next line would take it past `maxBytes`. */
  | { kind: 'file'; path: string; maxBytes: number; keep: number }
  /** RFC 5424 messages, octet-counted (RFC 6587 §3.4.1, RFC 5425 §4.3); `ca` is the PEM the collector's certificate must chain to (tls; undefined: the system's roots). */
  | { kind: 'syslog'; transport: 'tcp' | 'tls'; host: string; port: number; ca: string | undefined };

export interface AuditSinkSettings {
  /** The sink as its checkpoint row names it: `stdout`, `file:/var/log/warta/audit.jsonl`, `syslog+tls://siem.example.gov:6514`. */
  name: string;
  target: AuditSinkTarget;
  intervalMs: number;
  /** Entries per write (and per checkpoint advance). */
  batchSize: number;
  /** Connecting to a collector, and each write, give up after this long. */
  timeoutMs: number;
  /** A failing sink is retried after 1, 2, 4 … seconds, up to this. */
  retryMaxSeconds: number;
}

const SYSLOG_SINK = /^syslog\+(tcp|tls):\/\/(\[[0-9a-f:.]+\]|[^\s/:@[\]]+)(?::(\d{1,5}))?\/?$/i;

function auditSinkSettings(env: Env, allow: OutboundAllowList): AuditSinkSettings | undefined {
  const raw = env.WARTA_AUDIT_SINK?.trim();
  const caFile = env.WARTA_AUDIT_SINK_CA_FILE?.trim() || undefined;
  if (!raw) {
    if (caFile) throw new ConfigError('WARTA_AUDIT_SINK_CA_FILE', 'only meaningful with WARTA_AUDIT_SINK=syslog+tls://…');
    return undefined;
  }
  const common = {
    intervalMs: int(env, 'WARTA_AUDIT_SINK_INTERVAL_MS', 1000, 50, 600_000),
    batchSize: int(env, 'WARTA_AUDIT_SINK_BATCH_SIZE', 500, 1, 10_000),
    timeoutMs: int(env, 'WARTA_AUDIT_SINK_TIMEOUT_MS', 10_000, 100, 120_000),
    retryMaxSeconds: int(env, 'WARTA_AUDIT_SINK_RETRY_MAX_SECONDS', 300, 1, 3600),
  };
  const syslog = SYSLOG_SINK.exec(raw);
  if (caFile && syslog?.[1]?.toLowerCase() !== 'tls') throw new ConfigError('WARTA_AUDIT_SINK_CA_FILE', 'only meaningful with WARTA_AUDIT_SINK=syslog+tls://…');
  if (raw === 'stdout') return { name: 'stdout', target: { kind: 'stdout' }, ...common };
  if (raw.startsWith('file:')) {
    const file = raw.slice('file:'.length);
    if (!path.isAbsolute(file) || file.endsWith('/')) throw new ConfigError('WARTA_AUDIT_SINK', `file: needs an absolute file path, e.g. file:/var/log/warta/audit.jsonl, got "${raw}"`);
    const target = {
      kind: 'file' as const,
      path: path.normalize(file),
      maxBytes: int(env, 'WARTA_AUDIT_SINK_FILE_MAX_BYTES', 100 * 1024 * 1024, 4096, Number.MAX_SAFE_INTEGER),
      keep: int(env, 'WARTA_AUDIT_SINK_FILE_KEEP', 10, 1, 1000),
    };
    return { name: `file:${target.path}`, target, ...common };
  }
  if (!syslog) throw new ConfigError('WARTA_AUDIT_SINK', `expected stdout, file:/absolute/path or syslog+tcp://host:port / syslog+tls://host:port, got "${raw}"`);
  const transport = syslog[1]!.toLowerCase() as 'tcp' | 'tls';
  const host = syslog[2]!.toLowerCase();
  // RFC 5426/5425's ports when none is given.
  const port = syslog[3] === undefined ? (transport === 'tls' ? 6514 : 514) : Number(syslog[3]);
  if (port < 1 || port > 65535) throw new ConfigError('WARTA_AUDIT_SINK', `port must be 1 to 65535, got ${port}`);
  const refusal = destinationRefusal(allow, host);
  // Audit entries name people and addresses: they go only where the operator said anything may go.
  if (refusal) throw new ConfigError('WARTA_AUDIT_SINK', `the collector ${host} is refused: ${refusal} (WARTA_OUTBOUND_ALLOW)`);
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (e) {
      throw new ConfigError('WARTA_AUDIT_SINK_CA_FILE', `cannot read "${caFile}": ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError('WARTA_AUDIT_SINK_CA_FILE', `"${caFile}" holds no PEM certificate`);
  }
  return { name: `syslog+${transport}://${host}:${port}`, target: { kind: 'syslog', transport, host, port, ca }, ...common };
}
