// Paired bootstrap resampling (Koehn 2004, "Statistical Significance Tests for Machine Translation Evaluation"):
// both systems are scored on the same resampled test sets, so the spread of the score difference shows whether it
// is more than the luck of which sentences the test set holds. Corpus metrics are recomputed from per-sentence
// statistics on every resample, as sacreBLEU's --paired-bs does.
import { bleuFromStatistics, bleuMaxOrder, bleuStatistics, sumStatistics } from './bleu.ts'
import { chrfFromStatistics, chrfOrder, chrfStatistics } from './chrf.ts'
import { dialogueWords, unigramF1, wordNgrams } from './dialogue.ts'
import { terFromStatistics, terStatistics } from './ter.ts'
import { Random } from '../core/random.ts'

/** A corpus metric of one system's outputs, computed on the sentences at `indices` (repeats allowed). */
export type SampledMetric = (indices: readonly number[]) => number

export interface PairedDifference {
  metric: string
  baseline: number
  system: number
  /** system − baseline on the whole test set. */
  difference: number
  /** The 95 % interval of the difference: the 2.5th and 97.5th percentiles of the resampled differences, shifted
   *  so that their mean is the observed difference (the p-value's null distribution, centred on 0, is the same). */
  low: number
  high: number
  /** Two-sided: the share of resampled differences at least as far from their mean as the observed one is from 0. */
  pValue: number
}

export interface BootstrapOptions {
  resamples: number
  seed: number
}

/** The metrics `kotoba eval --against` compares, for one system's hypotheses against the references. */
export function sampledMetrics(hypotheses: readonly string[], references: readonly string[], dialogue: boolean): Record<string, SampledMetric> {
  const bleuRows = hypotheses.map((h, i) => bleuStatistics(h, [references[i]!]))
  const chrfRows = hypotheses.map((h, i) => chrfStatistics(h, [references[i]!]))
  const terRows = hypotheses.map((h, i) => terStatistics(h, [references[i]!]))
  const metrics: Record<string, SampledMetric> = {
    bleu: (indices) => bleuFromStatistics(sumStatistics(bleuRows, 2 + 2 * bleuMaxOrder, indices)).score,
    chrf: (indices) => chrfFromStatistics(sumStatistics(chrfRows, 3 * chrfOrder, indices)),
    ter: (indices) => terFromStatistics(sumStatistics(terRows, 2, indices)),
  }
  if (!dialogue) return metrics
  const f1 = hypotheses.map((h, i) => 100 * unigramF1(h, references[i]!))
  const mean = (values: readonly number[], indices: readonly number[]) => indices.reduce((sum, i) => sum + values[i]!, 0) / Math.max(1, indices.length)
  const words = hypotheses.map(dialogueWords)
  const lengths = words.map((w) => w.length)
  // Inter-response distinct-n (distinctN's): distinct n-grams over all sampled responses / all their n-grams.
  const distinct = (n: number): SampledMetric => {
    const grams = words.map((w) => wordNgrams(w, n))
    return (indices) => {
      const seen = new Set<string>()
      let total = 0
      for (const i of indices) {
        for (const gram of grams[i]!) seen.add(gram)
        total += grams[i]!.length
      }
      return total === 0 ? 0 : seen.size / total
    }
  }
  return {
    ...metrics,
    f1: (indices) => mean(f1, indices),
    distinct1: distinct(1),
    distinct2: distinct(2),
    length: (indices) => mean(lengths, indices),
  }
}

/** The 2.5th/97.5th percentile of sorted values (nearest rank). */
function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(fraction * (sorted.length - 1))))]!
}

/** Compares two systems' metrics over the same `size` test sentences, each on the same resamples. */
export function pairedBootstrap(size: number, baseline: Record<string, SampledMetric>, system: Record<string, SampledMetric>, options: BootstrapOptions): PairedDifference[] {
  if (size === 0) throw new Error('paired bootstrap: no sentences to resample')
  const random = new Random(options.seed)
  const samples = Array.from({ length: options.resamples }, () => Array.from({ length: size }, () => random.integer(size)))
  const all = Array.from({ length: size }, (_, i) => i)
  return Object.keys(baseline)
    .filter((metric) => metric in system)
    .map((metric) => {
      const [scoreBase, scoreSystem] = [baseline[metric]!, system[metric]!]
      const observed = { baseline: scoreBase(all), system: scoreSystem(all) }
      const difference = observed.system - observed.baseline
      const differences = samples.map((indices) => scoreSystem(indices) - scoreBase(indices)).sort((a, b) => a - b)
      const centre = differences.reduce((sum, d) => sum + d, 0) / differences.length
      const asFar = differences.filter((d) => Math.abs(d - centre) >= Math.abs(difference)).length
      // The spread of the resampled differences around their own mean, placed at the observed difference: a
      // resample repeats sentences, which lowers distinct-n for both systems and shrinks their difference.
      return {
        metric,
        ...observed,
        difference,
        low: difference + percentile(differences, 0.025) - centre,
        high: difference + percentile(differences, 0.975) - centre,
        pValue: (asFar + 1) / (differences.length + 1),
      }
    })
}
