#!/bin/sh
# run.sh BUILD: `make run`. Creates ./var on first use, on PORT_BASE or,
# when the default 10000 is taken, on the first free base (11000, 12000,
# ...; it says which), then runs the server in the foreground.
set -e
tern="./$1/tern"

port_free() {
	python3 -c 'import socket,sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: sys.exit(1)' "$1"
}

base_free() {
	for off in 143 993 110 995 25 587 465 24 80 443; do
		port_free $(($1 + off)) || return 1
	done
}

if [ ! -d var ]; then
	base=${PORT_BASE:-}
	if [ -z "$base" ]; then
		base=10000
		while ! base_free $base; do
			base=$((base + 1000))
			[ $base -le 60000 ] || { echo "run: no free port base" >&2; exit 1; }
		done
		[ $base -eq 10000 ] || echo "run: ports 10000+ are taken; using port base $base"
	fi
	"$tern" init var --port-base "$base"
elif [ -n "${PORT_BASE:-}" ]; then
	echo "run: var/ exists, so PORT_BASE is not used: edit port_base in var/tern.conf" \
	     "or remove var/ for a fresh one" >&2
fi
exec "$tern" -d var serve
