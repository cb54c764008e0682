/** Errors the records store throws for caller mistakes; anything else is an infrastructure failure. */

export interface FieldProblem {
  /** Dotted path of the offending field, e.g. `occurredAt` or `clauses.1`. */
  field: string;
  message: string;
}

/** Input that can never be stored as given: retrying will not help. */
export class RecordValidationError extends Error {
  constructor(
    readonly what: string,
    readonly problems: FieldProblem[],
  ) {
    super(`invalid ${what}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
    this.name = 'RecordValidationError';
  }
}

/** A record id that is already in the ledger with different fields. */
export class RecordConflictError extends Error {
  constructor(
    readonly id: string,
    readonly fields: string[],
  ) {
    super(`record ${JSON.stringify(id)} already exists with a different ${fields.join(', ')}`);
    this.name = 'RecordConflictError';
  }
}

/** The store was used after close(). */
export class RecordsStoreClosedError extends Error {
  constructor() {
    super('records store is closed');
    this.name = 'RecordsStoreClosedError';
  }
}
