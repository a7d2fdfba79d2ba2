// Train/dev/test splits: random with a seed, or by grouping key (book, source file) so that near-duplicate
// rows of one group never land on both sides of a split.
import { Random } from '../../../models/core/random.ts'
import type { Database } from '../store/database.ts'

export interface SplitRequest {
  /** ≥ 1: a number of rows; between 0 and 1: a fraction of the corpus. */
  dev: number
  test: number
  seed: number
  by: 'random' | 'group'
}

export interface SplitResult {
  train: number
  dev: number
  test: number
  /** With by = 'group': which groups went to dev and test. */
  groups?: { dev: string[]; test: string[] }
}

function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.integer(i + 1)
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}

function target(amount: number, total: number): number {
  if (amount < 0) throw new Error('split sizes cannot be negative')
  return amount < 1 ? Math.round(amount * total) : Math.floor(amount)
}

export function splitCorpus(db: Database, corpusId: number, request: SplitRequest): SplitResult {
  const total = (db.prepare('SELECT count(*) AS n FROM corpus_rows WHERE corpus_id = ?').get(corpusId) as { n: number }).n
  const devTarget = target(request.dev, total)
  const testTarget = target(request.test, total)
  if (devTarget + testTarget >= total) throw new Error(`dev (${devTarget}) and test (${testTarget}) leave no training rows out of ${total}`)
  const random = new Random(request.seed)
  const apply = db.transaction((): SplitResult => {
    db.prepare("UPDATE corpus_rows SET split = 'train' WHERE corpus_id = ?").run(corpusId)
    if (request.by === 'random') {
      const order = shuffle(
        (db.prepare('SELECT idx FROM corpus_rows WHERE corpus_id = ? ORDER BY idx').all(corpusId) as { idx: number }[]).map((r) => r.idx),
        random,
      )
      const setSplit = db.prepare('UPDATE corpus_rows SET split = ? WHERE corpus_id = ? AND idx = ?')
      order.slice(0, testTarget).forEach((idx) => setSplit.run('test', corpusId, idx))
      order.slice(testTarget, testTarget + devTarget).forEach((idx) => setSplit.run('dev', corpusId, idx))
      return { train: total - devTarget - testTarget, dev: devTarget, test: testTarget }
    }
    const groups = db.prepare('SELECT grp, count(*) AS n FROM corpus_rows WHERE corpus_id = ? GROUP BY grp ORDER BY grp').all(corpusId) as { grp: string | null; n: number }[]
    if (groups.some((g) => g.grp === null)) throw new Error('this corpus has rows without a grouping key: split it at random instead')
    if (groups.length < 3) throw new Error(`splitting by group needs at least 3 groups, this corpus has ${groups.length}`)
    const available = shuffle([...groups], random)
    const setGroup = db.prepare('UPDATE corpus_rows SET split = ? WHERE corpus_id = ? AND grp = ?')
    const chosen = { dev: [] as string[], test: [] as string[] }
    const sizes = { dev: 0, test: 0 }
    const take = (split: 'dev' | 'test', index: number): void => {
      const [group] = available.splice(index, 1)
      setGroup.run(split, corpusId, group!.grp)
      chosen[split].push(group!.grp!)
      sizes[split] += group!.n
    }
    for (const [split, wanted] of [['test', testTarget], ['dev', devTarget]] as const) {
      if (wanted === 0) continue
      // Whole groups in shuffled order while they fit; always leave one group for training.
      for (let i = 0; i < available.length && available.length > 1; ) {
        if (sizes[split] + available[i]!.n <= wanted) take(split, i)
        else i++
      }
      // Nothing fitted (every group is larger than wanted): take the smallest one left.
      if (sizes[split] === 0 && available.length > 1) {
        const smallest = available.reduce((best, group, i) => (group.n < available[best]!.n ? i : best), 0)
        take(split, smallest)
      }
    }
    return { train: total - sizes.dev - sizes.test, dev: sizes.dev, test: sizes.test, groups: chosen }
  })
  const result = apply()
  const meta = JSON.parse((db.prepare('SELECT meta FROM corpora WHERE id = ?').get(corpusId) as { meta: string }).meta) as Record<string, unknown>
  db.prepare('UPDATE corpora SET meta = ? WHERE id = ?').run(JSON.stringify({ ...meta, split: { ...request, result } }), corpusId)
  return result
}
