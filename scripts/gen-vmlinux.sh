#!/bin/sh
# Regenerates vmlinux.h, the kernel's types for the BPF C programs in bpf/,
# from the running kernel's BTF.
set -eu
cd "$(dirname "$0")/.."
btf=${1:-/sys/kernel/btf/vmlinux}
[ -r "$btf" ] || { echo "gen-vmlinux: $btf not readable (kernel built without BTF?)" >&2; exit 1; }
bpftool btf dump file "$btf" format c > vmlinux.h.tmp
mv vmlinux.h.tmp vmlinux.h
echo "vmlinux.h regenerated from $btf ($(uname -r))"
