#!/bin/sh
# HAProxy (Debian's haproxy) as a TCP relay in the foreground, a peer of
# zcopy's relay and engine:
#
#   haproxy.sh LISTEN TARGET NBTHREAD auto|force|off
#
# LISTEN and TARGET are HOST:PORT. auto: `option splice-auto` (HAProxy
# decides per connection); force: splice both ways (splice-request and
# splice-response); off: no splice. Installs haproxy with apt-get when
# missing and run as root.
set -eu
[ $# -eq 4 ] || { echo "usage: $0 LISTEN TARGET NBTHREAD auto|force|off" >&2; exit 2; }
listen=$1 target=$2 threads=$3 mode=$4
if ! command -v haproxy >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "$0: haproxy is not installed (apt-get install haproxy)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
fi
case $mode in
  auto) splice="option splice-auto" ;;
  force) splice="option splice-request
  option splice-response" ;;
  off) splice="" ;;
  *) echo "$0: mode is auto, force or off" >&2; exit 2 ;;
esac
cfg=$(mktemp /tmp/zcopy-haproxy.XXXXXX)
cat > "$cfg" <<CFG
global
  nbthread $threads
  maxconn 4000

defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
  $splice

frontend relay
  bind $listen
  default_backend upstream

backend upstream
  server target $target
CFG
# haproxy runs as this script's child (the drivers measure and signal the
# whole process group); TERM or INT stops it, then the config is removed.
haproxy -db -f "$cfg" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
wait "$pid" || wait "$pid" || true
rm -f "$cfg"
