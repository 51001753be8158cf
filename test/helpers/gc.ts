// Whether an object can be garbage collected: memory tests hold a WeakRef to what must not be kept
// (a request's context) and ask after a few collections.
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** True once `ref`'s object has been collected (a few full collections, a turn of the event loop
 *  between them: a WeakRef keeps its object for the rest of the current job). */
export async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 5 && ref.deref(); i++) {
    await new Promise((r) => setTimeout(r, 10));
    gc();
  }
  return ref.deref() === undefined;
}
