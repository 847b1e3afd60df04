/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Classic BPF programs, as libpcap compiles tcpdump expressions into them.
 *
 * <pcap/bpf.h> and <linux/bpf.h> both define struct bpf_insn, so libpcap is
 * only ever included by filter.c; everything else sees this copy of the
 * classic instruction layout, whose opcodes are the ones libpcap uses.
 */
#ifndef MAPI_CBPF_H
#define MAPI_CBPF_H

#include <stddef.h>
#include <stdint.h>

struct cbpf_insn {
	uint16_t code;
	uint8_t jt;
	uint8_t jf;
	uint32_t k;
};

struct cbpf_prog {
	struct cbpf_insn *insns;
	size_t len;
};

/* Classic opcode fields (values shared with libpcap's <pcap/bpf.h>). */
#define CBPF_CLASS(c) ((c) & 0x07)
#define CBPF_LD 0x00
#define CBPF_LDX 0x01
#define CBPF_ST 0x02
#define CBPF_STX 0x03
#define CBPF_ALU 0x04
#define CBPF_JMP 0x05
#define CBPF_RET 0x06
#define CBPF_MISC 0x07

#define CBPF_SIZE(c) ((c) & 0x18)
#define CBPF_W 0x00
#define CBPF_H 0x08
#define CBPF_B 0x10

#define CBPF_MODE(c) ((c) & 0xe0)
#define CBPF_IMM 0x00
#define CBPF_ABS 0x20
#define CBPF_IND 0x40
#define CBPF_MEM 0x60
#define CBPF_LEN 0x80
#define CBPF_MSH 0xa0

#define CBPF_OP(c) ((c) & 0xf0)
#define CBPF_ADD 0x00
#define CBPF_SUB 0x10
#define CBPF_MUL 0x20
#define CBPF_DIV 0x30
#define CBPF_OR 0x40
#define CBPF_AND 0x50
#define CBPF_LSH 0x60
#define CBPF_RSH 0x70
#define CBPF_NEG 0x80
#define CBPF_MOD 0x90
#define CBPF_XOR 0xa0

#define CBPF_JA 0x00
#define CBPF_JEQ 0x10
#define CBPF_JGT 0x20
#define CBPF_JGE 0x30
#define CBPF_JSET 0x40

#define CBPF_SRC(c) ((c) & 0x08)
#define CBPF_K 0x00
#define CBPF_X 0x08

#define CBPF_RVAL(c) ((c) & 0x18)
#define CBPF_A 0x10

#define CBPF_MISCOP(c) ((c) & 0xf8)
#define CBPF_TAX 0x00
#define CBPF_TXA 0x80

#define CBPF_MEMWORDS 16

/* Linux socket filter metadata: absolute loads from SKF_AD_OFF (-4096)
 * up to SKF_AD_MAX read the packet type, interface, VLAN tag... */
#define CBPF_AD_OFF 0xfffff000u
#define CBPF_AD_MAX 64u

/* Link types of the interfaces and traces mapi-bpf reads (libpcap DLT_*). */
#define LINKTYPE_ETHERNET 1

void cbpf_prog_free(struct cbpf_prog *prog);

/*
 * Compiles a tcpdump expression with libpcap (optimized, as tcpdump does)
 * for the given link type.  netmask is the interface's netmask in network
 * order, or 0 when unknown (tcpdump's choice).  On failure returns -EINVAL
 * and records MAPI_BPF_FILTER_ERROR with libpcap's message.
 */
int cbpf_compile(const char *expr, int linktype, uint32_t netmask,
		 struct cbpf_prog *out);

/* The netmask of an interface as tcpdump finds it (0 if none). */
uint32_t cbpf_netmask_of(const char *dev);

/*
 * Whether the linked libpcap's interpreter shifts by a count of 32 or more
 * modulo 32 (older builds, where C leaves it undefined and x86 masks the
 * count) rather than giving 0 (newer ones).  Asked of libpcap once.
 */
int cbpf_shift_mod32(void);

/*
 * The verdict on a packet of caplen bytes, wlen on the wire, by this
 * library's own interpreter (cbpf_exec.c): nonzero when it passes, as
 * pcap_offline_filter() does, giving up after CBPF_MAX_BACKWARD_JUMPS
 * jumps back; it also leaves the scratch memory M[] in mem: the key a
 * field's program computes (fields.h).
 */
unsigned int cbpf_exec(const struct cbpf_prog *prog, const uint8_t *pkt, uint32_t caplen,
		       uint32_t wlen, uint32_t mem[CBPF_MEMWORDS]);

/* Writes the program as `tcpdump -d` would, one instruction a line. */
int cbpf_dump(const struct cbpf_prog *prog, char **text);

#endif
