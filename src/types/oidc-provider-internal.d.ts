// oidc-provider's keystore initializer (internal, untyped): see replaceProviderKeys in oidc/provider.ts.
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  export default function initializeKeystore(this: object, jwks: { keys: object[] }): void;
}
