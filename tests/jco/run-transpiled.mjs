// Runs a component transpiled by `jco transpile` under Node.js with chosen preopens and no env,
// like `wasmtime run --dir HOST::GUEST` (jco 1.35's `jco run` preopens nothing).
//
// usage: node run-transpiled.mjs MODULE.js HOST::GUEST... [--invoke FUNCTION ARG]
//   without --invoke: calls the `wasi:cli/run` export (the guest prints `info` JSON)
//   --invoke label KEY | annotation KEY | field PATH: pod-introspect's function, result as JSON
//   --invoke store.get KEY | store.get-all: wasi:config/store's function, result as JSON
//   --invoke pod-changes.next INTERVAL_MS TIMEOUT_MS: a `pod-changes` resource; `ready` on stderr
//     once it holds the current view, then its `next` change's JSON line (null on timeout)
import { _setPreopens } from "@bytecodealliance/preview2-shim/filesystem";
import { _setArgs, _setEnv } from "@bytecodealliance/preview2-shim/cli";
import { pathToFileURL } from "node:url";

const [module, ...rest] = process.argv.slice(2);
const at = rest.indexOf("--invoke");
const maps = at < 0 ? rest : rest.slice(0, at);
const [fn, arg, arg2] = at < 0 ? [] : rest.slice(at + 1);

const preopens = {};
for (const m of maps) {
  const sep = m.indexOf("::");
  if (sep < 1) throw new Error(`preopen ${JSON.stringify(m)}: expected HOST::GUEST`);
  preopens[m.slice(sep + 2)] = m.slice(0, sep);
}
_setPreopens(preopens);
_setEnv({});
_setArgs(["guest.wasm"]);

const component = await import(pathToFileURL(module));
const calls = {
  label: () => component.podIntrospect.label(arg),
  annotation: () => component.podIntrospect.annotation(arg),
  field: () => component.podIntrospect.field(arg),
  "store.get": () => component.store.get(arg),
  "store.get-all": () => component.store.getAll(),
  "pod-changes.next": () => {
    const changes = new component.podIntrospect.PodChanges(Number(arg));
    console.error("ready");
    return changes.next(Number(arg2))?.json ?? null;
  },
};
if (fn === undefined) {
  component.run.run();
} else if (calls[fn]) {
  console.log(JSON.stringify(calls[fn]()));
} else {
  throw new Error(`--invoke ${fn}: expected one of ${Object.keys(calls).join(", ")}`);
}
