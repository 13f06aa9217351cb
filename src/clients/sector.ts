/** The pairwise sector a client's redirect URIs name (OIDC Core §8.1; src/oidc/subject.ts uses it). */

/** The one host every redirect URI shares; undefined when they share none (or have none, or a custom scheme without a host). */
export function redirectUrisHost(redirectUris: readonly string[]): string | undefined {
  const hosts = new Set<string>();
  for (const uri of redirectUris) {
    try {
      hosts.add(new URL(uri).hostname.toLowerCase());
    } catch {
      return undefined;
    }
  }
  const [host] = hosts;
  return hosts.size === 1 && host ? host : undefined;
}
