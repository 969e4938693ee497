#!/bin/sh
# install.sh BUILD: `make install`. Copies the binary, the manual pages
# (made by the binary itself from its command and key tables), the systemd
# unit and the logrotate file under $DESTDIR$PREFIX. Run as root without
# DESTDIR it also sets up the system: a `tern` system user, /etc/tern, and
# /var/lib/tern made with `tern init` on the standard ports, its tern.conf
# moved to /etc/tern/tern.conf (a link stays). Nothing existing is replaced.
set -e
build=$1
: "${PREFIX:=/usr/local}"
: "${DESTDIR:=}"
bindir=$PREFIX/bin
mandir=$PREFIX/share/man
unitdir=${UNITDIR:-/lib/systemd/system}

install -d "$DESTDIR$bindir" "$DESTDIR$mandir/man8" "$DESTDIR$mandir/man5" \
	"$DESTDIR$unitdir" "$DESTDIR/etc/logrotate.d"
install -m 755 "$build/tern" "$DESTDIR$bindir/tern"
"$build/tern" manpage > "$DESTDIR$mandir/man8/tern.8"
"$build/tern" config-keys --man > "$DESTDIR$mandir/man5/tern.conf.5"
chmod 644 "$DESTDIR$mandir/man8/tern.8" "$DESTDIR$mandir/man5/tern.conf.5"
sed "s|@BINDIR@|$bindir|g" dist/tern.service > "$DESTDIR$unitdir/tern.service"
chmod 644 "$DESTDIR$unitdir/tern.service"
[ -e "$DESTDIR/etc/logrotate.d/tern" ] ||
	install -m 644 dist/tern.logrotate "$DESTDIR/etc/logrotate.d/tern"
echo "install: $DESTDIR$bindir/tern, manual pages, $DESTDIR$unitdir/tern.service"

# The system set-up only for a real install as root.
if [ -n "$DESTDIR" ] || [ "$(id -u)" -ne 0 ]; then
	exit 0
fi
if ! getent passwd tern >/dev/null; then
	useradd --system --home-dir /var/lib/tern --no-create-home \
		--shell /usr/sbin/nologin tern
	echo "install: created the system user tern"
fi
install -d -m 755 /etc/tern
if [ ! -e /var/lib/tern/tern.conf ]; then
	host=$(hostname -f 2>/dev/null || hostname)
	"$bindir/tern" init /var/lib/tern --port-base 0 --hostname "$host" \
		--domain "${host#*.}"
	sed -i 's/^listen = 127.0.0.1$/listen = 0.0.0.0/' /var/lib/tern/tern.conf
	mv /var/lib/tern/tern.conf /etc/tern/tern.conf
	ln -s /etc/tern/tern.conf /var/lib/tern/tern.conf
	chown -R tern:tern /var/lib/tern
	chmod 750 /var/lib/tern
	echo "install: /var/lib/tern created; edit /etc/tern/tern.conf, then"
	echo "  systemctl daemon-reload && systemctl enable --now tern"
fi
