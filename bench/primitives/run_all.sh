#!/bin/sh
# Measures the primitives asynchronous events would be built from (see
# docs/async-events.md): sh bench/primitives/run_all.sh, as root; the
# unprivileged parts run as nobody through setpriv. About 4 minutes.
set -e
src=$(cd "$(dirname "$0")" && pwd)
bin=${TMPDIR:-/tmp}/rewind-primitives
mkdir -p "$bin" && cd "$bin"
for p in preempt uffd_wp uffd_remote kwrite hash cowread hwbp int3; do gcc -O2 -Wall -o $p "$src/$p.c"; done
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
echo "### 1 preemption";          for pin in 0 1 2; do ./preempt 5000 $pin 200; done
echo "### 2 uffd-wp in-process";  ./uffd_wp 1 200; ./uffd_wp 100 50; ./uffd_wp 1024 15; ./uffd_wp 1024 15 thp
echo "### 2b/5 remote + privs (root)";   ./uffd_remote 100 50
echo "### 2b/5 remote + privs (nobody)"; $NOBODY ./uffd_remote 100 50
echo "### 2c kernel-mode writes (nobody)"; $NOBODY ./kwrite
echo "### 3 hashing scattered";   ./hash 30 7919
echo "### 3 hashing contiguous";  ./hash 30 1
echo "### 3b COW-shared reads";    ./cowread
echo "### 4 hw breakpoint";       ./hwbp 20000 1; ./hwbp 20000 2
echo "### 4b int3";               ./int3 20000
