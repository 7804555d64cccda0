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

# A private apt state in DIR (its own sources, lists and cache; nothing installed, the machine's apt untouched) for
# ARCH, whose sources are the remaining arguments (lines like "deb MIRROR SUITE main"). Sets the array APT_OPTS for
# apt-get and fetches the lists. Packages downloaded with it are verified by apt against the signed archive.
private_apt() { # DIR ARCH SOURCE_LINE...
  local dir="$1" arch="$2"; shift 2
  mkdir -p "$dir"/{lists/partial,archives/partial,etc/preferences.d}
  printf '%s\n' "$@" >"$dir/etc/sources.list"
  APT_OPTS=(-o "Dir::State=$dir" -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir"
            -o "Dir::Cache::archives=$dir/archives" -o "Dir::Etc::SourceList=$dir/etc/sources.list"
            -o "Dir::Etc::SourceParts=-" -o "Dir::Etc::Preferences=$dir/etc/preferences.d/none"
            -o "Dir::Etc::PreferencesParts=$dir/etc/preferences.d" -o "APT::Get::List-Cleanup=0"
            -o "APT::Architecture=$arch" -o "APT::Architectures=$arch"
            -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -q)
  apt-get "${APT_OPTS[@]}" update >/dev/null
}
