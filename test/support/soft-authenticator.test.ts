import { describe, expect, it } from 'vitest';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import { getCertificateInfo, validateCertificatePath } from '@simplewebauthn/server/helpers';
import {
  createTestAttestationCa,
  SoftAuthenticator,
  type AssertionOverrides,
  type RegistrationOverrides,
  type SoftAttestation,
} from './soft-authenticator.js';

const rpID = 'id.warta.test';
const origin = 'https://id.warta.test';
const aaguid = '6d1a1f0e-8a5c-4f59-9b4e-0c6a5d7e2f31';

async function newAuthenticator(attestation: SoftAttestation) {
  const { root, leaf } = await createTestAttestationCa({ aaguid });
  const authenticator = new SoftAuthenticator({
    aaguid,
    attestation,
    ...(attestation === 'packed-full' ? { attestationCert: leaf } : {}),
  });
  return { authenticator, root, leaf };
}

async function register(
  authenticator: SoftAuthenticator,
  { attestationType = 'direct', overrides }: { attestationType?: 'direct' | 'none'; overrides?: RegistrationOverrides } = {},
) {
  const options = await generateRegistrationOptions({
    rpName: 'Warta',
    rpID,
    userName: 'ala@warta.test',
    attestationType,
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  const response = authenticator.createCredential(options, { origin, overrides });
  return verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    requireUserVerification: true,
  });
}

async function registeredCredential(authenticator: SoftAuthenticator): Promise<WebAuthnCredential> {
  const { registrationInfo } = await register(authenticator);
  if (!registrationInfo) throw new Error('registration failed');
  return registrationInfo.credential;
}

async function authenticate(
  authenticator: SoftAuthenticator,
  credential: WebAuthnCredential,
  { discoverable = false, overrides }: { discoverable?: boolean; overrides?: AssertionOverrides } = {},
) {
  const options = await generateAuthenticationOptions({
    rpID,
    userVerification: 'required',
    allowCredentials: discoverable ? [] : [{ id: credential.id }],
  });
  const response = authenticator.getAssertion(options, { origin, overrides });
  const verification = await verifyAuthenticationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    credential,
    requireUserVerification: true,
  });
  return { response, verification };
}

describe('SoftAuthenticator registration', () => {
  it.each([
    ['none', 'none'],
    ['packed-self', 'packed'],
    ['packed-full', 'packed'],
  ] as const)('produces a %s attestation that @simplewebauthn/server verifies as fmt %s', async (attestation, fmt) => {
    const { authenticator } = await newAuthenticator(attestation);

    const { verified, registrationInfo } = await register(authenticator);

    expect(verified).toBe(true);
    expect(registrationInfo?.fmt).toBe(fmt);
    expect(registrationInfo?.aaguid).toBe(aaguid);
    expect(registrationInfo?.userVerified).toBe(true);
    expect(registrationInfo?.credential.id).toBe(authenticator.credentials[0]?.id);
  });

  it('sends an x5c that chains to the test root and meets the §8.2.1 certificate requirements', async () => {
    const { authenticator, root, leaf } = await newAuthenticator('packed-full');
    await register(authenticator);

    await expect(validateCertificatePath([leaf.certPem], [root.certPem])).resolves.toBe(true);
    const info = getCertificateInfo(leaf.certDer);
    expect(info.version).toBe(2);
    expect(info.subject.OU).toBe('Authenticator Attestation');
    expect(info.basicConstraintsCA).toBe(false);
  });

  it('rejects a full attestation whose x5c does not chain to the expected root', async () => {
    const { leaf } = await newAuthenticator('packed-full');
    const { root: otherRoot } = await createTestAttestationCa({ aaguid });

    await expect(validateCertificatePath([leaf.certPem], [otherRoot.certPem])).rejects.toThrow(/trust anchor/);
  });

  it("replaces the attestation with fmt 'none' when the RP does not ask for it, like a browser", async () => {
    const { authenticator } = await newAuthenticator('packed-full');

    const { registrationInfo } = await register(authenticator, { attestationType: 'none' });

    expect(registrationInfo?.fmt).toBe('none');
  });

  it('refuses to create a second credential listed in excludeCredentials', async () => {
    const { authenticator } = await newAuthenticator('none');
    const credential = await registeredCredential(authenticator);
    const options = await generateRegistrationOptions({
      rpName: 'Warta',
      rpID,
      userName: 'ala@warta.test',
      excludeCredentials: [{ id: credential.id }],
    });

    expect(() => authenticator.createCredential(options, { origin })).toThrow(/excluded credential/);
  });

  describe.each(['packed-self', 'packed-full'] as const)('a tampered %s registration is rejected', (attestation) => {
    it.each<[string, RegistrationOverrides, RegExp]>([
      ['origin in clientDataJSON', { origin: 'https://evil.test' }, /origin/],
      ['type in clientDataJSON', { type: 'webauthn.get' }, /type/],
      ['challenge in clientDataJSON', { challenge: 'c3RhbGUtY2hhbGxlbmdl' }, /challenge/],
      ['rpIdHash of another RP ID', { rpIdHashOf: 'evil.test' }, /RP ID/],
      ['UP flag cleared', { userPresent: false }, /present/],
      ['UV flag cleared', { userVerified: false }, /User verification/],
      ['garbage CBOR attestationObject', { garbageAttestationObject: true }, /well formed/],
    ])('%s', async (_name, overrides, message) => {
      const { authenticator } = await newAuthenticator(attestation);

      await expect(register(authenticator, { overrides })).rejects.toThrow(message);
    });

    it('corrupt attestation signature', async () => {
      const { authenticator } = await newAuthenticator(attestation);

      const { verified } = await register(authenticator, { overrides: { corruptSignature: true } });

      expect(verified).toBe(false);
    });
  });
});

describe('SoftAuthenticator authentication', () => {
  it('produces an assertion that verifies and bumps the signature counter', async () => {
    const { authenticator } = await newAuthenticator('none');
    const credential = await registeredCredential(authenticator);

    const { verification } = await authenticate(authenticator, credential);

    expect(verification.verified).toBe(true);
    expect(verification.authenticationInfo.newCounter).toBe(1);
    expect(verification.authenticationInfo.userVerified).toBe(true);
  });

  it('uses a discoverable credential when allowCredentials is empty and returns its user handle', async () => {
    const { authenticator } = await newAuthenticator('none');
    const credential = await registeredCredential(authenticator);

    const { response, verification } = await authenticate(authenticator, credential, { discoverable: true });

    expect(verification.verified).toBe(true);
    expect(response.id).toBe(credential.id);
    expect(response.response.userHandle).toBe(authenticator.credentials[0]?.userHandle);
  });

  it('lets a test roll back the counter to simulate a cloned authenticator', async () => {
    const { authenticator } = await newAuthenticator('none');
    const credential = await registeredCredential(authenticator);
    const { verification } = await authenticate(authenticator, credential);
    credential.counter = verification.authenticationInfo.newCounter;

    authenticator.credentials[0]!.signCount = 0;

    await expect(authenticate(authenticator, credential)).rejects.toThrow(/counter/);
  });

  it('fails with NotAllowedError when it holds no credential for the RP', async () => {
    const authenticator = new SoftAuthenticator();
    const options = await generateAuthenticationOptions({ rpID });

    expect(() => authenticator.getAssertion(options, { origin })).toThrow(/No eligible credential/);
  });

  describe('a tampered assertion is rejected', () => {
    it.each<[string, AssertionOverrides, RegExp]>([
      ['origin in clientDataJSON', { origin: 'https://evil.test' }, /origin/],
      ['type in clientDataJSON', { type: 'webauthn.create' }, /type/],
      ['challenge in clientDataJSON', { challenge: 'c3RhbGUtY2hhbGxlbmdl' }, /challenge/],
      ['rpIdHash of another RP ID', { rpIdHashOf: 'evil.test' }, /RP ID/],
      ['UP flag cleared', { userPresent: false }, /present/],
      ['UV flag cleared', { userVerified: false }, /User verification/],
    ])('%s', async (_name, overrides, message) => {
      const { authenticator } = await newAuthenticator('none');
      const credential = await registeredCredential(authenticator);

      await expect(authenticate(authenticator, credential, { overrides })).rejects.toThrow(message);
    });

    it('signCount not above the stored one', async () => {
      const { authenticator } = await newAuthenticator('none');
      const credential = { ...(await registeredCredential(authenticator)), counter: 5 };

      await expect(authenticate(authenticator, credential, { overrides: { signCount: 5 } })).rejects.toThrow(/counter/);
    });

    it('corrupt signature', async () => {
      const { authenticator } = await newAuthenticator('none');
      const credential = await registeredCredential(authenticator);

      const { verification } = await authenticate(authenticator, credential, { overrides: { corruptSignature: true } });

      expect(verification.verified).toBe(false);
    });
  });
});
