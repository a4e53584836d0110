#!/usr/bin/env bash
# Sets up and runs Shoal.
#
#   ./scripts/run.sh
#       Builds the `shoal` client and opens a demo workspace with a sample
#       team and conversations (in ./.shoal-demo, or $SHOAL_HOME).
#
#   SHOAL_MAILBOX_CONFIG=mailbox.toml ./scripts/run.sh
#       Also starts a local relay (data in ./.shoal-relay) with that mailbox
#       connected (see docs/email.md for the file), and a `shoal` agent
#       logged in to it; keeps syncing until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
shoal_setup

if [ -z "${SHOAL_MAILBOX_CONFIG:-}" ]; then
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

To connect a real mailbox through a local relay, see docs/email.md:
  SHOAL_MAILBOX_CONFIG=mailbox.toml ./scripts/run.sh
HINT
    exit 0
fi

# With a mailbox: relay + agent.
CONFIG="$(realpath "$SHOAL_MAILBOX_CONFIG")"
[ -f "$CONFIG" ] || { echo "error: $SHOAL_MAILBOX_CONFIG does not exist" >&2; exit 1; }
log "building shoal and shoal-relay"
cargo build --quiet -p shoal-cli -p shoal-relay
SHOAL="$PWD/target/debug/shoal"
RELAY="$PWD/target/debug/shoal-relay"
export SHOAL_RELAY_DATA="${SHOAL_RELAY_DATA:-$PWD/.shoal-relay}"
export SHOAL_HOME="${SHOAL_HOME:-$PWD/.shoal-agent}"
LISTEN="${SHOAL_RELAY_LISTEN:-127.0.0.1:7300}"
TEAM="$(sed -n 's/^team *= *"\(.*\)".*/\1/p' "$CONFIG" | head -n1)"
ADDRESS="$(sed -n 's/^address *= *"\(.*\)".*/\1/p' "$CONFIG" | head -n1)"
[ -n "$TEAM" ] && [ -n "$ADDRESS" ] || { echo "error: $CONFIG needs team and address (docs/email.md)" >&2; exit 1; }

if [ ! -f "$SHOAL_RELAY_DATA/relay.sqlite3" ]; then
    log "creating a relay in $SHOAL_RELAY_DATA with team $TEAM"
    "$RELAY" init
    "$RELAY" team create "$TEAM"
fi
if ! "$RELAY" mailbox list --json | grep -qi "\"address\": \"$ADDRESS\""; then
    log "connecting $ADDRESS"
    "$RELAY" mailbox add --config "$CONFIG"
fi
if [ ! -f "$SHOAL_HOME/replica.sqlite3" ]; then
    AGENT_NAME="${SHOAL_AGENT_NAME:-$(id -un)}"
    AGENT_EMAIL="${SHOAL_AGENT_EMAIL:-$(id -un)@localhost}"
    log "adding agent $AGENT_NAME <$AGENT_EMAIL>"
    TOKEN="$("$RELAY" agent add --team "$TEAM" --name "$AGENT_NAME" --email "$AGENT_EMAIL" --json \
        | sed -n 's/.*"token": "\(.*\)".*/\1/p')"
fi

log "starting the relay on $LISTEN (log: $SHOAL_RELAY_DATA/relay.log)"
"$RELAY" serve --listen "$LISTEN" >>"$SHOAL_RELAY_DATA/relay.log" 2>&1 &
RELAY_PID=$!
trap 'kill $RELAY_PID 2>/dev/null; wait $RELAY_PID 2>/dev/null' EXIT
for _ in $(seq 50); do
    grep -q "listening on" "$SHOAL_RELAY_DATA/relay.log" 2>/dev/null && break
    kill -0 $RELAY_PID 2>/dev/null || { echo "error: the relay stopped; see $SHOAL_RELAY_DATA/relay.log" >&2; exit 1; }
    sleep 0.2
done
if [ -n "${TOKEN:-}" ]; then
    "$SHOAL" login --relay "ws://$LISTEN" --token "$TOKEN"
fi
"$SHOAL" sync
"$SHOAL" inbox --view all --limit 15
cat <<HINT

The relay reads $ADDRESS; new mail shows up here. In another terminal:
  export SHOAL_HOME=$SHOAL_HOME
  $SHOAL inbox                         # conversations
  $SHOAL reply <id> --body "Hi …"      # sent after a 10 s undo window
Watching for changes (Ctrl-C stops the relay too):
HINT
"$SHOAL" sync --watch
