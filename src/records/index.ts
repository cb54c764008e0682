/** The records store's public surface. */
export type * from './types.js';
export { openRecordsStore, IN_MEMORY, type OpenRecordsStoreOptions } from './store.js';
export { RecordConflictError, RecordValidationError, RecordsStoreClosedError, type FieldProblem } from './errors.js';
export { DirectoryLockedError } from './lockfile.js';
export { MigrationError } from './migrations.js';
export { exportRecords, auditPackStream, verifyAuditPack, type AuditPackHeader, type AuditPackCheck } from './export.js';
export { ChainVerifier, GENESIS_HASH, canonicalJson, contentHashOf, recordHashOf } from './hash.js';
export { MAX_REPORTED_BREAKS } from './verify.js';
export { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, parseNewRecord } from './validation.js';
