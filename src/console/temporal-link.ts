/**
 * Links from the console to the Temporal UI (operations), and the way back: the static
 * details a workflow carries, a markdown link to its console page.
 */
import type { Config } from '../config.js';

/** The Temporal UI page of a workflow, or undefined when no UI is configured. */
export function temporalWorkflowUrl(config: Pick<Config, 'TEMPORAL_UI_URL' | 'TEMPORAL_NAMESPACE'>, workflowId: string, runId?: string): string | undefined {
  if (!config.TEMPORAL_UI_URL) return undefined;
  const base = config.TEMPORAL_UI_URL.replace(/\/+$/, '');
  const path = `/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
  return `${base}${path}${runId ? `/${encodeURIComponent(runId)}` : ''}`;
}
