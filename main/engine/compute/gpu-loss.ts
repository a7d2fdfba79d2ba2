// A GPU lost while it held the work (a driver reset such as Windows' timeout detection, a GPU unplugged or put to
// sleep, a destroyed device): every tensor on it is gone, the backend with them, and tfjs fails with errors that say
// nothing (a DOMException without a message). The engine names the loss instead. No TensorFlow.js here: a job's
// worker asks after any failure.

/** The part of a GPUDevice that reports its loss. */
export interface LosableDevice {
  /** Resolves when the device is gone. */
  lost: Promise<{ reason: string; message: string }>
}

/** Like a full disk, an expected condition: a training pauses at its last checkpoint, an answer is asked again of a
 *  fresh worker (`retryable`), which starts a new device. */
export class GpuLostError extends Error {
  readonly code = 'gpu_lost'
  readonly retryable = true
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(`the GPU was lost (${[reason, detail].filter(Boolean).join(': ')}); what it held is gone. Once the GPU is back (a driver reset, a GPU woken or plugged in again), train or ask again`)
    this.name = 'GpuLostError'
  }
}

/** How long a failure waits for the loss to be reported: it can come a little after the failure it caused. */
const LOSS_REPORT_MS = 200

let watched: LosableDevice | null = null
/** Why the watched device was lost, once it has been. */
let loss: { reason: string; message: string } | null = null

/** Watches the device the engine computes on (the last one given). */
export function watchGpuLoss(device: LosableDevice): void {
  watched = device
  loss = null
  void device.lost.then((info) => {
    if (watched === device) loss = { reason: info.reason, message: info.message }
  })
}

/** `error` as a GpuLostError when the watched device has been lost, else `error` itself. */
export async function explainGpuLoss(error: unknown): Promise<unknown> {
  const device = watched
  if (!device || error instanceof GpuLostError) return error
  if (!loss) {
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([device.lost, new Promise((resolve) => (timer = setTimeout(resolve, LOSS_REPORT_MS)))])
    clearTimeout(timer)
  }
  if (!loss) return error
  const original = error instanceof Error ? error.message : String(error)
  return new GpuLostError(loss.reason, [loss.message, original].filter(Boolean).join('; '))
}
