/**
 * Where a calendar item links to from the feed: its console page, or its workflow in the
 * Temporal UI, or else the console calendar's month.
 */
import type { Config } from '../config.js';
import { temporalWorkflowUrl } from '../console/temporal-link.js';
import type { CalendarItem } from './items.js';

/** An item's link, absolute (for calendar applications). */
export function calendarItemUrl(config: Config, item: CalendarItem): string {
  const base = config.PUBLIC_BASE_URL.replace(/\/+$/, '');
  if ('console' in item.target) return `${base}${item.target.console}`;
  return ('workflowId' in item.target ? temporalWorkflowUrl(config, item.target.workflowId) : undefined) ?? `${base}/console/calendar?month=${item.start.slice(0, 7)}`;
}
