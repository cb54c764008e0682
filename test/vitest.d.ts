/** Values test/global-setup.ts hands to every test file through `inject()`. */
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the Temporal dev server started for this test run. */
    temporalAddress: string;
    /** Namespace on that server, with the project's search attributes registered. */
    temporalNamespace: string;
    /** A workflow bundle built once for the run (test/helpers/temporal.ts bundles itself when absent). */
    workflowBundlePath?: string;
  }
}
