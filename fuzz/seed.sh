#!/usr/bin/env bash
# Seeds the `lint_text` corpus with the ui-test cases and the example service: real
# code full of what the lints look for, for libFuzzer to mutate. `lint_generated`
# starts from nothing (its inputs are grammar choices, not text).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/lint_text corpus/lint_generated
find ../ui-tests ../examples -name '*.rs' | sort | while read -r f; do
    cp "$f" "corpus/lint_text/$(echo "${f#../}" | tr / _)"
done
echo "corpus/lint_text: $(ls corpus/lint_text | wc -l) files"
