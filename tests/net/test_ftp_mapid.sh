#!/usr/bin/env bash
# test_ftp.sh with ftp_track's flows in mapid: the seed's fourth program,
# compiled once, runs unchanged through the daemon, its data connections'
# flows created while it runs (conversation lookups in mapid's table once
# the interface has 16 flows), every transfer equal to tcpdump's count.
MAPI_TEST_MAPID=1 exec "$(dirname "$0")/test_ftp.sh"
