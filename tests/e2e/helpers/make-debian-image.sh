#!/usr/bin/env bash
# make-debian-image.sh DIR: a Debian-like image rootfs in DIR/rootfs, built from real Debian
# packages (libc6 libc-bin zlib1g busybox-static, `apt-get download`ed into DIR/debs), with the
# image's own /etc/ld.so.cache written by the image's own ldconfig (`ldconfig -r`), and
# /usr/bin/dlopen-probe (tests/e2e/helpers/dlopen-probe.c, built here against this machine's
# glibc: Debian 12 here and in the image). The .debs and the rootfs are kept: a rerun with the
# same packages and sources only checks the stamp. DIR/rootfs is a template: copy it, never
# change it (tests compare containers' caches against DIR/rootfs/etc/ld.so.cache).
set -euo pipefail
dir=${1:?usage: make-debian-image.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
packages=(libc6 libc-bin zlib1g busybox-static)
mkdir -p "$dir/debs"
dir=$(cd "$dir" && pwd)

exec 9>"$dir/.lock"
flock 9 # two suites building at once share one build

have_debs() {
	local p
	for p in "${packages[@]}"; do
		compgen -G "$dir/debs/${p}_*.deb" >/dev/null || return 1
	done
}
if ! have_debs; then
	rm -f "$dir"/debs/*.deb
	# apt-get download writes into the current directory; as root it warns about the sandbox
	(cd "$dir/debs" && apt-get download "${packages[@]}" 2>&1 | grep -v 'unsandboxed' >&2) || true
	have_debs || { echo "make-debian-image: apt-get download ${packages[*]} failed" >&2; exit 1; }
fi

stamp=$( (ls "$dir/debs"; cat "$0" "$here/dlopen-probe.c") | sha256sum | cut -c1-16)
[ -f "$dir/rootfs/.stamp-$stamp" ] && exit 0

r=$dir/rootfs.new
rm -rf "$r" "$dir/rootfs"
mkdir -p "$r"
for deb in "$dir"/debs/*.deb; do
	dpkg-deb -x "$deb" "$r"
done
mkdir -p "$r"/{proc,sys,dev,tmp,root,usr/bin}
for c in sh ls cat cp stat env echo test readlink find grep true wc sort head sha256sum; do
	ln -sf busybox "$r/bin/$c"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
echo "root:x:0:" >"$r/etc/group"
cc -O2 -Wall -Werror -o "$r/usr/bin/dlopen-probe" "$here/dlopen-probe.c"
# the image's own ldconfig (libc-bin's, statically linked) writes the image's own cache
"$r/sbin/ldconfig" -r "$r"
[ -s "$r/etc/ld.so.cache" ] || { echo "make-debian-image: ldconfig -r wrote no cache" >&2; exit 1; }
ldconfig -p -C "$r/etc/ld.so.cache" | grep 'libz.so.1 ' >/dev/null ||
	{ echo "make-debian-image: the image's cache has no libz.so.1" >&2; exit 1; }
touch "$r/.stamp-$stamp"
mv "$r" "$dir/rootfs"
