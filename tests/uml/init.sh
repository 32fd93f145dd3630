#!/bin/sh
# Init of the user-mode-linux guest that uml.py boots: the host's root is this guest's root
# (hostfs), $UMLJOB (from the kernel command line) is the job directory on the host. Runs
# guest.py, then powers the guest off. A guest killed by a power cut never gets that far.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sysfs /sys
python3 "$(dirname "$0")/guest.py" "$UMLJOB" >>"$UMLJOB/guest.log" 2>&1
echo o >/proc/sysrq-trigger
sleep 60
