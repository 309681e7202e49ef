#!/usr/bin/env bash
# tools/check-layers.sh [SRC]: every #include "folder/..." under src/ must point to the same
# layer or a lower one (docs/ARCHITECTURE.md), and a vendor's probe folder must not include
# another vendor's. Prints each violation as file:line and exits 1 when there is any.
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/.." && pwd)/src}
# lowest first; folders on one line of this list are one layer and may include each other
layers=(
	"core"
	"format"
	"host"
	"inventory"
	"probe"
	"cdi"
	"hooks"
	"oci"
	"isolation"
	"snapshot"
	"capsule"
	"config"
	"engines"
	"doctor migrate serve"
	"api"
	"cli runtime"
)
rank() { # FOLDER -> its layer's index, or nothing
	local i
	for i in "${!layers[@]}"; do
		for f in ${layers[$i]}; do
			[ "$f" = "$1" ] && echo "$i" && return 0
		done
	done
	return 0
}
bad=0 files=0
while IFS= read -r file; do
	files=$((files + 1))
	rel=${file#"$src"/}
	top=${rel%%/*}
	[ "$top" = "$rel" ] && continue # src/*.c: none
	own=$(rank "$top")
	if [ -z "$own" ]; then
		echo "$file: folder src/$top/ is in no layer (tools/check-layers.sh, docs/ARCHITECTURE.md)"
		bad=$((bad + 1))
		continue
	fi
	# probe/<vendor>/...: the vendor of this file (empty for probe/*.c)
	vendor=
	[[ $rel == probe/*/* ]] && vendor=$(cut -d/ -f2 <<<"$rel")
	while IFS=: read -r line inc; do
		target=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$inc")
		[ -n "$target" ] || continue
		ttop=${target%%/*}
		[ "$ttop" = "$target" ] && continue # same-folder include by bare name
		[ "$ttop" = nvbind ] && continue     # the public header
		trank=$(rank "$ttop")
		if [ -z "$trank" ]; then
			echo "$file:$line: includes $target from no layer"
			bad=$((bad + 1))
		elif [ "$trank" -gt "$own" ]; then
			echo "$file:$line: includes $target: src/$ttop/ is above src/$top/ (${layers[$trank]} > ${layers[$own]})"
			bad=$((bad + 1))
		elif [[ $target == probe/*/* ]]; then
			tvendor=$(cut -d/ -f2 <<<"$target")
			if [ -n "$vendor" ] && [ "$tvendor" != "$vendor" ]; then
				echo "$file:$line: includes $target: another vendor's probe"
				bad=$((bad + 1))
			fi
		fi
	done < <(grep -n '#[[:space:]]*include[[:space:]]*"' "$file" || true)
done < <(find "$src" -name '*.[ch]' | sort)
if [ "$bad" -gt 0 ]; then
	echo "check-layers: $bad include(s) against the layers in $files files"
	exit 1
fi
echo "check-layers: $files files, every include goes down or sideways within its layer"
