/**
 * SCIM errors (RFC 7644 §3.12): the HTTP status, and for a 400 the `scimType`
 * saying what was wrong. A SCIM error is a WartaError whose code is its scimType,
 * so the one error type carries it; every other WartaError (an RFC 6750 token
 * refusal, an authority refusal) is shown in the SCIM envelope with its own code
 * in `detail`, and keeps its headers (WWW-Authenticate).
 */
import { type ErrorStatus, WartaError } from '../errors.js';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SCIM_MEDIA_TYPE = 'application/scim+json';

/** RFC 7644 Table 9. */
export type ScimType = 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive';
export const SCIM_TYPES: ReadonlySet<string> = new Set<string>(['invalidFilter', 'tooMany', 'uniqueness', 'mutability', 'invalidSyntax', 'invalidPath', 'noTarget', 'invalidValue', 'invalidVers', 'sensitive']);

export const scimError = (status: ErrorStatus, scimType: ScimType, detail: string) => new WartaError(status, scimType, detail);
export const invalidSyntax = (detail: string) => scimError(400, 'invalidSyntax', detail);
export const invalidValue = (detail: string) => scimError(400, 'invalidValue', detail);
export const invalidFilter = (detail: string) => scimError(400, 'invalidFilter', detail);
export const userNotFound = () => new WartaError(404, 'not_found', 'no such user in your organisation');
