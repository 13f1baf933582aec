#!/usr/bin/env bash
# The seed corpus: the bundled agent's saved_model.pb and variables.index, each
# behind the byte that selects it in fuzz_targets/savedmodel.rs.
set -euo pipefail
cd "$(dirname "$0")"
agent=../python/spinfast/example_agent/simple_save
mkdir -p corpus/savedmodel
{ printf '\x00'; cat "$agent/saved_model.pb"; } > corpus/savedmodel/graph
{ printf '\x01'; cat "$agent/variables/variables.index"; } > corpus/savedmodel/index
