// Preloaded (node --import) into a benchmark child: hides ssh2's optional native crypto binding,
// as on a machine where npm had no compiler to build it, so ssh2 encrypts in JavaScript. ssh2
// loads the binding once, at its first require, so the only switch is a process of its own.
import Module from 'node:module';

const load = Module._load;
Module._load = function loadWithoutSsh2Binding(request, ...rest) {
  if (/[\\/]sshcrypto\.node$/.test(request)) throw Object.assign(new Error(`${request}: hidden by the benchmark`), { code: 'MODULE_NOT_FOUND' });
  return load.call(this, request, ...rest);
};
