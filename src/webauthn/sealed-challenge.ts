/**
 * Sign-in challenges (ceremonies `authentication` and `authorization_challenge`)
 * are sealed rather than stored: the options request writes nothing, so a sign-in
 * costs one commit (its verify) and an anonymous flood of options fills no table.
 * The challenge carries what the row held, under a MAC with the instance secret
 * `challenge-seal` (the same on every instance, so any instance finishes a sign-in
 * another one started, and a restart forgets nothing):
 *
 *   version (1) | ceremony (1) | expiry, ms since the epoch (6) | random (16) |
 *   bound user (16, masked) | MAC: first 16 bytes of HMAC-SHA256 over all before it
 *
 * 56 bytes, 75 base64url characters, whatever the binding. The bound user (the
 * account of a username-first request; the nil UUID for none) is masked with a
 * keyed pad unique to the seal: a visible user ID, or a length or flag telling a
 * bound challenge from an unbound one, would tell who has an account, which the
 * decoy credentials of an unknown name exist to hide (decoy.ts).
 *
 * A seal proves only that Warta issued it, for this ceremony, until its expiry;
 * single use stays in SQL: spending one inserts its hash into webauthn_challenges
 * (challenges.ts, sealedChallengeSpend), where the unique hash admits it once.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { WebauthnCeremony } from '../db/schema.js';

export type SealedCeremony = Extract<WebauthnCeremony, 'authentication' | 'authorization_challenge'>;

const VERSION = 1;
const CEREMONY_BYTES: Record<SealedCeremony, number> = { authentication: 1, authorization_challenge: 2 };
const RANDOM_BYTES = 16;
const USER_BYTES = 16;
const MAC_BYTES = 16;
// version, ceremony and expiry; then the random part, the masked user and the MAC.
const HEADER_BYTES = 1 + 1 + 6;
const SEALED_BYTES = HEADER_BYTES + RANDOM_BYTES + USER_BYTES + MAC_BYTES;
const NO_USER = Buffer.alloc(USER_BYTES);
// Distinct first bytes keep the MAC's and the pad's HMAC inputs apart under one key.
const MAC_LABEL = Buffer.from('warta sealed challenge mac\0');
const PAD_LABEL = Buffer.from('warta sealed challenge user\0');

/** What a seal says, once its MAC holds. */
export interface OpenedChallenge {
  ceremony: SealedCeremony | undefined;
  expiresAt: Date;
  /** The account a username-first request named (§7.2 step 5: only its passkeys answer); null for usernameless. */
  userId: string | null;
}

/** A fresh sign-in challenge for `ceremony`, valid until `expiresAt`, bound to `userId` when given. */
export function sealChallenge(key: Uint8Array, input: { ceremony: SealedCeremony; expiresAt: Date; userId?: string | undefined }): string {
  const sealed = Buffer.alloc(SEALED_BYTES);
  sealed[0] = VERSION;
  sealed[1] = CEREMONY_BYTES[input.ceremony];
  sealed.writeUIntBE(input.expiresAt.getTime(), 2, 6);
  randomBytes(RANDOM_BYTES).copy(sealed, HEADER_BYTES);
  const user = input.userId === undefined ? NO_USER : uuidBytes(input.userId);
  const pad = userPad(key, sealed);
  for (let i = 0; i < USER_BYTES; i++) sealed[HEADER_BYTES + RANDOM_BYTES + i] = user[i]! ^ pad[i]!;
  macOf(key, sealed).copy(sealed, SEALED_BYTES - MAC_BYTES);
  return sealed.toString('base64url');
}

/**
 * The seal's content, or undefined when `challenge` is not a seal this key made
 * (another length or version, non-canonical base64url, a MAC that does not hold).
 * Expiry and ceremony are the caller's to judge, each with its own answer.
 */
export function openChallenge(key: Uint8Array, challenge: string): OpenedChallenge | undefined {
  const sealed = Buffer.from(challenge, 'base64url');
  // Only the canonical spelling: another string decoding to the same bytes would hash to another row and be spent again.
  if (sealed.length !== SEALED_BYTES || sealed[0] !== VERSION || sealed.toString('base64url') !== challenge) return undefined;
  const mac = sealed.subarray(SEALED_BYTES - MAC_BYTES);
  if (!timingSafeEqual(mac, macOf(key, sealed))) return undefined;
  const pad = userPad(key, sealed);
  const user = Buffer.alloc(USER_BYTES);
  for (let i = 0; i < USER_BYTES; i++) user[i] = sealed[HEADER_BYTES + RANDOM_BYTES + i]! ^ pad[i]!;
  const ceremony = (Object.keys(CEREMONY_BYTES) as SealedCeremony[]).find((name) => CEREMONY_BYTES[name] === sealed[1]);
  return { ceremony, expiresAt: new Date(sealed.readUIntBE(2, 6)), userId: user.equals(NO_USER) ? null : uuidText(user) };
}

/** The MAC of a seal: over everything before it. */
const macOf = (key: Uint8Array, sealed: Buffer): Buffer =>
  createHmac('sha256', key).update(MAC_LABEL).update(sealed.subarray(0, SEALED_BYTES - MAC_BYTES)).digest().subarray(0, MAC_BYTES);

/** The pad the bound user is masked with: keyed by the header and the random part, so unique to the seal. */
const userPad = (key: Uint8Array, sealed: Buffer): Buffer => createHmac('sha256', key).update(PAD_LABEL).update(sealed.subarray(0, HEADER_BYTES + RANDOM_BYTES)).digest();

const uuidBytes = (uuid: string): Buffer => {
  const bytes = Buffer.from(uuid.replaceAll('-', ''), 'hex');
  if (bytes.length !== USER_BYTES) throw new Error('a bound user is a UUID');
  return bytes;
};

const uuidText = (bytes: Buffer): string => {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};
