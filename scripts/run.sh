#!/usr/bin/env bash
# Sets up and runs Shoal: a local relay (embedded SQLite) and the desktop app
# connected to it.
#
#   ./scripts/run.sh
#       The first time, creates a relay with a small demo team ("Demo
#       Support": you, Ana and Ben) and a few customer conversations, then
#       opens the desktop app signed in as you. While the app is open, Ana
#       and Ben keep working (new customer messages, replies, presence), so
#       the inbox is alive. Data lives in ./.shoal-run (or $SHOAL_RUN_DIR).
#
#   SHOAL_MAILBOX_CONFIG=mailbox.toml ./scripts/run.sh
#       Also connects that mailbox to the relay (docs/email.md), so real
#       e-mail flows in and replies go out; no simulated colleagues.
#
#   SHOAL_DEMO_LIFE=off       no simulated colleagues
#   SHOAL_RELAY_LISTEN=ADDR   where the relay listens (127.0.0.1:7300)
#
# Closing the app stops the relay. Without a display, run it under a virtual
# one: xvfb-run -a ./scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
shoal_setup

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    echo "error: no display to open the app on (DISPLAY and WAYLAND_DISPLAY are unset)." >&2
    echo "       Run it in a desktop session, or headless: xvfb-run -a ./scripts/run.sh" >&2
    exit 1
fi

log "building the UI"
npm --prefix ui run --silent build
log "building shoal, shoal-relay and shoal-desktop (the first build takes several minutes)"
cargo build --quiet -p shoal-cli -p shoal-relay -p shoal-desktop

SHOAL="$PWD/target/debug/shoal"
RELAY="$PWD/target/debug/shoal-relay"
DESKTOP="$PWD/target/debug/shoal-desktop"
RUN_DIR="${SHOAL_RUN_DIR:-$PWD/.shoal-run}"
export SHOAL_RELAY_DATA="${SHOAL_RELAY_DATA:-$RUN_DIR/relay}"
DESKTOP_HOME="${SHOAL_HOME:-$RUN_DIR/desktop}"
LISTEN="${SHOAL_RELAY_LISTEN:-127.0.0.1:7300}"
URL="ws://$LISTEN"
mkdir -p "$RUN_DIR"
chmod 700 "$RUN_DIR"

TEAM="Demo Support"
ADDRESS=""
if [ -n "${SHOAL_MAILBOX_CONFIG:-}" ]; then
    CONFIG="$(realpath "$SHOAL_MAILBOX_CONFIG")"
    [ -f "$CONFIG" ] || { echo "error: $SHOAL_MAILBOX_CONFIG does not exist" >&2; exit 1; }
    TEAM="$(sed -n 's/^team *= *"\(.*\)".*/\1/p' "$CONFIG" | head -n1)"
    ADDRESS="$(sed -n 's/^address *= *"\(.*\)".*/\1/p' "$CONFIG" | head -n1)"
    [ -n "$TEAM" ] && [ -n "$ADDRESS" ] || { echo "error: $CONFIG needs team and address (docs/email.md)" >&2; exit 1; }
fi

token_of() { sed -n 's/.*"token": "\(.*\)".*/\1/p'; }

FIRST_RUN=""
if [ ! -f "$SHOAL_RELAY_DATA/relay.sqlite3" ]; then
    FIRST_RUN=1
    log "creating a relay in $SHOAL_RELAY_DATA with the team $TEAM"
    "$RELAY" init
    "$RELAY" team create "$TEAM"
fi
if [ -n "$ADDRESS" ] && ! "$RELAY" mailbox list --json | grep -qi "\"address\": \"$ADDRESS\""; then
    log "connecting $ADDRESS"
    "$RELAY" mailbox add --config "$CONFIG"
fi

JOIN_TOKEN=""
if [ ! -f "$DESKTOP_HOME/replica.sqlite3" ]; then
    NAME="${SHOAL_AGENT_NAME:-$(id -un)}"
    EMAIL="${SHOAL_AGENT_EMAIL:-$(id -un)@localhost}"
    log "adding you to $TEAM as $NAME <$EMAIL>"
    JOIN_TOKEN="$("$RELAY" agent add --team "$TEAM" --name "$NAME" --email "$EMAIL" --role admin --json | token_of)"
fi

log "starting the relay on $LISTEN (log: $SHOAL_RELAY_DATA/relay.log)"
"$RELAY" serve --listen "$LISTEN" >>"$SHOAL_RELAY_DATA/relay.log" 2>&1 &
RELAY_PID=$!
LIFE_PID=""
cleanup() {
    [ -n "$LIFE_PID" ] && kill "$LIFE_PID" 2>/dev/null
    kill "$RELAY_PID" 2>/dev/null
    wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do
    grep -q "listening on" "$SHOAL_RELAY_DATA/relay.log" 2>/dev/null && break
    kill -0 $RELAY_PID 2>/dev/null || { echo "error: the relay stopped; see $SHOAL_RELAY_DATA/relay.log" >&2; exit 1; }
    sleep 0.2
done

# The simulated colleagues are `shoal` CLI agents with their own replicas.
ANA="$RUN_DIR/ana"
BEN="$RUN_DIR/ben"
if [ -z "$ADDRESS" ] && [ -n "$FIRST_RUN" ]; then
    log "seeding the demo team: Ana, Ben and a few customers"
    ANA_TOKEN="$("$RELAY" agent add --team "$TEAM" --name "Ana Lima" --email ana@demo.example --json | token_of)"
    BEN_TOKEN="$("$RELAY" agent add --team "$TEAM" --name "Ben Okafor" --email ben@demo.example --json | token_of)"
    # Simulated colleagues keep their tokens in a 0600 file in their own
    # home (SHOAL_KEYRING=off): they are demo accounts on a local relay.
    SHOAL_KEYRING=off "$SHOAL" login --home "$ANA" --relay "$URL" --token "$ANA_TOKEN" >/dev/null 2>&1
    SHOAL_KEYRING=off "$SHOAL" login --home "$BEN" --relay "$URL" --token "$BEN_TOKEN" >/dev/null 2>&1
    SHOAL_KEYRING=off scripts/demo-life.sh seed "$SHOAL" "$ANA" "$BEN"
fi

if [ -z "$ADDRESS" ] && [ "${SHOAL_DEMO_LIFE:-on}" != "off" ] && [ -f "$ANA/replica.sqlite3" ]; then
    SHOAL_KEYRING=off scripts/demo-life.sh live "$SHOAL" "$ANA" "$BEN" >>"$RUN_DIR/demo-life.log" 2>&1 &
    LIFE_PID=$!
fi

log "opening Shoal (home: $DESKTOP_HOME)"
if [ -n "$JOIN_TOKEN" ]; then
    # Handed over once through the environment; the app moves it into the OS keyring.
    SHOAL_JOIN_RELAY="$URL" SHOAL_JOIN_TOKEN="$JOIN_TOKEN" "$DESKTOP" --home "$DESKTOP_HOME"
else
    "$DESKTOP" --home "$DESKTOP_HOME"
fi
