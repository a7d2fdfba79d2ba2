// Chat with an HRED/VHRED run: stored conversations, seeding from the corpus, decoding controls, resampling the
// last reply (a new z for VHRED), and per reply what the model did: z and its KL (VHRED), the context state's
// norm and turn-to-turn similarity (HRED and VHRED). distinct-n over a conversation is one click.
import { useEffect, useState, type FormEvent } from 'react'
import { useTranslation } from 'react-i18next'
import type { ChatDetail, ReplyInsight } from '../../../main/api/contract.ts'
import { useClient, useQuery } from '../api/hooks.ts'
import { download } from '../components/AttentionHeatmap.tsx'
import { EmptyState, PageHeader } from '../components/EmptyState.tsx'
import { SearchControls, defaultSearchSettings, type SearchSettings } from '../components/SearchControls.tsx'

function Insight({ insight }: { insight: ReplyInsight }) {
  const { t } = useTranslation()
  const largest = Math.max(1e-9, ...insight.context.map((c) => c.norm))
  return (
    <div className="insight" data-testid="reply-insight">
      {insight.latent && (
        <p className="muted mono" data-testid="latent">
          {t('chat.latent', { seed: insight.latent.seed, norm: insight.latent.norm.toFixed(2), kl: insight.latent.kl.toFixed(2) })}
          <span className="z-bars" aria-hidden>
            {insight.latent.z.map((v, i) => (
              <span key={i} style={{ height: `${Math.min(16, Math.abs(v) * 8)}px`, background: v >= 0 ? '#d62728' : '#1f77b4' }} />
            ))}
          </span>
        </p>
      )}
      <p className="muted context-norms">
        {t('chat.context')}{' '}
        {insight.context.map((c, i) => (
          <span key={i} className="context-norm" title={t('chat.contextTitle', { turn: i + 1, norm: c.norm.toFixed(2), similarity: c.similarity === null ? '–' : c.similarity.toFixed(2) })}>
            <span className="bar" style={{ width: `${(40 * c.norm) / largest}px` }} />
            {c.similarity === null ? '' : ` ${c.similarity.toFixed(2)}`}
          </span>
        ))}
      </p>
    </div>
  )
}

/** Self-chat (ParlAI's): the model — or the model and a partner run — talk to each other from an opening line. */
function SelfChatForm({ runs, run, busy, onStart }: { runs: string[]; run: string; busy: boolean; onStart: (opening: string, turns: number, partner: string) => void }) {
  const { t } = useTranslation()
  const [opening, setOpening] = useState('')
  const [turns, setTurns] = useState(10)
  const [partner, setPartner] = useState('')
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (opening.trim() && run) onStart(opening.trim(), turns, partner)
  }
  return (
    <form className="tools" onSubmit={submit} aria-label={t('chat.selfChat.label')}>
      <label>
        {t('chat.selfChat.opening')}
        <input value={opening} onChange={(e) => setOpening(e.target.value)} name="self-chat-opening" style={{ width: '20rem' }} />
      </label>
      <label>
        {t('chat.selfChat.turns')}
        <input type="number" min={1} max={100} value={turns} onChange={(e) => setTurns(Number(e.target.value))} name="self-chat-turns" style={{ width: '5rem' }} />
      </label>
      <label>
        {t('chat.selfChat.partner')}
        <select value={partner} onChange={(e) => setPartner(e.target.value)} name="self-chat-partner">
          <option value="">{t('chat.selfChat.samePartner')}</option>
          {runs
            .filter((r) => r !== run)
            .map((r) => (
              <option key={r}>{r}</option>
            ))}
        </select>
      </label>
      <button type="submit" disabled={busy || !run || !opening.trim()}>
        {t('chat.selfChat.submit')}
      </button>
      <span className="muted">{t('chat.selfChat.hint')}</span>
    </form>
  )
}

export function ChatPage() {
  const { t } = useTranslation()
  const client = useClient()
  const runs = useQuery('runs.list', {})
  const dialogueRuns = runs.data?.filter((r) => (r.model === 'hred' || r.model === 'vhred') && r.step > 0).map((r) => r.name) ?? []
  const [chosenRun, setChosenRun] = useState<string | null>(null)
  const run = chosenRun ?? dialogueRuns[0] ?? ''
  const chats = useQuery('chat.list', { run }, run, run !== '')
  const [chat, setChat] = useState<ChatDetail | null>(null)
  const [text, setText] = useState('')
  const [settings, setSettings] = useState<SearchSettings>({ ...defaultSearchSettings, search: 'greedy' })
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [distinct, setDistinct] = useState<string | null>(null)
  useEffect(() => setChat(null), [run])
  useEffect(() => setDistinct(null), [chat?.id]) // the counts belong to the conversation they were made for

  if (runs.data && dialogueRuns.length === 0) {
    return (
      <>
        <PageHeader title={t('chat.title')} intro={t('chat.intro')} />
        <EmptyState message={t('chat.empty')} />
      </>
    )
  }
  const { search, beamSize, temperature, topK, topP } = settings
  const options = { search, beamSize, temperature, topK, topP, seed: Math.floor(Math.random() * 1e9) }
  // Greedy and beam search give the same reply to the same context every time (VHRED's new latent aside), so
  // resampling samples at the chosen temperature, and the button says so.
  const deterministic = search === 'greedy' || search === 'beam'
  const resampleOptions = deterministic ? { ...options, search: 'sample' as const } : options
  const act = async (action: () => Promise<ChatDetail | void>) => {
    setBusy(true)
    setError(null)
    try {
      const next = await action()
      if (next) setChat(next)
      chats.reload()
    } catch (caught) {
      setError((caught as Error).message)
    } finally {
      setBusy(false)
    }
  }
  const send = (event?: FormEvent) => {
    event?.preventDefault()
    const said = text.trim()
    if (!said || busy || !run) return // no run yet: the runs list has not arrived
    setText('')
    void act(async () => {
      const current = chat ?? (await client.call('chat.create', { run }))
      setChat({ ...current, history: [...current.history, { index: current.history.length, role: 'user', text: said, meta: {} }] })
      return client.call('chat.say', { id: current.id, text: said, ...options })
    })
  }
  const seedFromCorpus = () =>
    act(async () => {
      const detail = await client.call('runs.show', { name: run })
      const { total } = await client.call('corpus.rows', { name: detail.config.corpus, limit: 1 })
      const { rows } = await client.call('corpus.rows', { name: detail.config.corpus, offset: Math.floor(Math.random() * Math.max(1, total)), limit: 1 })
      const turns = rows[0]?.turns ?? []
      // All but the last turn, an odd number so it ends on a user turn (roles alternate from the user) and the model answers next.
      let seed = turns.length > 1 ? turns.slice(0, -1) : turns
      if (seed.length % 2 === 0) seed = seed.slice(1)
      return client.call('chat.create', { run, title: t('chat.seededTitle', { index: rows[0]?.index ?? 0 }), seed })
    })
  const lastIsModel = chat?.history.at(-1)?.role === 'model' && (chat?.history.length ?? 0) >= 2
  const selfChat = (opening: string, turns: number, partner: string) =>
    act(() => client.call('chat.selfChat', { run, opening: [opening], turns, ...(partner && partner !== run ? { partner } : {}), ...options }))
  return (
    <>
      <PageHeader title={t('chat.title')} intro={t('chat.intro')} />
      <div className="panel">
        <div className="tools">
          <label>
            {t('chat.run')}
            <select value={run} onChange={(event) => setChosenRun(event.target.value)} data-testid="chat-run">
              {dialogueRuns.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <label>
            {t('chat.conversation')}
            <select value={chat?.id ?? ''} onChange={(event) => void act(async () => (event.target.value ? client.call('chat.show', { id: Number(event.target.value) }) : setChat(null)))}>
              <option value="">{t('chat.newConversation')}</option>
              {chats.data?.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.title} ({c.turns})
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => setChat(null)} disabled={busy}>
            {t('chat.new')}
          </button>
          <button type="button" onClick={() => void seedFromCorpus()} disabled={busy || !run}>
            {t('chat.seed')}
          </button>
          <SearchControls value={settings} onChange={setSettings} />
        </div>
        <ol className="chat-history" data-testid="chat-history" aria-live="polite">
          {chat?.history.map((turn) => (
            <li key={turn.index} className={`bubble ${turn.role}`} data-testid={`turn-${turn.role}`}>
              <span className="who">{turn.meta['speaker'] ? t('chat.speaker', { speaker: String(turn.meta['speaker']), run: String(turn.meta['run']) }) : t(`chat.roles.${turn.role}`)}</span>{' '}
              {turn.text || <em className="muted">{t('chat.emptyReply')}</em>}
              {turn.meta['insight'] ? <Insight insight={turn.meta['insight'] as ReplyInsight} /> : null}
            </li>
          ))}
          {!chat?.history.length && <li className="muted">{t('chat.start')}</li>}
        </ol>
        <form onSubmit={send} className="chat-input" aria-label={t('chat.title')}>
          <textarea
            rows={2}
            value={text}
            onChange={(event) => setText(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter' && !event.shiftKey) {
                event.preventDefault()
                send()
              }
            }}
            placeholder={t('chat.placeholder')}
            data-testid="chat-input"
            // Until the runs list arrives there is no run to talk to: typing then used to send to run '' (refused).
            disabled={!run}
          />
          <button type="submit" disabled={busy || !run || !text.trim()}>
            {busy ? t('chat.busy') : t('chat.send')}
          </button>
          <button
            type="button"
            disabled={busy || !lastIsModel}
            onClick={() => void act(() => client.call('chat.resample', { id: chat!.id, ...resampleOptions }))}
            title={deterministic ? t('chat.resampleSamples', { search, temperature }) : undefined}
            data-testid="chat-resample"
          >
            {t('chat.resample')}
          </button>
          {deterministic && lastIsModel && (
            <span className="muted" data-testid="chat-resample-note">
              {t('chat.resampleSamples', { search, temperature })}
            </span>
          )}
          <button
            type="button"
            disabled={busy || !chat}
            onClick={() =>
              void act(async () => {
                const d = await client.call('chat.distinct', { id: chat!.id })
                setDistinct(t('chat.distinct', { replies: d.replies, d1: d.distinct1.inter.toFixed(3), d2: d.distinct2.inter.toFixed(3), length: d.length.toFixed(1) }))
              })
            }
          >
            {t('chat.distinctButton')}
          </button>
          <button type="button" disabled={busy || !chat} onClick={() => void act(async () => download(`chat-${chat!.id}.jsonl`, `data:application/x-ndjson;charset=utf-8,${encodeURIComponent((await client.call('chat.export', { id: chat!.id })).jsonl)}`))}>
            {t('chat.export')}
          </button>
          <button type="button" disabled={busy || !chat} onClick={() => void act(async () => { await client.call('chat.delete', { id: chat!.id }); setChat(null) })}>
            {t('chat.delete')}
          </button>
        </form>
        <SelfChatForm runs={dialogueRuns} run={run} busy={busy} onStart={(opening, turns, partner) => void selfChat(opening, turns, partner)} />
        {distinct && <p data-testid="chat-distinct">{distinct}</p>}
        {error && <p className="error">{error}</p>}
        <p className="muted">{t('chat.shortcut')}</p>
      </div>
    </>
  )
}
