// Turns the errors a training run can die of into messages an analyst can act on.

/** The wasm backend's heap ends at 4 GB; running past it surfaces as a bare WebAssembly trap. */
const WASM_OOM = /memory access out of bounds|out of memory|Cannot enlarge memory/i;

/** The message stored with a failed run and shown in the CLI and UI. */
export function describeTrainingError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof WebAssembly.RuntimeError && WASM_OOM.test(message)) {
    return (
      `out of memory on the wasm backend (${message}): its heap is limited to 4 GB, and the ` +
      'largest tensors grow with (batch size x interests)^2 in the contrastive and uniformity ' +
      'terms. Lower batchSize (or interests, maxlen), or train on a native backend (@tensorflow/tfjs-node).'
    );
  }
  return message;
}
