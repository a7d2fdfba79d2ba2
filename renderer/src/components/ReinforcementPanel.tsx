// Reinforcement learning on the run dashboard: a new phase that continues from this run's checkpoint — a policy
// gradient with the greedy output's reward as baseline (translation: self-critical training on sentence chrF/BLEU;
// dialogue: REINFORCE with Li et al.'s rewards) or, as its control, more supervised steps — and what a phase optimises.
import { useState, type FormEvent } from 'react'
import { useTranslation } from 'react-i18next'
import type { RunDetail } from '../../../main/api/contract.ts'
import { useClient } from '../api/hooks.ts'

type Phase = 'rl' | 'supervised'

const isDialogue = (run: RunDetail) => run.config.model === 'hred' || run.config.model === 'vhred'

function PhaseForm({ run, onStarted }: { run: RunDetail; onStarted: (name: string) => void }) {
  const { t } = useTranslation()
  const client = useClient()
  const dialogue = isDialogue(run)
  const [phase, setPhase] = useState<Phase>('rl')
  const [reward, setReward] = useState<'chrf' | 'bleu'>('chrf')
  const [weight, setWeight] = useState(dialogue ? 0.5 : 0.9)
  const [temperature, setTemperature] = useState(1)
  const [steps, setSteps] = useState(200)
  const [error, setError] = useState<string | null>(null)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    setError(null)
    const reinforcement = phase !== 'rl' ? undefined : dialogue ? { algorithm: 'reinforce' as const, reward: 'dialogue' as const, weight, temperature } : { algorithm: 'scst' as const, reward, weight, temperature }
    client.call('runs.finetune', { name: run.name, steps, ...(reinforcement ? { reinforcement } : {}) }).then(
      (result) => onStarted(result.run.name),
      (caught: unknown) => setError((caught as Error).message),
    )
  }
  if (run.checkpoints.length === 0) return <p className="muted">{t('reinforcement.needsCheckpoint')}</p>
  return (
    <form className="tools" onSubmit={submit} aria-label={t('reinforcement.formLabel')}>
      <label>
        {t('reinforcement.phase')}
        <select value={phase} onChange={(e) => setPhase(e.target.value as Phase)} name="rl-phase">
          <option value="rl">{t(dialogue ? 'reinforcement.phases.reinforce' : 'reinforcement.phases.scst')}</option>
          <option value="supervised">{t(dialogue ? 'reinforcement.phases.supervised' : 'reinforcement.phases.crossEntropy')}</option>
        </select>
      </label>
      {phase === 'rl' && (
        <>
          {!dialogue && (
            <label>
              {t('reinforcement.reward')}
              <select value={reward} onChange={(e) => setReward(e.target.value as 'chrf' | 'bleu')} name="rl-reward">
                <option value="chrf">{t('reinforcement.rewards.chrf')}</option>
                <option value="bleu">{t('reinforcement.rewards.bleu')}</option>
              </select>
            </label>
          )}
          <label title={t('reinforcement.weightHint')}>
            {t('reinforcement.weight')}
            <input type="number" min={0} max={1} step={0.05} value={weight} onChange={(e) => setWeight(Number(e.target.value))} name="rl-weight" style={{ width: '5rem' }} />
          </label>
          <label title={t('reinforcement.temperatureHint')}>
            {t('reinforcement.temperature')}
            <input type="number" min={0.05} max={10} step={0.05} value={temperature} onChange={(e) => setTemperature(Number(e.target.value))} name="rl-temperature" style={{ width: '5rem' }} />
          </label>
        </>
      )}
      <label>
        {t('reinforcement.steps')}
        <input type="number" min={1} value={steps} onChange={(e) => setSteps(Number(e.target.value))} name="rl-steps" style={{ width: '6rem' }} />
      </label>
      <button type="submit">{t('reinforcement.submit')}</button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}

/** `onStarted` gets the new run's name once it trains (the page shows that run). */
export function ReinforcementPanel({ run, onStarted }: { run: RunDetail; onStarted: (name: string) => void }) {
  const { t } = useTranslation()
  const rl = run.config.reinforcement
  const from = run.config.finetunedFrom
  return (
    <section aria-labelledby="reinforcement-title" data-testid="reinforcement">
      <h2 id="reinforcement-title">{t('reinforcement.title')}</h2>
      <p className="muted">{t(isDialogue(run) ? 'reinforcement.dialogueIntro' : 'reinforcement.intro')}</p>
      {from && (
        <p data-testid="reinforcement-phase">
          {rl?.algorithm === 'reinforce'
            ? t('reinforcement.currentDialogue', { run: from.run, step: from.step, weight: rl.weight, temperature: rl.temperature })
            : rl
            ? t('reinforcement.current', { run: from.run, step: from.step, reward: t(`reinforcement.rewards.${rl.reward}`), weight: rl.weight, temperature: rl.temperature })
            : t('reinforcement.control', { run: from.run, step: from.step })}
        </p>
      )}
      <PhaseForm run={run} onStarted={onStarted} />
    </section>
  )
}
