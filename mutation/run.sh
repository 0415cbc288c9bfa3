#!/usr/bin/env bash
# Mutation testing of one area with mutmut: bash mutation/run.sh AREA  (AREA: geo, rules, auth, workflow).
# Stages a copy of the repository in the layout mutmut imports (dialogkarta/...), runs every mutant
# against the tests that cover it, and prints the counts; `mutmut results` in the staging folder
# lists the survivors, `mutmut show NAME` one diff. Needs the project's test dependencies and mutmut
# in the current Python, with dialogkarta itself NOT installed there (mutmut imports its own copy).
set -euo pipefail
area="${1:?usage: bash mutation/run.sh geo|rules|auth|workflow}"
here="$(cd "$(dirname "$0")" && pwd)"
stage="${MUTATION_STAGE:-${TMPDIR:-/tmp}/dialogkarta-mutation-$area}"
bash "$here/stage.sh" "$stage" "$here/$area.toml"
cd "$stage"
# MUTATION_PATHS="dialogkarta/geo/crs.py dialogkarta/geo/io.py" narrows a run to some of the area's files.
if [ -n "${MUTATION_PATHS:-}" ]; then
  paths="$(printf '"%s", ' $MUTATION_PATHS)"
  sed -i "s|^source_paths = .*|source_paths = [${paths%, }]|" pyproject.toml
fi
# MUTATION_TESTS="tests/test_privacy.py tests/test_spam.py" runs only those test files (a far cheaper stats pass on a
# busy machine); a mutant only other files would kill then counts as surviving, so scores can only come out lower.
if [ -n "${MUTATION_TESTS:-}" ]; then
  tests="$(printf '"%s", ' $MUTATION_TESTS)"
  sed -i "s|^pytest_add_cli_args_test_selection = .*|pytest_add_cli_args_test_selection = [${tests%, }]|; /^ *\"--ignore=/d" pyproject.toml
fi
python -m mutmut run --max-children "${MUTATION_CHILDREN:-2}" >mutmut-run.log 2>&1 || tail -c 3000 mutmut-run.log
python -m mutmut results --all true | sed 's/.*: //' | sort | uniq -c
echo "staging folder: $stage"
