# Sourced by scripts/llm-vcr and scripts/test: find Python >= 3.12 and make the project venv.
# shellcheck shell=bash

LLM_VCR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LLM_VCR_VENV="${LLM_VCR_VENV:-$LLM_VCR_ROOT/.venv}"

_vcr_log() { printf '[llm-vcr] %s\n' "$*" >&2; }

_vcr_python_ok() {
  # Also weeds out pyenv shims, which exit non-zero unless their version is selected.
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

# Print the first Python >= 3.12 found: $LLM_VCR_PYTHON, then python3.13/3.12/python3 on PATH,
# then pyenv's versions by path (its shims refuse to run unselected versions).
vcr_find_python() {
  local c candidates=()
  [[ -n "${LLM_VCR_PYTHON:-}" ]] && candidates+=("$LLM_VCR_PYTHON")
  for c in python3.14 python3.13 python3.12 python3; do
    command -v "$c" >/dev/null 2>&1 && candidates+=("$(command -v "$c")")
  done
  local pyroot
  pyroot="$( (command -v pyenv >/dev/null && pyenv root) 2>/dev/null || echo "$HOME/.pyenv")"
  for c in $(ls -d "$pyroot"/versions/3.1[2-9]* 2>/dev/null | sort -rV); do
    candidates+=("$c/bin/python3")
  done
  for c in "${candidates[@]}"; do
    if _vcr_python_ok "$c"; then echo "$c"; return 0; fi
  done
  return 1
}

# Create or refresh the venv with the given requirements file; idempotent and quick when current.
vcr_ensure_venv() {
  local req="$1"
  local stamp="$LLM_VCR_VENV/.llm-vcr-$(basename "$req").sha"
  local want
  want="$(sha256sum "$req" | cut -c1-64)"
  if [[ -x "$LLM_VCR_VENV/bin/python" ]] && _vcr_python_ok "$LLM_VCR_VENV/bin/python" \
     && [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  if [[ ! -x "$LLM_VCR_VENV/bin/python" ]] || ! _vcr_python_ok "$LLM_VCR_VENV/bin/python"; then
    local py
    if ! py="$(vcr_find_python)"; then
      _vcr_log "ERROR: llm-vcr needs Python >= 3.12 (mitmproxy 12 requires it) and none was found."
      _vcr_log "Looked for \$LLM_VCR_PYTHON, python3.13, python3.12, python3 and pyenv versions."
      _vcr_log "Install one (e.g. 'pyenv install 3.12') or point LLM_VCR_PYTHON at it."
      return 1
    fi
    _vcr_log "creating $LLM_VCR_VENV with $py ($("$py" -V 2>&1))"
    rm -rf "$LLM_VCR_VENV"
    "$py" -m venv "$LLM_VCR_VENV"
  fi
  _vcr_log "installing $(basename "$req") into $LLM_VCR_VENV"
  # (grep: some machines' pip config names missing local indexes; that warning is noise)
  "$LLM_VCR_VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req" 2>&1 \
    | { grep -v "^WARNING: Location 'file:" || true; } >&2
  [[ "${PIPESTATUS[0]}" == 0 ]] || { _vcr_log "ERROR: installing $(basename "$req") failed"; return 1; }
  # The llm-vcr command itself (.venv/bin/llm-vcr), editable so it runs this checkout.
  "$LLM_VCR_VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e "$LLM_VCR_ROOT" 2>&1 \
    | { grep -v "^WARNING: Location 'file:" || true; } >&2
  echo "$want" >"$stamp"
}
