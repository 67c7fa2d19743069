#!/bin/sh
# Builds the project's N-API addon (native/) into native/build/Release/syscalls.node with the node-gyp
# npm ships. Configured once; later runs are make's (a tenth of a second when nothing changed).
set -eu
cd "$(dirname "$0")/../native"

# npm names its own node-gyp to the scripts it runs; outside npm, find npm's copy beside npm itself.
gyp=${npm_config_node_gyp:-}
if [ -z "$gyp" ]; then
  npm_dir=$(dirname "$(readlink -f "$(command -v npm)")")/..
  gyp=$npm_dir/node_modules/node-gyp/bin/node-gyp.js
fi

# Headers of the running node when its package ships them (Debian's and NodeSource's do, in
# PREFIX/include/node): node-gyp would otherwise download them.
prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
nodedir=
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$prefix/include/node/node_api.h" ]; then nodedir=--nodedir=$prefix; fi

if [ ! -f build/Makefile ] || [ binding.gyp -nt build/Makefile ]; then
  node "$gyp" configure --loglevel=warn $nodedir
fi
# make reports each directory it enters on stdout; the compiler's errors go to stderr.
node "$gyp" build --loglevel=warn >/dev/null
