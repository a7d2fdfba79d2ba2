// Ctrl-C, `kill` (SIGTERM) and a closed terminal (SIGHUP) all stop a long command the same clean way: a training
// pauses with a checkpoint, another job is cancelled and rolled back. A second signal is left to the handler too
// (the job is already stopping), so nothing is killed halfway.
const stopSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/** Calls `onStop` on the first stop signal; returns the function that removes the handlers. */
export function onStopSignal(onStop: (signal: NodeJS.Signals) => void): () => void {
  let stopping = false
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    onStop(signal)
  }
  for (const signal of stopSignals) process.on(signal, handler)
  return () => {
    for (const signal of stopSignals) process.removeListener(signal, handler)
  }
}
