/**
 * Makes the service's client key: the private JWK stays with the service
 * (OIDC_CLIENT_KEY_FILE), the public JWKS goes to Warta (`warta client create
 * --auth-method private_key_jwt --jwks-file …`).
 *
 *   npx tsx examples/relying-service/generate-key.ts client-key.json client-jwks.json
 */
import { writeFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

export async function generateClientKey(): Promise<{ privateJwk: JWK; publicJwks: { keys: JWK[] } }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' },
    publicJwks: { keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [privateFile, publicFile] = process.argv.slice(2);
  if (!privateFile || !publicFile) {
    console.error('usage: generate-key.ts PRIVATE_KEY_FILE PUBLIC_JWKS_FILE');
    process.exit(64);
  }
  const { privateJwk, publicJwks } = await generateClientKey();
  writeFileSync(privateFile, `${JSON.stringify(privateJwk)}\n`, { mode: 0o600, flag: 'wx' });
  writeFileSync(publicFile, `${JSON.stringify(publicJwks, null, 2)}\n`, { flag: 'wx' });
  console.log(`private key: ${privateFile} (keep it secret), public JWKS for Warta: ${publicFile}`);
}
