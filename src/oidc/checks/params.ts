/**
 * Parsing of authorization request parameters (RFC 6749 §3.1 and §4.1.1, OIDC Core
 * §3.1.2.1, RFC 9126 §4, RFC 9449 §10), from the query string of a GET or the form
 * body of a POST.
 *
 * - "Request and response parameters MUST NOT be included more than once" (RFC 6749
 *   §3.1): a repeated known parameter is refused rather than resolved, because different
 *   components picking different copies is how parameter pollution attacks work.
 * - "Parameters sent without a value MUST be treated as if they were omitted" (§3.1).
 * - "The authorization server MUST ignore unrecognized request parameters" (§3.1), so
 *   unknown parameters are dropped (but still count towards the size limits).
 *
 * Errors are thrown before the client and redirect URI have been validated, so the
 * caller decides whether it may redirect them back to the client (OIDC Core §3.1.2.6)
 * or must show them to the user.
 */
import { WartaError, invalidRequest } from '../../errors.js';

/** Longest single parameter value accepted (a redirect_uri or request_uri fits easily). */
export const MAX_PARAM_VALUE_LENGTH = 2048;

/** Largest total size of all parameters (UTF-8 bytes of names and values, plus one per separator). */
export const MAX_PARAMS_TOTAL_BYTES = 8 * 1024;

export type Prompt = 'none' | 'login' | 'consent' | 'select_account';

const PROMPT_VALUES: ReadonlySet<string> = new Set<Prompt>(['none', 'login', 'consent', 'select_account']);

export interface AuthorizationParams {
  /** Always `code`; absent only when `request_uri` refers to a pushed request (RFC 9126 §4). */
  response_type: 'code' | undefined;
  client_id: string;
  redirect_uri: string | undefined;
  scope: string | undefined;
  state: string | undefined;
  nonce: string | undefined;
  code_challenge: string | undefined;
  code_challenge_method: string | undefined;
  /** The distinct prompt values, in request order. */
  prompt: Prompt[] | undefined;
  max_age: number | undefined;
  login_hint: string | undefined;
  ui_locales: string | undefined;
  acr_values: string | undefined;
  request_uri: string | undefined;
  dpop_jkt: string | undefined;
  response_mode: 'query' | undefined;
  /** Warta extension: the installation's name for the device list (src/devices/); display text only. */
  device_name?: string | undefined;
}

/** `request` is known so that it is refused rather than silently ignored. */
const KNOWN_PARAMS: ReadonlySet<string> = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'max_age',
  'login_hint',
  'ui_locales',
  'acr_values',
  'request_uri',
  'dpop_jkt',
  'response_mode',
  'device_name',
  'request',
]);

export type AuthorizationParamsSource = URLSearchParams | FormData;

export function parseAuthorizationParams(source: AuthorizationParamsSource): AuthorizationParams {
  const values = collectKnownParams(source);
  const get = (name: string): string | undefined => values.get(name);

  if (get('request') !== undefined) {
    // OIDC Core §6 / §3.1.2.6: we do not support request objects by value.
    throw new WartaError(400, 'request_not_supported', 'the request parameter (request object by value) is not supported');
  }

  const clientId = get('client_id');
  if (clientId === undefined) throw invalidRequest('client_id required');

  const requestUri = get('request_uri');
  return {
    response_type: checkResponseType(get('response_type'), requestUri !== undefined),
    client_id: clientId,
    redirect_uri: get('redirect_uri'),
    scope: get('scope'),
    state: get('state'),
    nonce: get('nonce'),
    code_challenge: get('code_challenge'),
    code_challenge_method: get('code_challenge_method'),
    prompt: checkPrompt(get('prompt')),
    max_age: checkMaxAge(get('max_age')),
    login_hint: get('login_hint'),
    ui_locales: get('ui_locales'),
    acr_values: get('acr_values'),
    request_uri: requestUri,
    dpop_jkt: get('dpop_jkt'),
    response_mode: checkResponseMode(get('response_mode')),
    device_name: get('device_name'),
  };
}

/**
 * Enforces the size limits on every parameter and the no-duplicates rule on known ones;
 * returns the non-empty known values.
 */
function collectKnownParams(source: AuthorizationParamsSource): Map<string, string> {
  const known = new Map<string, string>();
  const seen = new Set<string>();
  let totalBytes = 0;

  for (const [name, value] of entriesOf(source)) {
    if (typeof value !== 'string') throw invalidRequest('authorization request parameters must be text, not files');

    if (value.length > MAX_PARAM_VALUE_LENGTH) {
      throw invalidRequest(`parameter values must be at most ${MAX_PARAM_VALUE_LENGTH} characters`, `oversized parameter: ${name.slice(0, 64)}`);
    }
    totalBytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 1;
    if (totalBytes > MAX_PARAMS_TOTAL_BYTES) {
      throw invalidRequest(`authorization request parameters must total at most ${MAX_PARAMS_TOTAL_BYTES} bytes`);
    }

    if (!KNOWN_PARAMS.has(name)) continue;
    if (seen.has(name)) throw invalidRequest(`parameter ${name} must not be included more than once`);
    seen.add(name);
    if (value !== '') known.set(name, value);
  }
  return known;
}

/** The DOM typings we compile against lack `entries()` on these two; `forEach` is universal. */
function entriesOf(source: AuthorizationParamsSource): Array<[string, FormDataEntryValue]> {
  const entries: Array<[string, FormDataEntryValue]> = [];
  const add = (value: FormDataEntryValue, name: string): void => {
    entries.push([name, value]);
  };
  if (source instanceof FormData) source.forEach(add);
  else source.forEach(add);
  return entries;
}

function checkResponseType(value: string | undefined, pushedRequest: boolean): 'code' | undefined {
  if (value === undefined) {
    if (pushedRequest) return undefined;
    throw invalidRequest('response_type required');
  }
  // Authorization code flow only: no implicit or hybrid responses (RFC 9700 §2.1.2).
  if (value !== 'code') {
    throw new WartaError(400, 'unsupported_response_type', 'response_type must be code');
  }
  return 'code';
}

function checkPrompt(value: string | undefined): Prompt[] | undefined {
  if (value === undefined) return undefined;
  const prompts: Prompt[] = [];
  for (const item of value.split(' ')) {
    if (item === '') continue;
    if (!PROMPT_VALUES.has(item)) {
      throw invalidRequest('prompt must be a space-separated list of none, login, consent, select_account');
    }
    if (!prompts.includes(item as Prompt)) prompts.push(item as Prompt);
  }
  if (prompts.length === 0) return undefined;
  // OIDC Core §3.1.2.1: "If this parameter contains none with any other value, an error is returned."
  if (prompts.includes('none') && prompts.length > 1) {
    throw invalidRequest('prompt none must not be combined with other values');
  }
  return prompts;
}

function checkMaxAge(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  // OIDC Core §3.1.2.1: a number of seconds; only plain decimal digits, no sign, no exponent.
  const seconds = /^[0-9]{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(seconds)) throw invalidRequest('max_age must be a non-negative integer number of seconds');
  return seconds;
}

function checkResponseMode(value: string | undefined): 'query' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'query') throw invalidRequest('response_mode must be query');
  return 'query';
}
