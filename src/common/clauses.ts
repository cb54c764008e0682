/**
 * How clauses of ISO/IEC 42001 and its Annex A controls are written, once for every schema: a
 * clause `4` to `10` with up to three more levels (`9.2`, `6.1.4`), a control `A.<n>` with one to
 * three more (`A.5.4`, `A.6.2.8`), each level one or two digits. Every reference these accept is
 * one the ledger accepts (`CLAUSE_PATTERN` in src/records/validation.ts), so work is never
 * started with clauses its records would be refused for. Workflow-safe.
 */

export const CLAUSE_NUMBER = /^(4|5|6|7|8|9|10)(\.\d{1,2}){0,3}$/;

export const ANNEX_A_CONTROL = /^A\.\d{1,2}(\.\d{1,2}){1,3}$/;

export const CLAUSE_OR_CONTROL = /^((4|5|6|7|8|9|10)(\.\d{1,2}){0,3}|A\.\d{1,2}(\.\d{1,2}){1,3})$/;
