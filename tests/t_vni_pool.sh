#!/bin/sh
# SPDX-License-Identifier: MIT
# t_vni_pool: the VNI application and fault tests (t_vni.sh,
# t_vni_faults.sh) again, on a fabric whose VNI uses configuration (2), one
# shared buffer pool (`mint up --vni-buffers pool`): ping, iperf3, sockperf
# and curl among nodes; kill -9 of a node during a transfer, its buffers
# reclaimed, its restart.  Here node 0 of t_vni reads mint0 in a transmit
# thread (MINT_VNI_IO=thread), the path of kernels whose io_uring cannot
# wait on futexes.  Exit 0 pass, 1 fail, 77 skip (as those scripts).
set -u
for t in t_vni t_vni_faults; do
	MINT_VNI_BUFFERS=pool MINT_T_VNI_IO0=thread sh "tests/$t.sh"
	rc=$?
	[ $rc -eq 0 ] || { echo "$t with --vni-buffers pool: exit $rc"; exit $rc; }
done
exit 0
