/** Conditional changes (RFC 7644 §3.14): If-Match as RFC 7232 §3.1 defines it, `*` or one of the listed versions, weakly compared. */
import { WartaError } from '../errors.js';

export const preconditionFailed = () => new WartaError(412, 'precondition_failed', 'the resource changed since the version in If-Match; read it again');

export function assertIfMatch(currentVersion: string, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  const weak = (tag: string) => tag.trim().replace(/^W\//, '');
  const listed = ifMatch.split(',').map((tag) => tag.trim());
  if (!listed.includes('*') && !listed.some((tag) => weak(tag) === weak(currentVersion))) throw preconditionFailed();
}
