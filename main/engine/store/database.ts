// Opens the SQLite store (WAL) and brings its schema up to date.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import type { Database } from 'better-sqlite3'
import { latestSchemaVersion, migrations as defaultMigrations, type Migration } from './migrations.ts'

export type { Database }

export class SchemaTooNewError extends Error {
  constructor(path: string, found: number, supported: number) {
    super(
      `database ${path} is at schema version ${found}, but this version of Kotoba Workbench only knows up to ${supported}; ` +
        'update the app or open another database with --db',
    )
    this.name = 'SchemaTooNewError'
  }
}

export class MigrationError extends Error {
  constructor(migration: Migration, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super(`migration ${migration.version} (${migration.name}) failed and was rolled back: ${reason}`)
    this.name = 'MigrationError'
  }
}

export interface OpenOptions {
  /** For tests: the migration list to apply (defaults to the app's own). */
  migrations?: readonly Migration[]
  readonly?: boolean
}

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number
}

/** Applies every migration above the current `user_version`, each in its own transaction. */
export function migrate(db: Database, list: readonly Migration[] = defaultMigrations): number {
  const sorted = [...list].sort((a, b) => a.version - b.version)
  const supported = sorted.at(-1)?.version ?? 0
  const current = schemaVersion(db)
  if (current > supported) throw new SchemaTooNewError(db.name, current, supported)
  for (const migration of sorted) {
    if (migration.version <= schemaVersion(db)) continue
    const apply = db.transaction(() => {
      migration.up(db)
      // PRAGMA user_version is transactional in SQLite: it rolls back with the schema changes.
      db.pragma(`user_version = ${migration.version}`)
    })
    try {
      apply.immediate()
    } catch (error) {
      throw new MigrationError(migration, error)
    }
  }
  return schemaVersion(db)
}

export function openDatabase(path: string, options: OpenOptions = {}): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new BetterSqlite3(path, { readonly: options.readonly ?? false })
  try {
    db.pragma('busy_timeout = 10000')
    if (!options.readonly) {
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
    }
    db.pragma('foreign_keys = ON')
    // A size cap (pages of 4 KiB): a quota for a shared disk, and how tests make a full disk without mounting one.
    const maxPages = Number(process.env.KOTOBA_MAX_DB_PAGES)
    if (Number.isInteger(maxPages) && maxPages > 0) db.pragma(`max_page_count = ${maxPages}`)
    if (!options.readonly) migrate(db, options.migrations)
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

export { latestSchemaVersion }
