/**
 * The service's settings, read from the environment in one place. Anything
 * missing or malformed stops start-up with a message naming the variable.
 */
import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';

export type ClientAuthentication =
  /** RFC 7523 client assertion signed with the service's own key: Warta holds only the public half. */
  | { method: 'private_key_jwt'; privateJwk: JWK }
  | { method: 'client_secret_basic'; secret: string };

export interface RelyingServiceConfig {
  /** Warta's issuer URL, exactly as its discovery document says it. */
  issuer: URL;
  clientId: string;
  clientAuthentication: ClientAuthentication;
  /** Where users reach this service; the redirect, post-logout and back-channel URIs hang off it. */
  baseUrl: URL;
  /** The `aud` of the access tokens this service's API accepts: the `--audience` of the clients that call it. */
  apiAudience: string;
  /** The audience the Security Event Token receiver was registered with (`warta receiver add --audience`). */
  setAudience: string;
  /** The bearer token Warta sends with every SET (`warta receiver add --bearer-token-file`); unset: none expected. */
  setBearerToken: string | undefined;
  /**
   * How long after fetching the JWKS an unknown `kid` may not trigger another fetch
   * (jose's cooldown): a flood of tokens with made-up kids costs Warta one request
   * per period, not one per token.
   */
  jwksCooldownSeconds: number;
  port: number;
  host: string;
}

export class ConfigError extends Error {}

export function readConfig(env: Record<string, string | undefined> = process.env): RelyingServiceConfig {
  const issuer = urlSetting(env, 'OIDC_ISSUER');
  const baseUrl = urlSetting(env, 'SERVICE_BASE_URL');
  const clientId = required(env, 'OIDC_CLIENT_ID');
  return {
    issuer,
    clientId,
    clientAuthentication: clientAuthentication(env),
    baseUrl,
    apiAudience: env.API_AUDIENCE || new URL('/api', baseUrl).href,
    setAudience: env.SET_AUDIENCE || new URL('/security-events', baseUrl).href,
    setBearerToken: env.SET_BEARER_TOKEN_FILE ? readFileSync(env.SET_BEARER_TOKEN_FILE, 'utf8').trim() : undefined,
    jwksCooldownSeconds: numberSetting(env, 'JWKS_COOLDOWN_SECONDS', 30),
    port: numberSetting(env, 'PORT', 4000),
    host: env.HOST || '127.0.0.1',
  };
}

function clientAuthentication(env: Record<string, string | undefined>): ClientAuthentication {
  if (env.OIDC_CLIENT_KEY_FILE && env.OIDC_CLIENT_SECRET) throw new ConfigError('set OIDC_CLIENT_KEY_FILE or OIDC_CLIENT_SECRET, not both');
  if (env.OIDC_CLIENT_SECRET) return { method: 'client_secret_basic', secret: env.OIDC_CLIENT_SECRET };
  const file = required(env, 'OIDC_CLIENT_KEY_FILE');
  const privateJwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  if (privateJwk.kty !== 'EC' || privateJwk.crv !== 'P-256' || !privateJwk.d || !privateJwk.kid) throw new ConfigError(`OIDC_CLIENT_KEY_FILE: ${file} is not a private P-256 JWK with a kid (make one with generate-key.ts)`);
  return { method: 'private_key_jwt', privateJwk };
}

function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`${name} is required`);
  return value;
}

function urlSetting(env: Record<string, string | undefined>, name: string): URL {
  const value = required(env, name);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name}: ${value} is not a URL`);
  }
  // Plain http only for a service and a Warta on this machine (development).
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) throw new ConfigError(`${name}: must be https (http only on a loopback address)`);
  return url;
}

function numberSetting(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new ConfigError(`${name}: ${value} is not a whole number`);
  return number;
}

export const isLoopback = (url: URL): boolean => url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
