#!/usr/bin/env bash
# Generates the Python modules of the published proto files (messages and gRPC stubs) into a
# folder, with Debian's protoc and grpc_python_plugin (packages protobuf-compiler and
# protobuf-compiler-grpc; deploy/install-deps.sh installs them).
#   examples/python/make-stubs.sh OUT_DIR      then: PYTHONPATH=OUT_DIR /usr/bin/python3 ...
set -euo pipefail
out="${1:?usage: make-stubs.sh OUT_DIR}"
proto="$(cd "$(dirname "$0")/../../proto" && pwd)"
mkdir -p "$out"
cd "$proto"
protoc -I . --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
  market/common/v1/common.proto market/exchange/v1/exchange.proto market/peer/v1/peer.proto
