// The node's life after start: draining begins at SIGTERM. Long-lived responses (the kAuth event
// stream) end at once so their connections close, /readyz turns 503 so load balancers stop sending,
// and every response asks its client to close the connection.
export function createLifecycle() {
  let draining = false;
  const onDrain = new Set<() => void>();
  return {
    get draining() {
      return draining;
    },
    /** Calls `fn` when draining begins (at once if it has); returns the function that forgets it. */
    whenDraining(fn: () => void): () => void {
      if (draining) {
        fn();
        return () => {};
      }
      onDrain.add(fn);
      return () => onDrain.delete(fn);
    },
    drain() {
      if (draining) return;
      draining = true;
      for (const fn of onDrain) fn();
      onDrain.clear();
    },
  };
}
export type Lifecycle = ReturnType<typeof createLifecycle>;
