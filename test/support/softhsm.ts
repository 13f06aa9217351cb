/**
 * A fresh SoftHSM2 token in a temporary folder, for the PKCS#11 signing-key
 * provider. SOFTHSM2_CONF is set in this process (the library reads it when it
 * is first initialised) and handed to child processes through `env`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmToken {
  label: string;
  pin: string;
  pinFile: string;
  /** SOFTHSM2_CONF plus the Warta settings that use the token. */
  env: Record<string, string>;
}

export function initSoftHsmToken(label = 'warta-test'): SoftHsmToken {
  const dir = mkdtempSync(path.join(tmpdir(), 'warta-softhsm-'));
  mkdirSync(path.join(dir, 'tokens'));
  const conf = path.join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${path.join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const pin = randomBytes(6).toString('hex');
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', randomBytes(6).toString('hex')], { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'ignore' });
  const pinFile = path.join(dir, 'pin');
  writeFileSync(pinFile, `${pin}\n`, { mode: 0o600 });
  process.env.SOFTHSM2_CONF = conf;
  return {
    label,
    pin,
    pinFile,
    env: { SOFTHSM2_CONF: conf, WARTA_SIGNING_KEY_PROVIDER: 'pkcs11', WARTA_PKCS11_MODULE: SOFTHSM_MODULE, WARTA_PKCS11_TOKEN_LABEL: label, WARTA_PKCS11_PIN_FILE: pinFile },
  };
}
