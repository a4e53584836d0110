#!/usr/bin/env bash
# Sets up and runs Shoal. First run: builds the `shoal` client and creates a
# demo workspace with a sample team and conversations, then shows its inbox.
#
#   ./scripts/run.sh                 # demo workspace in ./.shoal-demo
#   SHOAL_HOME=~/my-team ./scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
shoal_setup

log "building shoal"
cargo build --quiet -p shoal-cli
SHOAL="$PWD/target/debug/shoal"
export SHOAL_HOME="${SHOAL_HOME:-$PWD/.shoal-demo}"

if [ ! -f "$SHOAL_HOME/replica.sqlite3" ]; then
    log "creating a demo workspace in $SHOAL_HOME"
    "$SHOAL" init --demo
fi

"$SHOAL" status
echo
"$SHOAL" inbox --view all --limit 15
cat <<HINT

Your workspace is in $SHOAL_HOME. Try:
  export SHOAL_HOME=$SHOAL_HOME
  $SHOAL inbox --view unassigned       # what needs an owner
  $SHOAL show <id>                     # read a conversation (ids: first 4+ characters)
  $SHOAL reply <id> --body "Hi …"      # answer (queued: no relay yet)
  $SHOAL search refund                 # full-text search
  $SHOAL --help                        # everything else
HINT
