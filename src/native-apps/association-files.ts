/**
 * The files that let the messenger's native apps use passkeys made for Warta's
 * RP id: Android's Digital Asset Links statement list and Apple's app site
 * association. Both are built once from the configuration (WARTA_ANDROID_APPS,
 * WARTA_APPLE_APP_IDS); an unset setting means the file does not exist.
 */
import { createHash } from 'node:crypto';
import type { NativeAppSettings } from '../config.js';

export const ASSET_LINKS_PATH = '/.well-known/assetlinks.json';
export const APPLE_APP_SITE_ASSOCIATION_PATH = '/.well-known/apple-app-site-association';

/** A file's bytes and its strong validator (RFC 9110 §8.8.3). */
export interface AssociationFile {
  body: string;
  etag: string;
}

function associationFile(document: unknown): AssociationFile {
  const body = JSON.stringify(document, null, 2);
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` };
}

/**
 * Digital Asset Links: `get_login_creds` lets Credential Manager offer the app the
 * passkeys of this site (and the app's passkeys work here); `handle_all_urls`
 * verifies App Links the app declares for this host.
 */
export function assetLinks(settings: Pick<NativeAppSettings, 'android'>): AssociationFile | undefined {
  if (settings.android.length === 0) return undefined;
  return associationFile(
    settings.android.map((app) => ({
      relation: ['delegate_permission/common.get_login_creds', 'delegate_permission/common.handle_all_urls'],
      target: { namespace: 'android_app', package_name: app.packageName, sha256_cert_fingerprints: app.sha256CertFingerprints },
    })),
  );
}

/**
 * Apple: `webcredentials` lets the listed apps use this domain's passkeys
 * (the app declares `webcredentials:<rp id>` in its Associated Domains). No
 * `applinks`: they would open Warta's own pages in the app instead of the
 * browser; the app's claimed https redirect lives on the app's own domain.
 */
export function appleAppSiteAssociation(settings: Pick<NativeAppSettings, 'appleAppIds'>): AssociationFile | undefined {
  if (settings.appleAppIds.length === 0) return undefined;
  return associationFile({ webcredentials: { apps: settings.appleAppIds } });
}
