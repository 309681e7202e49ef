#!/usr/bin/env bash
# An Ubuntu-like host on this Debian machine, for one process tree: /sbin/ldconfig is Ubuntu's
# libc-bin wrapper script (it ends in `exec /sbin/ldconfig.real "$@"`) and ldconfig.real is the
# ELF, the layout that broke every GPU container when nvbind ran the host's ldconfig.
#
#   ubuntu-host.sh prepare DIR          DIR/sbin: a copy of /usr/sbin with that ldconfig pair
#   ubuntu-host.sh mount DIR            bind DIR/sbin over /usr/sbin (and /sbin when it is not a
#                                       link to it); only inside a private mount namespace
#   ubuntu-host.sh run DIR COMMAND...   prepare when needed, then COMMAND in a private mount
#                                       namespace with DIR mounted; the host never sees it
set -euo pipefail

# Ubuntu 24.04's /sbin/ldconfig (package libc-bin, unchanged since 2012): the dpkg-trigger
# check, then the real program.
wrapper() {
	cat <<'SH'
#!/bin/sh

if  test $# = 0							\
    && test x"$LDCONFIG_NOTRIGGER" = x				\
 && test x"$DPKG_MAINTSCRIPT_PACKAGE" != x			\
 && dpkg-trigger --check-supported 2>/dev/null
then
	if dpkg-trigger --no-await ldconfig; then
		if test x"$LDCONFIG_TRIGGER_DEBUG" != x; then
			echo "ldconfig: wrapper deferring update (trigger activated)"
		fi
		exit 0
	fi	
fi

exec /sbin/ldconfig.real "$@"
SH
}

prepare() {
	local dir=$1 elf
	[ -f "$dir/sbin/.ubuntu-host" ] && return 0
	elf=$(readlink -f /usr/sbin/ldconfig)
	head -c 4 "$elf" | grep ELF >/dev/null || { echo "ubuntu-host: $elf is not an ELF program" >&2; return 1; }
	rm -rf "$dir/sbin" && mkdir -p "$dir"
	cp -a /usr/sbin "$dir/sbin"
	# a new file, never a write through: the copy must not alias the host's ldconfig
	rm -f "$dir/sbin/ldconfig" "$dir/sbin/ldconfig.real"
	cp "$elf" "$dir/sbin/ldconfig.real"
	wrapper >"$dir/sbin/ldconfig"
	chmod 0755 "$dir/sbin/ldconfig" "$dir/sbin/ldconfig.real"
	touch "$dir/sbin/.ubuntu-host"
}

mount_over() {
	local dir=$1
	[ -f "$dir/sbin/.ubuntu-host" ] || { echo "ubuntu-host: $dir is not prepared" >&2; return 1; }
	mount --bind "$dir/sbin" /usr/sbin
	if [ ! -L /sbin ]; then
		mount --bind "$dir/sbin" /sbin
	fi
	# what the test relies on: the path nvbind used to run is now a shell script
	[ "$(head -c 2 /sbin/ldconfig)" = '#!' ] && [ -x /sbin/ldconfig.real ]
}

case ${1:-} in
prepare) prepare "$2" ;;
mount) mount_over "$2" ;;
run)
	dir=$2
	shift 2
	prepare "$dir"
	exec unshare -m --propagation private bash -c '"$0" mount "$1" && shift && exec "$@"' "$0" "$dir" "$@"
	;;
*)
	echo "usage: ubuntu-host.sh prepare|mount DIR | run DIR COMMAND..." >&2
	exit 2
	;;
esac
