/**
 * The modules every workflow on a worker shares: zod and the workflow-safe modules under src/
 * (contracts, schemas, forms, rules). Without this, every cached workflow evaluated them again
 * for itself: about 1,500 zod schemas and zod's own classes, some 2.5 MB of heap per workflow.
 *
 * The SDK runs all workflows of a worker in one reusable V8 context. Modules loaded before any
 * workflow exists land in a cache shared by every workflow; every module a workflow loads later
 * is evaluated again for that workflow alone. The bundler's `preloadModules` (workers/worker.ts)
 * names this module, so the SDK evaluates it once, before the first workflow: it loads every
 * shared module the bundle contains (only what workflow code imports is in the bundle).
 *
 * The SDK then deep-freezes everything reachable from the shared modules, so that no workflow
 * can leave state behind for another. zod memoizes on its schemas as they are first used
 * (bound methods, derived internals, members installed on a prototype the first time a schema
 * type is built), which a frozen schema refuses with a TypeError. So this module freezes each
 * shared module's exports object itself first (the SDK's freeze stops at what is frozen
 * already) and freezes what our modules export except zod schemas, the way the SDK would:
 * constants, contracts and functions stay immutable; zod keeps its memoization, which depends
 * on the schema alone, never on a workflow (and regular expressions their `lastIndex`). Shared modules must hold no state of their own
 * (no module-level `let`, caches or clocks); test/workflow-bundle.test.ts checks the bundle.
 */

/** webpack's table of the bundle's modules, by module id (a path in development builds). */
declare const __webpack_modules__: Record<string, unknown>;
/** webpack's require: evaluates a module once, caches it, returns its exports object. */
declare const __webpack_require__: (id: string) => object;

/** A module id of a workflow-safe module under src/ (not in a dependency). */
const OWN_SHARED = /^(?!.*node_modules).*(^|\/)src\//;
/** A module id of zod. */
const ZOD = /(^|\/)node_modules\/zod\//;

/** The ids of the modules shared by every workflow, in the bundle's order. */
export const sharedModuleIds = Object.keys(__webpack_modules__).filter((id) => OWN_SHARED.test(id) || ZOD.test(id));

/**
 * What stays unfrozen: zod schemas, and regular expressions (a frozen one refuses the
 * `lastIndex = 0` zod sets before each test with a TypeError; nothing else of one can change).
 */
function staysUnfrozen(value: object): boolean {
  return '_zod' in value || value instanceof RegExp;
}

/** Freezes `value` and what it reaches through own properties, stopping at zod schemas and regular expressions. */
function freezeExceptSchemas(value: unknown, seen: WeakSet<object>): void {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return;
  if (seen.has(value) || staysUnfrozen(value) || Object.isFrozen(value)) return;
  seen.add(value);
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Reflect.getOwnPropertyDescriptor(value, key);
    if (descriptor && 'value' in descriptor) freezeExceptSchemas(descriptor.value, seen);
    else if (descriptor?.get) freezeExceptSchemas(descriptor.get.call(value), seen);
  }
  Object.freeze(value);
}

const seen = new WeakSet<object>();
for (const id of sharedModuleIds) {
  const exports = __webpack_require__(id);
  if (!ZOD.test(id)) for (const key of Reflect.ownKeys(exports)) freezeExceptSchemas(Reflect.get(exports, key), seen);
  Object.freeze(exports);
}
