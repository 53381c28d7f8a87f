#!/bin/sh
# SPDX-License-Identifier: MIT
# t_kdrv_layout: the guest drivers' mirror of the fabric layout
# (guest/kmod/mint_fabric.h, in kernel types) agrees with
# include/mint/layout.h: the same program, printing the size of each
# mirrored struct and the offset of each mirrored field, is compiled once
# against each header and the two outputs must be equal.  Both headers
# also assert their offsets at compile time; this catches a field moved in
# one and the assertion moved with it.  Needs cc and the kernel's UAPI
# headers (linux-libc-dev).  Exit 0 pass, 1 fail, 77 skip.
set -u

. tests/lib.sh
need cc
[ -r /usr/include/linux/types.h ] || skip "needs linux-libc-dev (linux/types.h)"
TMP=$(mktemp -d /tmp/mint-kdrv-layout.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# struct field... per line: every field guest/kmod/mint_fabric.h declares
# that the drivers use.
cat >"$TMP/fields" <<'LIST'
mint_lock owner recoveries flags
mint_fabric_hdr magic version header_size size name dir_lock dir_generation
mint_node_entry state id epoch pid heartbeat_ns pending
mint_obj_entry state type offset size flags creator name created_ns creator_pid creator_pidns creator_start
mint_nic_desc addr status_word
mint_nic_hdr magic version node vector ndesc buf_size desc_off buf_off mac ipv4 prefix_len state epoch rdh rx_packets rx_bytes overruns irqs irqs_masked last_irq_ns dev_errors rdt drv_packets drv_bytes drv_errors drv_bad drv_irqs drv_drops icr ims itr_ns
mint_bell sleeping seq
mint_ring_hdr magic version size max_record prod_node cons_node cons_vector tail space_bell full_events sent_records prod_errors head data_bell recv_records errors
mint_rec_hdr len type
mint_vni_port state epoch mac ipv4 prefix_len tx_packets tx_bytes tx_drop_full tx_drop_unknown tx_drop_down tx_drop_error tx_irqs tx_irqs_suppressed rx_packets rx_bytes rx_errors rx_drop_host rx_polls tx_drop_queue tx_drop_pool pool_reclaimed pool_errors
mint_dev_entry state type link ifindex route name armed
mint_devtab_hdr magic version max_devs devs
mint_vni_hdr magic version mode max_ports ring_size vnet_hdr_len mac_base pool_buffers ports
LIST

# prog HEADER: a C program printing "struct size" and "struct.field offset".
prog() {
	printf '#include <stdio.h>\n#include <stddef.h>\n#include "%s"\nint main(void)\n{\n' "$1"
	while read -r s fields; do
		printf '\tprintf("%s %%zu\\n", sizeof(struct %s));\n' "$s" "$s"
		for f in $fields; do
			printf '\tprintf("%s.%s %%zu\\n", offsetof(struct %s, %s));\n' "$s" "$f" "$s" "$f"
		done
	done <"$TMP/fields"
	printf '\treturn 0;\n}\n'
}

prog mint/layout.h >"$TMP/user.c"
prog mint_fabric.h >"$TMP/kmod.c"
cc -std=gnu11 -Iinclude -o "$TMP/user" "$TMP/user.c" || die "layout.h program does not build"
cc -std=gnu11 -Iguest/kmod -o "$TMP/kmod" "$TMP/kmod.c" || die "mint_fabric.h program does not build"
"$TMP/user" >"$TMP/user.out" && "$TMP/kmod" >"$TMP/kmod.out" || die "a layout program failed"
diff "$TMP/user.out" "$TMP/kmod.out" >"$TMP/diff" ||
	fail "guest/kmod/mint_fabric.h differs from layout.h (<: layout.h, >: mint_fabric.h): $(cat "$TMP/diff")"
say "$(wc -l <"$TMP/user.out") sizes and offsets compared"
t_finish
