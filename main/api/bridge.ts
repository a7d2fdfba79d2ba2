// The Electron bridge: what the sandboxed preload exposes as `window.kotoba`.
// Kept free of runtime imports: a sandboxed preload can require nothing but 'electron'.
import type { ApiErrorBody, EngineEvent } from './contract.ts'

/** Replies are envelopes, since Errors lose their fields crossing the context bridge. */
export type BridgeReply = { ok: true; result: unknown } | { ok: false; error: ApiErrorBody }

export interface KotobaBridge {
  call(method: string, params: unknown): Promise<BridgeReply>
  onEvent(listener: (event: EngineEvent) => void): () => void
}

export const bridgeChannels = { call: 'kotoba:call', event: 'kotoba:event' } as const
