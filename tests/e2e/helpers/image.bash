# Minimal glibc images for end-to-end tests, built from this machine's libc and busybox.

# make_rootfs DIR: busybox, the dynamic loader, libc and the probe program; nothing else.
make_rootfs() {
	local dir=$1 c
	mkdir -p "$dir"/{bin,etc,tmp,proc,sys,dev,usr/bin,lib64,lib/x86_64-linux-gnu,root}
	cp /bin/busybox "$dir/bin/busybox"
	for c in sh ls cat stat env echo test readlink find grep true wc sort head; do
		ln -sf busybox "$dir/bin/$c"
	done
	cp -L /lib/x86_64-linux-gnu/libc.so.6 "$dir/lib/x86_64-linux-gnu/"
	cp -L /lib64/ld-linux-x86-64.so.2 "$dir/lib64/"
	cc -O2 -Wall -Werror -o "$dir/usr/bin/probe-cuda" "$E2E_DIR/helpers/probe-cuda.c"
	echo "root:x:0:0:root:/root:/bin/sh" >"$dir/etc/passwd"
	echo "root:x:0:" >"$dir/etc/group"
}

# import_image DIR NAME: podman/docker image NAME from the rootfs DIR
rootfs_tar() { tar -C "$1" -cf "$2" .; }
