/**
 * What a form module declares: its schema (what a completion must hold), the checks that need
 * the task's choices, how a posted page becomes the completion data, the fields the task page
 * shows, and how its fields are named in sentences and in a completed answer. Workflow-safe.
 */
import type { z } from 'zod';
import type { FieldContext, FieldModel, FormProblem, Values } from './fields.js';
import type { FormKey } from './keys.js';

export interface FormDefinition {
  key: FormKey;
  schema: z.ZodType<Record<string, unknown>>;
  /** Checks that need the task's choices (the options of a choice, an impact scale). */
  check?: (data: Record<string, unknown>, choices: readonly string[]) => FormProblem[];
  /** The completion data a posted page holds, and the values to show back. */
  parse: (body: Values) => { data: Record<string, unknown>; values: Values };
  /** The fields to render, each with its value and the error beside it. */
  fields: (ctx: FieldContext, choices: readonly string[]) => FieldModel[];
  /** How a field is named in a sentence ("The summary" is required). */
  subjects: Record<string, string>;
  /** How a field is labelled in a completed answer. */
  labels: Record<string, string>;
  /** A problem as a sentence, where the generic "<subject> <message>" does not read well. */
  sentence?: (field: string, message: string) => string | undefined;
  /** The element an error-summary entry links to, where it is not `f-<field>`. */
  anchor?: (field: string) => string | undefined;
}
