// Versioned schema migrations. Each runs inside one transaction together with the
// `user_version` bump, so a database is either fully at version N or still at N-1.
import type { Database } from 'better-sqlite3'

export interface Migration {
  version: number
  name: string
  up: (db: Database) => void
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    up: (db) => {
      db.exec(`
        CREATE TABLE settings (
          key   TEXT PRIMARY KEY,
          value TEXT NOT NULL
        );

        CREATE TABLE corpora (
          id         INTEGER PRIMARY KEY,
          name       TEXT NOT NULL UNIQUE,
          kind       TEXT NOT NULL CHECK (kind IN ('parallel', 'dialogue', 'monolingual')),
          src_lang   TEXT,
          tgt_lang   TEXT,
          source     TEXT NOT NULL,            -- where it came from: file names or "sample"
          meta       TEXT NOT NULL DEFAULT '{}', -- JSON: cleaning report, split settings, ...
          created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );

        -- One row per sentence pair, sentence or dialogue (turns as a JSON array).
        CREATE TABLE corpus_rows (
          corpus_id INTEGER NOT NULL REFERENCES corpora(id) ON DELETE CASCADE,
          idx       INTEGER NOT NULL,
          src       TEXT,
          tgt       TEXT,
          turns     TEXT,
          grp       TEXT,                      -- grouping key for leak-free splits (book, file)
          split     TEXT CHECK (split IN ('train', 'dev', 'test')),
          PRIMARY KEY (corpus_id, idx)
        ) WITHOUT ROWID;

        CREATE TABLE tokenizers (
          id         INTEGER PRIMARY KEY,
          name       TEXT NOT NULL UNIQUE,
          type       TEXT NOT NULL CHECK (type IN ('unigram', 'bpe', 'word', 'char')),
          side       TEXT NOT NULL CHECK (side IN ('src', 'tgt', 'joint')),
          vocab_size INTEGER NOT NULL,
          corpus_id  INTEGER REFERENCES corpora(id) ON DELETE SET NULL,
          model      BLOB NOT NULL,            -- serialized SentencePiece ModelProto
          meta       TEXT NOT NULL DEFAULT '{}',
          created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );

        CREATE TABLE runs (
          id           INTEGER PRIMARY KEY,
          name         TEXT NOT NULL UNIQUE,
          model        TEXT NOT NULL CHECK (model IN ('word2vec', 'seq2seq', 'transformer', 'hred', 'vhred')),
          corpus_id    INTEGER REFERENCES corpora(id) ON DELETE SET NULL,
          tokenizer_id INTEGER REFERENCES tokenizers(id) ON DELETE SET NULL,
          config       TEXT NOT NULL,           -- JSON: model + training config
          status       TEXT NOT NULL DEFAULT 'created'
                       CHECK (status IN ('created', 'running', 'paused', 'stopped', 'done', 'failed')),
          step         INTEGER NOT NULL DEFAULT 0,
          error        TEXT,
          created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );

        CREATE TABLE metrics (
          run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          name      TEXT NOT NULL,              -- 'train/loss', 'dev/bleu', ...
          step      INTEGER NOT NULL,
          value     REAL NOT NULL,
          wall_time REAL NOT NULL,              -- seconds since the epoch
          meta      TEXT,                       -- e.g. a sacreBLEU signature
          PRIMARY KEY (run_id, name, step)
        ) WITHOUT ROWID;

        CREATE TABLE checkpoints (
          id         INTEGER PRIMARY KEY,
          run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          step       INTEGER NOT NULL,
          weights    BLOB NOT NULL,             -- named float32 tensors
          optimizer  BLOB,                      -- optimizer slots, for exact resume
          meta       TEXT NOT NULL DEFAULT '{}', -- JSON: metrics at this step, rng state, ...
          is_best    INTEGER NOT NULL DEFAULT 0,
          created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          UNIQUE (run_id, step)
        );

        CREATE TABLE attention_maps (
          id            INTEGER PRIMARY KEY,
          run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          checkpoint_id INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
          step          INTEGER NOT NULL,
          probe_idx     INTEGER NOT NULL,        -- which probe sentence
          attn_type     TEXT NOT NULL CHECK (attn_type IN ('cross', 'encoder-self', 'decoder-self')),
          layer         INTEGER NOT NULL DEFAULT 0,
          head          INTEGER NOT NULL DEFAULT 0,
          rows          INTEGER NOT NULL,        -- target positions
          cols          INTEGER NOT NULL,        -- source positions
          data          BLOB NOT NULL,           -- float32 little-endian, rows * cols
          src_tokens    TEXT NOT NULL,           -- JSON array
          tgt_tokens    TEXT NOT NULL,           -- JSON array
          CHECK (length(data) = rows * cols * 4)
        );
        CREATE INDEX attention_maps_by_probe ON attention_maps(run_id, probe_idx, step);

        CREATE TABLE embeddings (
          id            INTEGER PRIMARY KEY,
          run_id        INTEGER REFERENCES runs(id) ON DELETE CASCADE,
          checkpoint_id INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
          name          TEXT NOT NULL,            -- 'word2vec', 'source', 'target', ...
          step          INTEGER NOT NULL DEFAULT 0,
          count         INTEGER NOT NULL,
          dim           INTEGER NOT NULL,
          words         TEXT NOT NULL,            -- JSON array, one per row
          vectors       BLOB NOT NULL,            -- float32 little-endian, count * dim
          meta          TEXT NOT NULL DEFAULT '{}',
          CHECK (length(vectors) = count * dim * 4)
        );
        CREATE INDEX embeddings_by_run ON embeddings(run_id, name, step);

        CREATE TABLE chats (
          id         INTEGER PRIMARY KEY,
          run_id     INTEGER REFERENCES runs(id) ON DELETE SET NULL,
          title      TEXT NOT NULL,
          created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );

        CREATE TABLE chat_turns (
          chat_id    INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
          idx        INTEGER NOT NULL,
          role       TEXT NOT NULL CHECK (role IN ('user', 'model')),
          text       TEXT NOT NULL,
          meta       TEXT NOT NULL DEFAULT '{}', -- decoding settings, log-probs, latent sample
          created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          PRIMARY KEY (chat_id, idx)
        ) WITHOUT ROWID;
      `)
    },
  },
  {
    version: 2,
    name: 'full-text search over corpus rows',
    up: (db) => {
      // Trigram tokens give substring search in every script (Japanese has no spaces to split on).
      db.exec(`
        CREATE VIRTUAL TABLE corpus_fts USING fts5(
          src, tgt, turns,
          corpus_id UNINDEXED, idx UNINDEXED,
          tokenize = 'trigram'
        );
        INSERT INTO corpus_fts (src, tgt, turns, corpus_id, idx) SELECT src, tgt, turns, corpus_id, idx FROM corpus_rows;
      `)
    },
  },
  {
    version: 3,
    name: 'validation samples and training process of runs',
    up: (db) => {
      db.exec(`
        -- The dev sentences decoded at each validation (the fixed probes and a few more), for the dashboard.
        CREATE TABLE validation_samples (
          run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          step       INTEGER NOT NULL,
          idx        INTEGER NOT NULL,
          source     TEXT NOT NULL,
          reference  TEXT NOT NULL,
          hypothesis TEXT NOT NULL,
          PRIMARY KEY (run_id, step, idx)
        ) WITHOUT ROWID;
        -- The process training a run, so another engine on the same database can tell a live run from a dead one.
        ALTER TABLE runs ADD COLUMN pid INTEGER;
        -- A pause or stop request from any process (the CLI may control a run another process trains).
        ALTER TABLE runs ADD COLUMN control TEXT CHECK (control IN ('pause', 'stop'));
      `)
    },
  },
  {
    version: 4,
    name: 'corpora imported in chunks',
    up: (db) => {
      db.exec(`
        -- An import commits its rows in short chunks under 'importing' (no query sees such a corpus) and flips to
        -- 'ready' at the end, so no other writer waits for a whole import. import_pid tells a live import from one
        -- that a crash left behind (removed at the next start).
        ALTER TABLE corpora ADD COLUMN state TEXT NOT NULL DEFAULT 'ready' CHECK (state IN ('importing', 'ready'));
        ALTER TABLE corpora ADD COLUMN import_pid INTEGER;
      `)
    },
  },
  {
    version: 5,
    name: 'attention over the reference at each validation',
    up: (db) => {
      db.exec(`
        -- Besides the maps of the model's own hypothesis, each validation stores the probes' maps with the dev
        -- reference teacher-forced: the same output at every step, so any two steps (or runs) can be subtracted.
        ALTER TABLE attention_maps ADD COLUMN output TEXT NOT NULL DEFAULT 'hypothesis' CHECK (output IN ('hypothesis', 'reference'));
      `)
    },
  },
  {
    version: 6,
    name: 'training speed per device',
    up: (db) => {
      db.exec(`
        -- What each run measured on each device it trained on (a run resumed elsewhere has a row per device): the
        -- tokens per second of its latest log window. The Devices panel shows the last run on the device in use.
        CREATE TABLE run_devices (
          run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          backend      TEXT NOT NULL,
          device       TEXT NOT NULL,
          tokens_per_s REAL NOT NULL,
          step         INTEGER NOT NULL,
          updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          PRIMARY KEY (run_id, backend, device)
        );
        CREATE INDEX run_devices_by_device ON run_devices (backend, device, updated_at);
      `)
    },
  },
]

export const latestSchemaVersion = migrations.reduce((max, m) => Math.max(max, m.version), 0)
