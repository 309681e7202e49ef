#!/bin/sh
# src/musl/include.sh DIR INCLUDEDIR...: the headers musl-gcc needs beside musl's own, as
# links in DIR: jansson's and libyaml's (whose glibc static archives the musl programs link;
# src/runtime/musl_compat.c) and the kernel's (linux/, asm/, asm-generic/). musl-gcc searches
# no glibc header directory, and must not: only these come from there.
set -eu
dir=$1
shift
mkdir -p "$dir"
for h in jansson.h jansson_config.h yaml.h; do
	for inc in "$@"; do
		if [ -f "$inc/$h" ]; then
			ln -sfn "$inc/$h" "$dir/$h"
			break
		fi
	done
	[ -e "$dir/$h" ] || { echo "no $h in $*" >&2; exit 1; }
done
multiarch=$(cc -print-multiarch 2>/dev/null || true)
for d in linux asm-generic; do
	[ -d "/usr/include/$d" ] || { echo "no /usr/include/$d (linux-libc-dev)" >&2; exit 1; }
	ln -sfn "/usr/include/$d" "$dir/$d"
done
if [ -n "$multiarch" ] && [ -d "/usr/include/$multiarch/asm" ]; then
	ln -sfn "/usr/include/$multiarch/asm" "$dir/asm"
elif [ -d /usr/include/asm ]; then
	ln -sfn /usr/include/asm "$dir/asm"
else
	echo "no asm/ kernel headers" >&2
	exit 1
fi
