// oidc-provider ships no type declarations; the benchmark uses it as an untyped peer.
declare module 'oidc-provider' {
  const Provider: any;
  export default Provider;
}
declare module 'oidc-provider/package.json' {
  const pkg: { version: string };
  export default pkg;
}
