"""The hook itself: the POSIX sh script git runs before each push, rendered for one
store and one interpreter, and how to tell an installed one (its marker line) from
another hook.

The script runs the hook it replaced first (same input, same arguments: its refusal
refuses the push), writes what is being pushed to a spool file and starts `gitflywheel
hook run` detached, after the push, so that the push is neither blocked nor slowed.
That run starts isolated from the work repository: from `/`, without the variables git
sets to point a command at a repository, and with Python's `-E -P`, so that neither the
work tree nor PYTHON* variables decide what it imports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..storage.gitdir import REPO_SPOOL, StorePaths, WorkRepoPaths
from .spool import SPOOL_FORMAT

__all__ = [
    "HOOK_NAME",
    "ORIG_SUFFIX",
    "LEGACY_SUFFIX",
    "render_script",
    "installed_config",
    "hook_manager",
    "GIT_LOCATION_VARIABLES",
]

HOOK_NAME = "pre-push"
ORIG_SUFFIX = ".gitflywheel-orig"
# pre-commit's `install` moves the hook it finds to `pre-push.legacy` and runs it from there.
LEGACY_SUFFIX = ".legacy"
_MARKER = "# gitflywheel-hook: "
# What git sets to point a command at a repository (`git rev-parse --local-env-vars`,
# and the quarantine and namespace of a push): none may reach the detached run.
GIT_LOCATION_VARIABLES = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_OBJECT_DIRECTORY",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_GRAFT_FILE",
    "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_QUARANTINE_PATH",
)


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


_SCRIPT = r"""#!/bin/sh
# gitflywheel: each `git push` of this repository is recorded as a build session.
# Installed by `gitflywheel hook install`; `gitflywheel hook uninstall` removes it and puts
# back the hook it replaced. `GITFLYWHEEL_SKIP=1 git push` skips it. Whatever fails here,
# the push goes on: only the hook it replaced, run first, can refuse it.
{marker}
store={store}
objects={objects}
spool={spool}
python={python}
log={log}
missing={missing}
failed={failed}
set -f
nl='
'
# What git feeds the hook, kept whole in one file (read once, however many refs are
# pushed) for the hook it replaced and for the update lines.
stdin=$(mktemp "${{TMPDIR:-/tmp}}/gitflywheel-pre-push.XXXXXXXXXX" 2>/dev/null) || stdin=''
if [ -n "$stdin" ]; then
  trap 'rm -f "$stdin"' EXIT
  trap 'rm -f "$stdin"; exit 129' HUP
  trap 'rm -f "$stdin"; exit 130' INT
  trap 'rm -f "$stdin"; exit 143' TERM
  if ! cat >"$stdin" 2>/dev/null; then  # nowhere to keep it: record nothing this time
    rm -f "$stdin"
    stdin=''
  fi
fi
gfw_input() {{
  if [ -n "$stdin" ]; then cat "$stdin"; else cat; fi
}}
case $0 in */*) here=${{0%/*}} ;; *) here=. ;; esac
if [ -f "$here/{orig}" ] && [ -x "$here/{orig}" ]; then
  # A shell script runs as if it were still {name}: some (husky) go by their own name.
  first=''
  IFS= read -r first <"$here/{orig}" || :
  case $first in
    '#!'*/sh | '#!'*/sh' '* | '#!'*/bash | '#!'*/bash' '* | '#!'*' sh' | '#!'*' bash')
      run=${{first#??}}
      case $run in */env' '*) run=${{run#*/env }} ;; esac
      gfw_input | $run -c '. "${{0%/*}}/{orig}"' "$here/{name}" "$@" || exit $?
      ;;
    *) gfw_input | "$here/{orig}" "$@" || exit $? ;;
  esac
fi
[ -n "$stdin" ] || exit 0
# git's lines: <local ref> <local sha> <remote ref> <remote sha>. Deletions, tags and
# notes publish no work of their own.
updates=$(awk 'NF == 4 && $2 ~ /[^0]/ && $3 !~ /^refs\/(tags|notes)\// {{
  print "update " $1 " " $2 " " $3 " " $4 }}' "$stdin" 2>/dev/null) || exit 0
rm -f "$stdin"
case ${{GITFLYWHEEL_SKIP:-}} in ''|0|false|no) ;; *) exit 0 ;; esac
[ -n "$updates" ] || exit 0
case "$1$2$PWD" in *"$nl"*) exit 0 ;; esac
if [ "$1" = "$2" ]; then
  where=$(git rev-parse --git-common-dir 2>/dev/null) || exit 0
else
  where=$(git rev-parse --git-common-dir --remotes="$1" 2>/dev/null) || exit 0
fi
gitdir=${{where%%"$nl"*}}
tracking=${{where#"$gitdir"}}
case $gitdir in /*) ;; *) gitdir="$PWD/$gitdir" ;; esac
# The `git push` is the hook's parent; run by pre-commit (as its pre-push.legacy), it is
# pre-commit's parent: the run waits for it, whoever started this.
push=$PPID
case $0 in
  *{legacy})
    up=$(ps -o ppid= -p "$PPID" 2>/dev/null) || up=''
    up=${{up#"${{up%%[! ]*}}"}}
    case $up in '' | *[!0-9]* | 0 | 1) ;; *) push=$up ;; esac
    ;;
esac
body="{format}${{nl}}remote $1${{nl}}url $2${{nl}}cwd $PWD${{nl}}git-dir $gitdir${{nl}}pid $push$nl"
[ -z "$tracking" ] || body="$body$(printf 'tracking %s\n' $tracking)$nl"
body="$body$updates$nl"
gfw_spool() {{
  [ -d "$1" ] || mkdir -p "$1" 2>/dev/null || return 1
  tmp=$(mktemp "$1/.push.XXXXXXXXXX" 2>/dev/null) || return 1
  if printf '%s' "$body" >"$tmp" 2>/dev/null && mv -f "$tmp" "$1/${{tmp##*/.}}" 2>/dev/null; then
    return 0
  fi
  rm -f "$tmp" 2>/dev/null
  return 1
}}
if [ -d "$store" ] && [ -d "$objects" ] && gfw_spool "$spool"; then
  :
else
  log="$gitdir/{repo_log}"
  gfw_spool "$gitdir/{repo_spool}" || exit 0
fi
if [ -f "$python" ] && [ -x "$python" ]; then
  (
    trap '' HUP INT QUIT
    n=0
    while [ "$n" -lt 6000 ] && kill -0 "$push" 2>/dev/null; do
      sleep 0.1 2>/dev/null || sleep 1
      n=$((n + 1))
    done
    cd / || exit 0
    unset {unset}
    "$python" -E -P -m gitflywheel hook run --repo "$store" --git-dir "$gitdir"
    [ $? -ne 1 ] || printf '{{"time": "%s", "level": "error", "event": "hook", "message": %s}}\n' \
      "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$failed" >>"$log"
  ) </dev/null >/dev/null 2>&1 &
else
  printf '{{"time": "%s", "level": "error", "event": "hook", "message": %s}}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$missing" >>"$log" 2>/dev/null
fi
exit 0
"""


def render_script(store: Path, control_dir: Path, python: str) -> str:
    """The hook that records into `store` (its git directory `control_dir`), run by `python`."""
    missing = (
        f"the interpreter {python} that runs gitflywheel is gone, so this push waits in "
        "the spool: run `gitflywheel hook install` again (the next push records it)"
    )
    failed = (
        f"{python} -m gitflywheel failed: is gitflywheel still installed for it? The push "
        "waits in the spool: run `gitflywheel hook run` to see why, `hook install` to mend"
    )
    config = {"format": 1, "store": str(store), "python": python}
    return _SCRIPT.format(
        marker=_MARKER + json.dumps(config, ensure_ascii=False),
        unset=" ".join(GIT_LOCATION_VARIABLES),
        store=_sh_quote(str(store)),
        objects=_sh_quote(str(control_dir / "objects")),
        spool=_sh_quote(str(StorePaths(control_dir).hook_spool)),
        python=_sh_quote(python),
        log=_sh_quote(str(StorePaths(control_dir).hook_log)),
        missing=_sh_quote(json.dumps(missing, ensure_ascii=False)),
        failed=_sh_quote(json.dumps(failed, ensure_ascii=False)),
        orig=HOOK_NAME + ORIG_SUFFIX,
        name=HOOK_NAME,
        legacy=LEGACY_SUFFIX,
        format=SPOOL_FORMAT,
        repo_spool=REPO_SPOOL,
        repo_log=WorkRepoPaths(Path()).log.as_posix(),
    )


def installed_config(hook: Path) -> dict[str, Any] | None:
    """The settings of a gitflywheel hook at `hook`, or None when it is not ours."""
    try:
        with open(hook, encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        return None
    for line in head.splitlines():
        if line.startswith(_MARKER):
            try:
                value = json.loads(line[len(_MARKER) :])
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def hook_manager(hooks_dir: Path) -> str | None:
    """The hook manager whose `pre-push` sits in `hooks_dir`: `pre-commit` (its script
    says so; it runs the hook it replaced as `pre-push.legacy`), `husky` (v9's folder
    `.husky/_`, whose hooks source its `h`, rewritten by each `husky` run; or v8's
    `.husky` with `_/husky.sh`), or None."""
    try:
        with open(hooks_dir / HOOK_NAME, encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        head = ""
    if "pre-commit.com" in head or "File generated by pre-commit" in head:
        return "pre-commit"
    if (hooks_dir.name == "_" and (hooks_dir / "h").is_file()) or (
        hooks_dir / "_" / "husky.sh"
    ).is_file():
        return "husky"
    return None
