/**
 * How long one e-mail may take, shared by the SMTP transport and the mail activity's timeouts.
 * Workflow-safe.
 *
 * SMTP servers answer a connect, a greeting and each command within seconds; a send that has
 * not finished in tens of seconds is stuck, and failing it lets Temporal retry it (on another
 * worker, if this one died). The activity's start-to-close sits just above one send, so a
 * worker that dies in the middle of a send holds that mail back by under a minute.
 */

/** Overall deadline for one message at the transport, queueing for a pooled connection included. */
export const MAIL_SEND_TIMEOUT_MS = 30_000;

/** Start-to-close of a mail activity: one send plus the sent-log look-up and write around it. */
export const MAIL_ACTIVITY_START_TO_CLOSE_MS = MAIL_SEND_TIMEOUT_MS + 15_000;

/** Longest pause between two attempts of a failed mail activity: mail trails a recovered server by at most about this. */
export const MAIL_RETRY_MAX_INTERVAL_MS = 60_000;
