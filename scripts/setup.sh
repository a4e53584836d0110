#!/usr/bin/env bash
# Installs what building and testing Shoal needs on Debian 12, when missing.
# Safe to run again: it only installs what is absent. Sourced by run.sh and
# test.sh; can also be run on its own.
set -euo pipefail

# Debian packages the build needs (a C compiler for the bundled SQLite).
SHOAL_APT_PACKAGES=(build-essential pkg-config)
# Real mail servers for the end-to-end tests (tests/src/mail.rs): dovecot for
# IMAP + LMTP and for SMTP over TLS (submission; Debian 12's OpenSMTPD cannot
# do server TLS with OpenSSL 3), OpenSMTPD for plain SMTP, openssl for the
# test certificates. The tests run them as plain processes from
# generated configs; the system services these packages enable are not used.
SHOAL_MAIL_APT_PACKAGES=(dovecot-imapd dovecot-lmtpd dovecot-submissiond opensmtpd openssl)
# The desktop app (Tauri 2 on WebKitGTK) and its end-to-end tests: a virtual
# display (Xvfb), a private session bus with a notification daemon and GNOME
# Keyring (Secret Service), WebKitWebDriver for tauri-driver, secret-tool to
# look into the keyring, xdpyinfo and gdbus to wait for the display and the
# bus, ImageMagick for screenshots, libdbus for the keyring crate. Node.js
# builds the web UI.
SHOAL_DESKTOP_APT_PACKAGES=(libwebkit2gtk-4.1-dev libssl-dev libayatana-appindicator3-dev
    librsvg2-dev libxdo-dev libdbus-1-dev xvfb xauth webkit2gtk-driver dbus-x11 libsecret-1-dev
    libsecret-tools gnome-keyring notification-daemon keyutils imagemagick x11-utils libglib2.0-bin)
MIN_NODE="20.19"
TAURI_DRIVER_VERSION="^2"
CARGO_FUZZ_VERSION="^0.13"
MIN_RUST="1.90"
SHOAL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "error: need root to run: $*" >&2
        echo "       run it as root, or install sudo" >&2
        return 1
    fi
}

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: missing packages (${missing[*]}) and no apt-get to install them; install them by hand" >&2
        return 1
    fi
    log "installing ${missing[*]}"
    # Another apt may hold the lock for a moment (unattended upgrades): retry.
    local i
    for i in 1 2 3 4 5; do
        as_root apt-get -o DPkg::Lock::Timeout=120 update -qq && break
        log "apt-get update failed (try $i), retrying"
        sleep 5
    done
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "${missing[@]}"
}

check_rust() {
    if ! command -v cargo >/dev/null 2>&1; then
        [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "error: Rust $MIN_RUST or newer is needed and cargo was not found." >&2
        echo "       Install it with rustup: curl https://sh.rustup.rs -sSf | sh" >&2
        return 1
    fi
    local have
    have=$(rustc --version | awk '{print $2}')
    if [ "$(printf '%s\n%s\n' "$MIN_RUST" "$have" | sort -V | head -n1)" != "$MIN_RUST" ]; then
        echo "error: Rust $have is too old; Shoal needs $MIN_RUST or newer (rustup update)" >&2
        return 1
    fi
}

# The tests run their own smtpd; OpenSMTPD allows one per machine (fixed
# control socket), so a system service started by the package blocks them.
check_mail_services() {
    if [ -S /run/smtpd.sock ] && pgrep -x smtpd >/dev/null 2>&1 && ! pgrep -f "smtpd -d -f" >/dev/null 2>&1; then
        echo "warning: a system OpenSMTPD is running; the e-mail tests need to run their own." >&2
        echo "         stop it for the tests: systemctl stop opensmtpd (or: smtpctl stop)" >&2
    fi
}

check_node() {
    if ! command -v node >/dev/null 2>&1; then
        apt_install nodejs npm
    fi
    local have
    have=$(node --version | sed 's/^v//')
    if [ "$(printf '%s\n%s\n' "$MIN_NODE" "$have" | sort -V | head -n1)" != "$MIN_NODE" ]; then
        echo "error: Node.js $have is too old; the UI build (Vite 8) needs $MIN_NODE or newer" >&2
        echo "       install a current Node.js (https://nodejs.org, or NodeSource's Debian packages)" >&2
        return 1
    fi
}

# The web UI's packages (exactly the lock file's), when missing or stale.
ui_deps() {
    local ui="$SHOAL_ROOT/ui"
    [ -f "$ui/package-lock.json" ] || return 0
    if [ ! -d "$ui/node_modules" ] || [ "$ui/package-lock.json" -nt "$ui/node_modules/.package-lock.json" ]; then
        log "installing the UI's npm packages (npm ci)"
        (cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

# tauri-driver bridges WebDriver to the desktop app for the end-to-end tests.
tauri_driver() {
    local bin="${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver"
    if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$bin" ]; then
        log "installing tauri-driver (cargo install, about 2 minutes)"
        cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION" --quiet
    fi
}

# The fuzz targets (fuzz/) build with the nightly toolchain and cargo-fuzz.
fuzz_tools() {
    if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
        echo "error: the fuzz smoke run needs the nightly toolchain (rustup toolchain install nightly)" >&2
        return 1
    fi
    local bin="${CARGO_HOME:-$HOME/.cargo}/bin/cargo-fuzz"
    if ! command -v cargo-fuzz >/dev/null 2>&1 && [ ! -x "$bin" ]; then
        log "installing cargo-fuzz (cargo install, about 2 minutes)"
        cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION" --quiet
    fi
}

shoal_setup() {
    apt_install "${SHOAL_APT_PACKAGES[@]}"
    apt_install "${SHOAL_MAIL_APT_PACKAGES[@]}"
    apt_install "${SHOAL_DESKTOP_APT_PACKAGES[@]}"
    check_mail_services
    check_rust
    check_node
    ui_deps
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    shoal_setup
    tauri_driver
    log "setup complete"
fi
