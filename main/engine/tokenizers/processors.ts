// Loaded SentencePiece processors (sentencepiece-js, the same C++ code as spm_encode compiled to wasm), one per
// tokenizer, kept while the engine runs.
import type { SentencePieceProcessor } from '@sctg/sentencepiece-js'
import type { Database } from '../store/database.ts'
import { tokenizerModel } from './repository.ts'

const loaded = new WeakMap<Database, Map<number, Promise<SentencePieceProcessor>>>()

export function processorFor(db: Database, tokenizerId: number): Promise<SentencePieceProcessor> {
  let cache = loaded.get(db)
  if (!cache) loaded.set(db, (cache = new Map()))
  let processor = cache.get(tokenizerId)
  if (!processor) {
    processor = (async () => {
      // Loaded on first use: most engine calls and jobs never tokenise.
      const { SentencePieceProcessor: Processor } = await import('@sctg/sentencepiece-js')
      const instance = new Processor()
      await instance.loadFromB64StringModel(Buffer.from(tokenizerModel(db, tokenizerId)).toString('base64'))
      return instance
    })()
    cache.set(tokenizerId, processor)
  }
  return processor
}

export function forgetProcessor(db: Database, tokenizerId: number): void {
  loaded.get(db)?.delete(tokenizerId)
}
