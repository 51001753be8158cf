// oidc-provider's keystore initializer (internal, untyped): see replaceProviderKeys in oidc/provider.ts.
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  export default function initializeKeystore(this: object, jwks: { keys: object[] }): void;
}

// The AsyncLocalStorage whose store Provider.ctx returns (tests run adapter calls inside it).
declare module 'oidc-provider/lib/helpers/als.js' {
  import type { AsyncLocalStorage } from 'node:async_hooks';
  const als: AsyncLocalStorage<unknown>;
  export default als;
}
