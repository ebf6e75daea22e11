import Database from 'better-sqlite3'

/**
 * Opens a SQLite database for data that must survive a crash or power cut once a call returns: WAL
 * with synchronous=FULL, so every committed transaction is on disk before the commit returns.
 */
export function openDurableDatabase(path: string): Database.Database {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  return db
}
