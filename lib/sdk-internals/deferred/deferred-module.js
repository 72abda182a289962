// A module that loads on first use: an object whose every property read loads the real module
// (once) and reads it there. For the SDK's closure serialization dependencies, which its modules
// load at import but use only when a function is serialized (tools/pack-resolution.js).
"use strict";

/**
 * @param {() => object} load loads the real module
 * @param {boolean} esModule answer `__esModule` without loading (for `__importStar(require(...))`,
 *   which would otherwise copy every export at once)
 */
function deferredModule(load, esModule) {
  let real;
  const module = () => (real ??= load());
  return new Proxy(
    {},
    {
      get: (_target, key) => (esModule && key === "__esModule" ? true : module()[key]),
      has: (_target, key) => key in module(),
      ownKeys: () => Reflect.ownKeys(module()),
      getOwnPropertyDescriptor: (_target, key) => {
        const descriptor = Object.getOwnPropertyDescriptor(module(), key);
        // A proxy may only report configurable properties its (empty) target does not have.
        return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
      },
    },
  );
}

module.exports = { deferredModule };
