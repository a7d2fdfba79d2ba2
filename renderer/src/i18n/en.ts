// English UI strings. Japanese mirrors this shape exactly (checked by the type of ja.ts).
export const en = {
  app: { title: 'Kotoba Workbench', skipToContent: 'Skip to content', connection: { connecting: 'Connecting to the engine…', closed: 'Engine disconnected — reconnecting…', noToken: 'This page needs the address printed by “kotoba serve” (it carries the access token).' } },
  nav: { corpora: 'Corpora', tokenizers: 'Tokenizers', embeddings: 'Embeddings', training: 'Training', translate: 'Translate', chat: 'Chat', devices: 'Devices', shortcut: 'Alt+{{key}}' },
  settings: { theme: 'Theme', light: 'Light', dark: 'Dark', system: 'System', language: 'Language' },
  common: { loading: 'Loading…', error: 'Error: {{message}}', cancel: 'Cancel', close: 'Close', previous: 'Previous', next: 'Next', rows: '{{count}} rows', page: 'Rows {{from}}–{{to}} of {{total}}' },
  jobs: { title: 'Jobs', running: 'Running', done: 'Done', cancelled: 'Cancelled', failed: 'Failed: {{error}}', eta: 'ETA {{eta}}', rate: '{{rate}}/s', dismiss: 'Dismiss' },
  corpora: {
    title: 'Corpora',
    intro: 'Parallel text, dialogues and monolingual text that models train on.',
    empty: 'No corpora yet. Import TSV, a Moses pair, TMX, PO/MO, dialogue JSONL or plain text below.',
    columns: { name: 'Name', kind: 'Kind', languages: 'Languages', rows: 'Rows', source: 'Source' },
    kind: { parallel: 'parallel', dialogue: 'dialogue', monolingual: 'monolingual' },
    browse: 'Browse',
    delete: 'Delete',
    confirmDelete: 'Delete corpus “{{name}}” and all its rows?',
    format: { tsv: 'TSV (source⇥target)', moses: 'Moses pair (two files)', tmx: 'TMX', po: 'gettext PO', mo: 'gettext MO', jsonl: 'dialogue JSONL', text: 'text, one sentence per line' },
    import: { title: 'Import a corpus', file: 'File path on the engine’s machine', pairFile: 'Target-side file (Moses pair, optional)', name: 'Name', format: 'Format', auto: 'detect', src: 'Source language', tgt: 'Target language', submit: 'Import' },
    rows: { title: 'Rows of {{name}}', group: 'Group', split: 'Split', search: 'Search', searchHint: 'words or part of a word, in either language', matches: '{{count}} matching rows', src: 'Source', tgt: 'Target', turns: 'Turns' },
  },
  tokenizers: { title: 'Tokenizers', intro: 'SentencePiece models (unigram or BPE) trained from your corpora.', empty: 'No tokenizers yet. A tokenizer is trained from a corpus: the sample corpora in Corpora are ready for it.' },
  embeddings: { title: 'Embeddings', intro: 'Word vectors and model embeddings, projected in 2-D and 3-D.', empty: 'No embeddings yet. They appear here once a word2vec or translation run saves a checkpoint.' },
  training: {
    title: 'Training',
    intro: 'Runs of word2vec, seq2seq, Transformer, HRED and VHRED models with their live curves.',
    empty: 'No runs yet. A run trains a model on a corpus and tokenizer; start with the sample corpus.',
    columns: { name: 'Run', model: 'Model', status: 'Status', step: 'Step', updated: 'Updated' },
  },
  translate: { title: 'Translate', intro: 'Try a trained translation model: n-best lists with scores and attention heatmaps.', empty: 'No translation model yet. Train a seq2seq or Transformer run first (Training).' },
  chat: { title: 'Chat', intro: 'Talk to an HRED or VHRED dialogue model and see what it attends to.', empty: 'No dialogue model yet. Train an HRED or VHRED run on the sample Hamlet dialogues (Training).' },
  devices: {
    title: 'Devices',
    intro: 'Which TensorFlow.js backend trains your models, and why the others were not used.',
    active: 'Active backend',
    none: 'none',
    reason: 'Why',
    tried: 'Backends, best first',
    status: { active: 'active', available: 'available', failed: 'failed', skipped: 'skipped', 'not-tried': 'not tried' },
    memory: 'Tensors in memory: {{tensors}} ({{bytes}})',
    app: 'Version {{version}} · Node {{node}} · {{platform}}',
    database: 'Database: {{path}} (schema v{{schema}})',
    refresh: 'Refresh',
  },
} as const

type Widen<T> = { [K in keyof T]: T[K] extends string ? string : Widen<T[K]> }
export type Catalogue = Widen<typeof en>
