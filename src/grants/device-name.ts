/**
 * What a device is called. The client may name itself with the `device_name`
 * authorization parameter (the messenger knows "Pixel 8"); otherwise Warta says
 * "<client name> on <platform>" from the User-Agent of the sign-in. Either way it
 * is display text chosen by someone else: control characters are removed and the
 * length bounded; JSX escapes it on the page.
 */

export const MAX_DEVICE_NAME_LENGTH = 64;

// Order matters: iPadOS and Android UAs also mention "Mac OS X" and "Linux".
const PLATFORMS: [RegExp, string][] = [
  [/\bAndroid\b/i, 'Android'],
  [/\b(iPhone|iPad|iPod)\b|\biOS\b/i, 'iOS'],
  [/\bCrOS\b/i, 'ChromeOS'],
  [/\bWindows\b/i, 'Windows'],
  [/\bMac ?OS ?X\b|\bMacintosh\b|\bmacOS\b|\bDarwin\b/i, 'macOS'],
  [/\bLinux\b|\bX11\b/i, 'Linux'],
];

export function platformOf(userAgent: string | null | undefined): string {
  if (!userAgent) return 'unknown';
  for (const [pattern, platform] of PLATFORMS) if (pattern.test(userAgent)) return platform;
  return 'unknown';
}

/** Display text from an untrusted source: no control or bidi-override characters, whitespace collapsed, bounded; undefined when nothing is left. */
export function cleanDeviceName(raw: string | null | undefined): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const cleaned = raw
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!cleaned) return undefined;
  return [...cleaned].slice(0, MAX_DEVICE_NAME_LENGTH).join('');
}

export function deviceName(input: { requested: string | undefined; clientName: string; platform: string }): string {
  const requested = cleanDeviceName(input.requested);
  if (requested) return requested;
  const client = cleanDeviceName(input.clientName) ?? 'Application';
  return cleanDeviceName(input.platform === 'unknown' ? client : `${client} on ${input.platform}`)!;
}
