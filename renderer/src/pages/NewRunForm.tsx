// The form that starts a training run. Model families, their presets and the preset values come from the engine
// (runs.presets); the inputs come from the contract's schemas. Only corpora a family can train on are offered, one
// without splits can be split here, and settings that cannot train are refused before anything is created.
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react'
import { useTranslation } from 'react-i18next'
import type { z } from 'zod'
import { DialogueModelConfig, Seq2SeqModelConfig, TrainingConfig, TransformerModelConfig, type CorpusSummary, type ModelFamily, type ModelKind, type PresetConfig } from '../../../main/api/contract.ts'
import { hasTrainingSplits, settingProblems, suggestedHeldOut } from '../../../main/api/run-checks.ts'
import { useClient, useEvent, useQuery } from '../api/hooks.ts'
import { ConfigFields, type SectionValues } from '../components/ConfigFields.tsx'
import { useEngineText } from '../i18n/engine-text.ts'

type ModelSection = 'seq2seq' | 'transformer' | 'dialogue'

const sectionSchemas: Record<ModelSection, z.ZodObject<z.ZodRawShape>> = {
  seq2seq: Seq2SeqModelConfig as unknown as z.ZodObject<z.ZodRawShape>,
  transformer: TransformerModelConfig as unknown as z.ZodObject<z.ZodRawShape>,
  dialogue: DialogueModelConfig as unknown as z.ZodObject<z.ZodRawShape>,
}

/** The training settings shown first; the rest are under "More training settings". */
const mainTraining = ['maxSteps', 'validEvery', 'checkpointEvery', 'tokenBudget', 'lr', 'schedule', 'clipNorm', 'labelSmoothing', 'patience'] as const

const sectionOf = (config: PresetConfig): ModelSection => (config.seq2seq ? 'seq2seq' : config.transformer ? 'transformer' : 'dialogue')


function InlineSplit({ corpus, onSplit }: { corpus: CorpusSummary; onSplit: () => void }) {
  const { t } = useTranslation()
  const client = useClient()
  const [dev, setDev] = useState(suggestedHeldOut(corpus.rows))
  const [test, setTest] = useState(suggestedHeldOut(corpus.rows))
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const split = () => {
    setBusy(true)
    setError(null)
    client.call('corpus.split', { name: corpus.name, dev, test }).then(onSplit, (caught: unknown) => setError((caught as Error).message)).finally(() => setBusy(false))
  }
  return (
    <div className="inline-split" role="group" aria-label={t('training.form.splitTitle')} data-testid="inline-split">
      <p className="muted">{t('training.form.needsSplit', { name: corpus.name, rows: corpus.rows.toLocaleString() })}</p>
      <label>
        {t('corpora.split.dev')}
        <input type="number" min={1} value={dev} onChange={(event) => setDev(event.target.valueAsNumber)} />
      </label>
      <label>
        {t('corpora.split.test')}
        <input type="number" min={0} value={test} onChange={(event) => setTest(event.target.valueAsNumber)} />
      </label>
      <button type="button" disabled={busy} onClick={split}>
        {t('training.form.splitNow')}
      </button>
      {error && <p className="error">{error}</p>}
    </div>
  )
}

export function NewRunForm({ onCreated, takenNames }: { onCreated: (name: string) => void; takenNames: readonly string[] }) {
  const { t } = useTranslation()
  const engineText = useEngineText()
  const client = useClient()
  const families = useQuery('runs.presets', {})
  const corpora = useQuery('corpus.list', {})
  const tokenizers = useQuery('tokenizer.list', {})
  const runs = useQuery('runs.list', {})
  useEvent('corpus.changed', () => corpora.reload())
  useEvent('run.changed', () => runs.reload())
  const [model, setModel] = useState<ModelKind>('seq2seq')
  const [presetName, setPresetName] = useState('tiny')
  const [corpusName, setCorpusName] = useState('')
  const [name, setName] = useState('')
  /** The values being edited, for the preset they were started from (`from`). */
  const [edited, setEdited] = useState<{ from: string; model: SectionValues; training: SectionValues } | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [submitting, setSubmitting] = useState(false)

  const family: ModelFamily | undefined = families.data?.find((f) => f.model === model)
  const usable = (corpora.data ?? []).filter((c) => family?.corpusKinds.includes(c.kind))
  const corpus = usable.find((c) => c.name === corpusName) ?? usable.find(hasTrainingSplits) ?? usable[0]
  const preset = family?.presets.find((p) => p.name === presetName) ?? family?.presets[0]
  const presetConfig = preset?.configs.find((c) => c.corpusKind === corpus?.kind) ?? preset?.configs[0]
  const section = presetConfig ? sectionOf(presetConfig) : null

  // A new family, preset or kind of corpus starts from that preset's values (never shows another's for a render).
  const from = `${model}/${preset?.name}/${presetConfig?.corpusKind}`
  useEffect(() => {
    if (!presetConfig || !section) return
    setEdited({ from, model: { ...(presetConfig[section] as SectionValues) }, training: { ...presetConfig.training } })
  }, [from, presetConfig, section])
  const sections = edited?.from === from ? edited : null
  const setSections = (values: { model: SectionValues; training: SectionValues }) => setEdited({ from, ...values })

  // A name that is free, until the user types their own: a suggestion replaces only an empty field or the previous
  // suggestion, never what the user began typing before the corpora arrived.
  const [nameTouched, setNameTouched] = useState(false)
  const lastSuggestion = useRef('')
  useEffect(() => {
    if (nameTouched || !corpus) return
    const base = `${corpus.name}-${model}`
    let candidate = base
    for (let n = 2; takenNames.includes(candidate); n++) candidate = `${base}-${n}`
    const previous = lastSuggestion.current
    lastSuggestion.current = candidate
    setName((current) => (current === '' || current === previous ? candidate : current))
  }, [corpus?.name, model, takenNames.join('\n'), nameTouched])

  const problems = useMemo(
    () => (sections ? settingProblems({ seq2seq: section === 'seq2seq' ? sections.model : null, transformer: section === 'transformer' ? sections.model : null }) : []),
    [section, sections],
  )

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    if (!corpus || !section || !sections || !preset) return
    const form = new FormData(event.currentTarget)
    setError(null)
    setSubmitting(true)
    try {
      await client.call('runs.create', {
        name,
        model,
        corpus: corpus.name,
        tokenizer: String(form.get('tokenizer') ?? ''),
        ...(form.get('tgtTokenizer') ? { tgtTokenizer: String(form.get('tgtTokenizer')) } : {}),
        preset: preset.name,
        [section]: sections.model,
        training: sections.training,
        ...(form.get('teacher') ? { distillation: { teacher: String(form.get('teacher')), weight: Number(form.get('kdWeight') || 0.5) } } : {}),
      })
      await client.call('runs.start', { name })
      setNameTouched(false)
      onCreated(name)
    } catch (caught) {
      setError((caught as Error).message)
    } finally {
      setSubmitting(false)
    }
  }

  const ready = corpus !== undefined && hasTrainingSplits(corpus) && (tokenizers.data?.length ?? 0) > 0 && problems.length === 0 && sections !== null
  return (
    <form className="panel import-form run-form" onSubmit={(event) => void submit(event)} aria-labelledby="new-run-title">
      <h2 id="new-run-title">{t('training.form.title')}</h2>
      {families.error && <p className="error">{families.error}</p>}
      <div className="form-grid">
        <label>
          {t('training.form.model')}
          <select name="model" value={model} onChange={(event) => setModel(event.target.value as ModelKind)}>
            {families.data?.map((f) => (
              <option key={f.model} value={f.model}>
                {t(`training.family.${f.model}`, { defaultValue: f.title })}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('training.form.preset')}
          <select name="preset" value={preset?.name ?? ''} onChange={(event) => setPresetName(event.target.value)}>
            {family?.presets.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('training.form.corpus')}
          <select name="corpus" required value={corpus?.name ?? ''} onChange={(event) => setCorpusName(event.target.value)}>
            {usable.map((c) => (
              <option key={c.id} value={c.name}>
                {hasTrainingSplits(c) ? t('training.form.corpusOption', { name: c.name, kind: c.kind, train: c.splits.train.toLocaleString(), dev: c.splits.dev.toLocaleString() }) : t('training.form.corpusUnsplit', { name: c.name, kind: c.kind })}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('training.form.tokenizer')}
          <select name="tokenizer" required>
            {tokenizers.data?.map((tk) => (
              <option key={tk.id}>{tk.name}</option>
            ))}
          </select>
        </label>
        {corpus?.kind === 'parallel' && (
          <label>
            {t('training.form.tgtTokenizer')}
            <select name="tgtTokenizer" defaultValue="">
              <option value="">{t('training.form.sameTokenizer')}</option>
              {tokenizers.data?.map((tk) => (
                <option key={tk.id}>{tk.name}</option>
              ))}
            </select>
          </label>
        )}
        <label>
          {t('training.form.name')}
          <input
            name="name"
            required
            value={name}
            onChange={(event) => {
              setNameTouched(true)
              setName(event.target.value)
            }}
          />
        </label>
      </div>
      {family && <p className="muted">{engineText(family.descriptionText, family.description)}{preset ? ` · ${preset.name}: ${engineText(preset.descriptionText, preset.description)}` : ''}</p>}
      {usable.length === 0 && corpora.data && <p className="muted">{t('training.form.noCorpus', { kinds: family?.corpusKinds.join(', ') ?? '' })}</p>}
      {corpus && !hasTrainingSplits(corpus) && <InlineSplit key={corpus.name} corpus={corpus} onSplit={() => corpora.reload()} />}
      {section && sections && (
        <>
          <fieldset className="form-grid" data-testid="model-settings">
            <legend>{t('training.form.modelSettings')}</legend>
            <ConfigFields section={section} schema={sectionSchemas[section]} values={sections.model} onChange={(values) => setSections({ ...sections, model: values })} except={model === 'hred' ? ['latentSize', 'freeBits', 'bowWeight'] : []} />
          </fieldset>
          <fieldset className="form-grid" data-testid="training-settings">
            <legend>{t('training.form.trainingSettings')}</legend>
            <ConfigFields section="training" schema={TrainingConfig as unknown as z.ZodObject<z.ZodRawShape>} values={sections.training} onChange={(values) => setSections({ ...sections, training: values })} only={mainTraining} />
          </fieldset>
          <details>
            <summary>{t('training.form.moreSettings')}</summary>
            <div className="form-grid">
              <ConfigFields section="training" schema={TrainingConfig as unknown as z.ZodObject<z.ZodRawShape>} values={sections.training} onChange={(values) => setSections({ ...sections, training: values })} except={mainTraining} />
              {(model === 'seq2seq' || model === 'transformer') && (
                <>
                  <label>
                    {t('training.form.teacher')}
                    <select name="teacher" defaultValue="">
                      <option value="">{t('training.form.noTeacher')}</option>
                      {(runs.data ?? [])
                        .filter((r) => (r.model === 'seq2seq' || r.model === 'transformer') && r.step > 0)
                        .map((r) => (
                          <option key={r.id}>{r.name}</option>
                        ))}
                    </select>
                  </label>
                  <label>
                    {t('training.form.kdWeight')}
                    <input name="kdWeight" type="number" min={0.05} max={1} step={0.05} defaultValue={0.5} />
                  </label>
                </>
              )}
            </div>
          </details>
        </>
      )}
      {problems.length > 0 && (
        <ul className="error" role="alert" data-testid="setting-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <button type="submit" disabled={!ready || submitting}>
        {t('training.form.submit')}
      </button>
      {tokenizers.data?.length === 0 && <p className="muted">{t('training.form.needTokenizer')}</p>}
      {error && <p className="error">{error}</p>}
    </form>
  )
}
