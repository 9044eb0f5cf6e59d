#!/bin/sh
# kat.t -- kat_handshake.h holds exactly what kat_handshake.py computes
# from the whitepaper, so t_wg_kat's vectors are not vpnd's own output.
d=$(dirname "$0")
exec /usr/bin/python3 "$d/kat_handshake.py" --check "$d/kat_handshake.h"
