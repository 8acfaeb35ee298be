// Backup and restore: one encrypted, integrity-checked archive of the data directory's state (the
// SQLite file with the store, vault and audit log, plus the audit checkpoint file). Format: format.ts.
export { createBackup, type BackupOptions, type BackupResult } from "./create.ts";
export { restoreBackup, type RestoreOptions, type RestoreResult } from "./restore-archive.ts";
export { startBackupSchedule, type BackupSchedule, type BackupScheduleOptions } from "./schedule.ts";
export { backupNow, DEFAULT_BACKUP_DIR, type BackupDone, type BackupNowOptions } from "./run.ts";
export { archiveName, listArchives, pruneArchives } from "./retention.ts";
export { readArchiveHeader } from "./open-archive.ts";
export { refuseInterruptedRestore, RESTORE_MARKER } from "./interrupted-restore.ts";
export { passphraseKeyFor, passphraseKeyForDatabase } from "./passphrase.ts";
export { ARCHIVE_FILES, CHECKPOINTS_FILE, DB_FILE, FORMAT, FORMAT_VERSION, type Header } from "./format.ts";
export type { RestoredState, PublicKeys } from "./verify-restored.ts";
