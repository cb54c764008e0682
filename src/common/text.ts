/**
 * Text shown as one line: a title or a name ends up in a mail subject and a page heading, where
 * a line break, a tab or another control character has no place (and the mail layer refuses it,
 * so a task whose title carried one would never be mailed). Workflow-safe.
 */

/**
 * `.regex(...SINGLE_LINE)` on a string schema: no control characters (Unicode's Cc, line breaks
 * included), spelt as ranges so that the OpenAPI document's pattern is one every regex engine reads.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
export const SINGLE_LINE = [/^[^\x00-\x1F\x7F-\x9F]*$/, 'must be a single line without control characters'] as const;
