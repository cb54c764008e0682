/**
 * Text shown as one line: a title or a name ends up in a mail subject and a page heading, where
 * a line break, a tab or another control character has no place (and the mail layer refuses it,
 * so a task whose title carried one would never be mailed). Workflow-safe.
 */

/** `.regex(...SINGLE_LINE)` on a string schema: no control characters (line breaks included). */
export const SINGLE_LINE = [/^[^\p{Cc}]*$/u, 'must be a single line without control characters'] as const;
