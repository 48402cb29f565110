#!/bin/sh
# Install the Debian packages the test suite needs, only if they are missing. Idempotent; run as root.
#
# The end-to-end tests start their own Dovecot on free loopback ports with a generated config,
# so the packaged system daemon is not wanted: it is kept from starting during installation
# and stopped/disabled afterwards, so it neither holds port 143/993 nor fails noisily.
set -eu

if [ "$(id -u)" -ne 0 ]; then
    echo "install-system-deps: must run as root" >&2
    exit 1
fi

missing=""
need_pkg() {  # need_pkg PACKAGE [COMMAND]: queue PACKAGE unless COMMAND exists or it is installed
    if [ -n "${2:-}" ] && command -v "$2" >/dev/null 2>&1; then
        return 0
    fi
    if dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; then
        return 0
    fi
    missing="$missing $1"
}

need_pkg chromium chromium
need_pkg fonts-dejavu-core          # Cyrillic glyphs for screenshots of Russian pages
need_pkg dovecot-imapd
need_pkg gettext msgfmt
need_pkg libmagic1
need_pkg openssl openssl

if [ -n "$missing" ]; then
    echo "install-system-deps: installing$missing"
    # policy-rc.d exit 101 tells invoke-rc.d not to start services while packages install.
    created_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086  # word splitting of the package list is intended
    apt-get install -y -q --no-install-recommends $missing
    if [ -n "$created_policy" ]; then
        rm -f /usr/sbin/policy-rc.d
    fi
else
    echo "install-system-deps: all packages present"
fi

# Stop and disable the packaged Dovecot (not our test instances, which use their own base_dir).
if [ -x /usr/sbin/dovecot ]; then
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
    else
        if [ -f /run/dovecot/master.pid ] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
            /usr/sbin/dovecot -c /etc/dovecot/dovecot.conf stop || true
        fi
        if command -v update-rc.d >/dev/null 2>&1 && [ -e /etc/init.d/dovecot ]; then
            update-rc.d dovecot disable >/dev/null 2>&1 || true
        fi
    fi
fi

for cmd in chromium dovecot msgfmt openssl; do
    command -v "$cmd" >/dev/null 2>&1 || { echo "install-system-deps: $cmd still missing" >&2; exit 1; }
done
echo "install-system-deps: ok"
