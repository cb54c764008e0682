/**
 * The failure converter of every client, worker and workflow bundle of the project (see
 * codec.ts): the default one with `encodeCommonAttributes`, which moves a failure's message and
 * stack trace into an encoded payload, so the payload codec encrypts them like any other payload.
 *
 * CommonJS on purpose: the Temporal SDK loads it with `require(failureConverterPath)` in every
 * process (under tsx, vitest or plain node), and webpack bundles it into the workflow code.
 */
'use strict';
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
