#!/usr/bin/env bash
# The simulated colleagues of the demo team (scripts/run.sh), driven through
# the `shoal` CLI.
#
#   demo-life.sh seed SHOAL ANA_HOME BEN_HOME   a few customer conversations
#   demo-life.sh live SHOAL ANA_HOME BEN_HOME   keeps the inbox moving until killed
set -euo pipefail
MODE="$1" SHOAL="$2" ANA="$3" BEN="$4"

ana() { "$SHOAL" --home "$ANA" "$@"; }
ben() { "$SHOAL" --home "$BEN" "$@"; }
new_id() { sed -n 's/.*"conversation_id": "\([^"]*\)".*/\1/p' | head -n1; }

# customer email | name | subject | first message | channel | priority
CONVERSATIONS=$(cat <<'DATA'
maria@example.com|Maria Garcia|Charged twice for order 1042|Hi, I see two charges of 49.00 for order 1042 on my card statement. Can you refund one of them?|email|high
kenji@example.jp|Kenji Watanabe|Export to CSV is missing columns|The CSV export has no "due date" column since yesterday's update. We rely on it for our weekly report.|email|normal
lea@example.fr|Léa Martin|How do I add a second admin?|Hello! Our office manager needs admin rights too. Where do I change that?|chat|normal
tom@example.org|Tom Becker|App crashes when I attach a PDF|Every time I attach a PDF larger than 5 MB the app closes. Windows 11, latest version.|email|urgent
priya@example.in|Priya Nair|Invoice address change|Please put our new address on future invoices: 12 Lake Road, Pune 411001.|email|low
sam@example.com|Sam Rivera|Feature request: dark mode for the mobile app|Love the product. Any plans for a dark mode on Android?|email|low
DATA
)

# More customers who write while the app is open.
ARRIVALS=$(cat <<'DATA'
olga@example.de|Olga Schmidt|Password reset mail never arrives|I asked for a reset link three times and nothing came, not even in spam.|email|high
li@example.cn|Li Wei|Question about the annual plan|If we switch to the annual plan in the middle of the month, is the rest of the month credited?|email|normal
ahmed@example.eg|Ahmed Hassan|Shared calendar shows the wrong time zone|Meetings appear one hour late for my colleagues in Cairo.|chat|normal
nora@example.no|Nora Berg|Thank you!|Just wanted to say the new search is fantastic. Keep it up.|email|low
DATA
)

log_new() { # home line
    local home="$1" email name subject body channel priority
    IFS='|' read -r email name subject body channel priority <<<"$2"
    "$SHOAL" --home "$home" new --customer "$email" --customer-name "$name" --subject "$subject" \
        --body "$body" --channel "$channel" --priority "$priority" --json | new_id
}

case "$MODE" in
seed)
    ids=()
    while IFS= read -r line; do
        ids+=("$(log_new "$ANA" "$line")")
    done <<<"$CONVERSATIONS"
    ana assign "${ids[0]}" me >/dev/null
    ana show "${ids[0]}" >/dev/null # reading it first satisfies the send guard
    ana reply "${ids[0]}" --body "Hi Maria, sorry about that! I can see both charges and have started a refund for the second one; it should reach your card within 5 business days." >/dev/null
    ana status "${ids[0]}" pending >/dev/null
    ana note "${ids[1]}" --body "Looks like a regression from 4.2 — @Ben can you check the export code?" >/dev/null
    ana assign "${ids[3]}" ben@demo.example >/dev/null
    ana tag "${ids[5]}" feature-request >/dev/null
    ana status "${ids[5]}" closed >/dev/null
    ana sync >/dev/null
    ben sync >/dev/null
    echo "seeded ${#ids[@]} conversations"
    ;;
live)
    # Bounded: stops after an hour even if nobody kills it.
    n=0
    while [ $n -lt 60 ]; do
        sleep $((40 + RANDOM % 40))
        ana sync >/dev/null 2>&1 || true
        ben sync >/dev/null 2>&1 || true
        case $((n % 3)) in
        0)  line="$(sed -n "$(( (n / 3) % 4 + 1 ))p" <<<"$ARRIVALS")"
            id="$(log_new "$BEN" "$line")"
            echo "$(date +%T) new conversation $id"
            ben sync >/dev/null 2>&1 || true ;;
        1)  id="$(ana inbox --view unassigned --json | sed -n 's/.*"conversation_id": "\([^"]*\)".*/\1/p' | head -n1)"
            if [ -n "$id" ]; then
                echo "$(date +%T) Ana composes in $id"
                ana presence --conversation "$id" --state composing --hold 20 >/dev/null 2>&1 || true
            fi ;;
        2)  id="$(ben inbox --view open --json | sed -n 's/.*"conversation_id": "\([^"]*\)".*/\1/p' | head -n1)"
            if [ -n "$id" ]; then
                echo "$(date +%T) Ben notes on $id"
                ben note "$id" --body "Checked the logs: nothing unusual on our side so far." >/dev/null
                ben sync >/dev/null 2>&1 || true
            fi ;;
        esac
        n=$((n + 1))
    done
    ;;
*)
    echo "usage: $0 seed|live SHOAL ANA_HOME BEN_HOME" >&2
    exit 2
    ;;
esac
