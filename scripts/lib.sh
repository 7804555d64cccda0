# Shared helpers for kind-build's environment scripts. Sourced, not run.
# State of what *we* started lives here, so we never stop what somebody else runs.
KIND_BUILD_STATE="${KIND_BUILD_STATE:-/tmp/kind-build-env}"
mkdir -p "$KIND_BUILD_STATE"

log() { printf '%s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

engine_answers() { timeout 5 docker info >/dev/null 2>&1; }

registry_answers() { # $1 = host:port
  curl -fsS -o /dev/null --max-time 3 "http://$1/v2/" 2>/dev/null
}

# Waits until "$@" succeeds, up to $WAIT_SECONDS (default 60); returns non-zero on time-out.
wait_for() {
  local deadline=$(( $(date +%s) + ${WAIT_SECONDS:-60} ))
  until "$@"; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.5
  done
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# The Debian mirror this machine's apt sources use for its main suite (not the security archive), so proxies and
# local mirrors configured there apply to us too. Prints the URI; fails when none is configured.
apt_mirror() {
  local uri
  uri="$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null; } | awk '
      /^[[:space:]]*$/ { if (uri != "" && !sec) { print uri; exit } uri=""; sec=0; next }
      tolower($1) == "uris:" { uri=$2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i ~ /security/) sec=1 }
      END { if (uri != "" && !sec) print uri }' | head -n1)"
  if [ -z "$uri" ]; then
    uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' | head -n1)"
  fi
  [ -n "$uri" ] && printf '%s\n' "${uri%/}"
}
