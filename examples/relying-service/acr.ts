/**
 * Warta's assurance levels (docs/oidc.md, "Assurance"), weakest first. A level
 * meets a requirement when it is the same or stronger: a device-bound passkey
 * (`hardware`) satisfies a route that needs `phishing-resistant`.
 */
export const ACR_PHISHING_RESISTANT = 'urn:warta:acr:phishing-resistant';

const ORDER = ['urn:warta:acr:single-factor', 'urn:warta:acr:mfa', ACR_PHISHING_RESISTANT, 'urn:warta:acr:hardware'];

/** An acr this service does not know meets nothing. */
export function meetsAcr(acr: string | undefined, required: string): boolean {
  const rank = acr === undefined ? -1 : ORDER.indexOf(acr);
  return rank >= 0 && rank >= ORDER.indexOf(required);
}
