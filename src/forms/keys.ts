/** The forms a human task can ask for, by key. Workflow-safe. */
import { z } from 'zod';

export const formKeys = ['text', 'evidence', 'yes-no', 'date', 'choice', 'root-cause', 'action-plan', 'triage', 'impact-scoping', 'impact-assessment', 'audit-findings', 'risk-identification', 'risk-analysis', 'risk-treatment', 'system-change', 'measurement', 'acknowledgement'] as const;
export type FormKey = (typeof formKeys)[number];
export const formKeySchema = z.enum(formKeys);

export const note = z.string().trim().max(5000).optional();
export const required = (max: number) => z.string().trim().min(1, 'is required').max(max);
export const personId = z.string().trim().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a person id such as sofia.lind');
