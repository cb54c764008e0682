/**
 * Where a calendar item links to: its console page, or its workflow in the Temporal UI, or else
 * the console's calendar.
 */
import type { Config } from '../config.js';
import type { CalendarItem } from './items.js';

export const CONSOLE_READ_TIMEOUT_MS = (config: Config): number => config.CONSOLE_LIST_TIMEOUT_MS;

/** The Temporal UI page of a workflow. */
export function workflowUiUrl(config: Config, workflowId: string): string | undefined {
  if (!config.TEMPORAL_UI_URL) return undefined;
  return `${config.TEMPORAL_UI_URL.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** An item's link, absolute (for the feed). */
export function calendarItemUrl(config: Config, item: CalendarItem): string {
  const base = config.PUBLIC_BASE_URL.replace(/\/+$/, '');
  if ('console' in item.target) return `${base}${item.target.console}`;
  return workflowUiUrl(config, item.target.workflowId) ?? `${base}/console/calendar?month=${item.start.slice(0, 7)}`;
}
