/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Header fields that functions key on (TOP; later DIST, DISTINCT): MAPI
 * 2.0's TOPX_* protocols and fields.
 *
 * A field becomes a small classic BPF program that leaves the field's value
 * in scratch memory M[base..base + 4] (a struct field_key: a kind, then up
 * to four words) and returns 1, or returns 0 when the packet has no such field.
 * In the kernel the program is translated like any filter (cbpf_xlate.h,
 * fragments and bounds included) and the key is read from the stack; over a
 * trace it runs in cbpf_exec().  One program, so both halves find the same
 * key in the same packet.
 *
 * Which packets have a field: Ethernet frames, untagged or with up to two
 * VLAN tags (0x8100, 0x88a8, 0x9100); IP fields in IPv4 and, where IPv6 has
 * them, in IPv6; TCP and UDP fields in an IPv4 packet that is not a later
 * fragment (as libpcap's `tcp port`) or an IPv6 packet whose next header is
 * TCP or UDP.
 */
#ifndef MAPI_FIELDS_H
#define MAPI_FIELDS_H

#include "cbpf.h"
#include "field_key.h"

struct field_spec {
	int proto;	/* MAPI_TOPX_IP, _TCP, _UDP */
	int field;	/* MAPI_TOPX_*: its number */
	int prefix4;	/* address fields: bits kept of IPv4 (0-32) */
	int prefix6;	/* ... and of IPv6 (0-128) */
};

/* Checks a protocol and field pair (MAPI 2.0's errors: 7000 + argn);
 * argn_proto and argn_field number them in the function's arguments. */
int field_check(int proto, int field, int argn_proto, int argn_field);
/* Its name, "TOPX_IP_SRCIP". */
const char *field_name(int field);
/* Whether it is an address (a prefix applies). */
int field_is_address(int field);

/* Emits a field's program into the flow being generated: its key in M[]
 * on the stack, or a jump to label skip when the packet has no such field
 * (the functions after it still run: it is no filter). */
struct codegen;
int field_emit(struct codegen *cg, const struct cbpf_prog *prog, int skip);

/* A key as mapi.h shows it (an address cut to the spec's prefix). */
struct field_key;
struct mapi_field_value;
void field_value_of(const struct field_key *k, const struct field_spec *fs,
		    struct mapi_field_value *v);

/* The field's classic program, its key in M[base..base + 4] (base at most
 * CBPF_MEMWORDS - 5; free it with cbpf_prog_free). */
#define FIELD_KEY_WORDS 5
int field_program(const struct field_spec *fs, uint32_t base, struct cbpf_prog *prog);

/*
 * HASHSAMP's program: accepts (1) a TCP or UDP packet over IPv4 (not a
 * later fragment) or IPv6 (next header TCP or UDP) whose conversation's
 * hash is below range (0 to 1024), rejects the rest.  The hash, the same
 * for both directions (docs/semantics.md): an endpoint's value is its
 * address words folded, a = a * K1 ^ w, then a = (a * K1 ^ port) * K2;
 * h = ((src + dst) ^ protocol) * K3 >> 22, all in 32 bits.
 */
#define CONV_K1 0x9e3779b1u
#define CONV_K2 0x85ebca6bu
#define CONV_K3 0xc2b2ae35u
#define CONV_HASH_BITS 10
/*
 * With record, it also leaves in M[] what HASHSAMP KEEP 1 records: the
 * words below (addresses as IPv4's one word or IPv6's four, the others 0;
 * each word the value of its 4 bytes, as the classic loads give it), and
 * in M[CONV_M_L4] the offset of the TCP or UDP header | family << 16.
 * M[CONV_M_HASH] is the hash's; M[CONV_M_TCP..] are left for bytes 4 to 15
 * of a TCP header (its sequence number, ..., its flags).
 */
enum { CONV_M_PROTO, CONV_M_SPORT, CONV_M_DPORT, CONV_M_SRC, CONV_M_DST = CONV_M_SRC + 4,
       CONV_M_HASH = CONV_M_DST + 4, CONV_M_L4, CONV_M_TCP, CONV_M_WORDS = CONV_M_TCP + 3 };
int conv_sample_program(uint32_t range, int record, struct cbpf_prog *prog);

#endif
