#!/usr/bin/env bash
# Lay the repository out as dialogkarta/{geo,layers,webmap,data} in a staging folder ($1), the shape
# mutmut can copy and import (it imports the package from its copy, not from an installed one), with
# the tests, README and source folders beside it for the tests that read files, and the mutmut
# settings from $2 appended to the pytest settings.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"; stage="$1"; settings="$2"
rm -rf "$stage"; mkdir -p "$stage"
cp -r "$src/dialogkarta" "$stage/dialogkarta"
for area in geo layers webmap data; do
  cp -r "$src/$area" "$stage/dialogkarta/$area"
  cp -r "$src/$area" "$stage/$area"
done
cp -r "$src/tests" "$src/README.md" "$stage/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
# Staged copy only: scrypt with 1/32 of werkzeug's work factor (the same algorithm and code path), so that a
# mutant reached by the login tests is checked in seconds rather than minutes on a shared 2-core machine.
cat >> "$stage/tests/conftest.py" <<'PY'


@pytest.fixture(autouse=True)
def _cheaper_scrypt_for_mutation_runs(monkeypatch):
    from dialogkarta.layers import accounts

    monkeypatch.setattr(accounts, "PASSWORD_METHOD", "scrypt:1024:8:1")
    monkeypatch.setattr(accounts, "_DUMMY_HASH", accounts.generate_password_hash("not-a-real-password", "scrypt:1024:8:1"))
PY
{ sed -n '/^\[tool.pytest.ini_options\]/,/^\[/p' "$src/pyproject.toml" | sed '$d'; echo; cat "$settings"; } > "$stage/pyproject.toml"
