/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DISTINCT(PROTOCOL, FIELD [, PER_PROTOCOL, PER_FIELD [, X]]), mapi-bpf's:
 * how many distinct values a header field takes, over all packets and,
 * with a per field, under each of its values (mapi.h).
 *
 * HyperLogLog (Flajolet, Fusy, Gandouet, Meunier 2007): a value's 64-bit
 * hash picks a register by its top bits and raises it to the rank of the
 * first 1 in the bits below; the registers' harmonic mean estimates the
 * count, with a relative standard error of 1.04 / sqrt(registers); below
 * 2.5 times the registers, with some still 0, linear counting is used
 * instead (nearly exact).  2^12 registers over all packets, 2^8 under each
 * per value (fn_distinct.h).
 *
 * In the kernel: the fields' classic programs (fields.h) leave the keys in
 * M[0..4] and M[5..9]; the flow's slots count the packets that have them;
 * the routine mapi_distinct_add (bpf/fn/distinct.bpf.c) raises the
 * registers, in an array map for all packets and in a slot table
 * (keyslot.h) of up to DISTINCT_TABLE per values, and says when a per
 * value has no room (the "other" slot).  Over a trace: the same programs
 * (cbpf_exec), hash, registers and slot table, so that the same packets
 * leave the same registers live and offline, and the same estimates.
 *
 * Kernel memory: 4 KiB, and with a per field 9.1 MiB (32,768 slots of 288
 * bytes, allocated at connect: the kernel's hash table, allocated as
 * values came, cost twice as much a packet).
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen.h"
#include "error.h"
#include "fields.h"
#include "fn_distinct.h"
#include "functions.h"
#include "slottable.h"

_Static_assert(DISTINCT_TABLE == MAPI_DISTINCT_TABLE, "mapi.h says how many per values fit");
_Static_assert(sizeof(struct distinct_slot) ==
	       sizeof(struct keyslot) + sizeof(struct distinct_per), "a slot as slottable.c lays it out");
_Static_assert(DISTINCT_ORDER_RUN * 4 <= sizeof(struct distinct_slot) &&
	       DISTINCT_TABLE_SLOTS >= DISTINCT_ORDER_RUN &&
	       !(DISTINCT_ORDER_RUN & (DISTINCT_ORDER_RUN - 1)),
	       "the order list's run fits a slot, a power of two");

/* Result slots: packets with the fields, and those of per values the table
 * had no room for. */
enum { S_PACKETS, S_OTHER, DISTINCT_SLOTS };

#define PER_BASE FIELD_KEY_WORDS	/* the per key: M[5..9] */
#define DISTINCT_X_DEFAULT 10

struct distinct {
	struct field_spec fs, per_fs;
	int per;			/* a per field was given */
	struct cbpf_prog prog, per_prog;
	unsigned int x;
	int all_fd, per_fd;
	pthread_mutex_t lock;		/* memory, between the reader and a read */
	struct distinct_all memory_all;	/* a flow over a trace: the registers */
	struct slottable table;		/* the kernel's, read; over a trace, in memory */
	struct mapi_distinct_result *snapshot;	/* the last read's */
};

static int distinct_prepare(struct fn_instance *fi, const struct flow *f)
{
	struct distinct *d;
	int ret;

	(void)f;
	ret = field_check((int)fi->args[0].v.i, (int)fi->args[1].v.i, 1, 2);
	if (!ret && fi->form == 1)
		ret = field_check((int)fi->args[2].v.i, (int)fi->args[3].v.i, 3, 4);
	if (ret)
		return ret;
	if (fi->form == 1 && fi->given > 4 &&
	    (fi->args[4].v.i < 1 || fi->args[4].v.i > MAPI_TOP_MAX))
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 5,
			       "DISTINCT X %lld: 1 to %d per values", fi->args[4].v.i, MAPI_TOP_MAX);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	fi->state = d;
	d->fs = (struct field_spec){ (int)fi->args[0].v.i, (int)fi->args[1].v.i, 32, 128 };
	d->per = fi->form == 1;
	d->per_fs = d->per ? (struct field_spec){ (int)fi->args[2].v.i, (int)fi->args[3].v.i,
						  32, 128 } : d->fs;
	d->x = d->per && fi->given > 4 ? (unsigned int)fi->args[4].v.i : DISTINCT_X_DEFAULT;
	d->all_fd = d->per_fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	slottable_init(&d->table, DISTINCT_TABLE_SLOTS, DISTINCT_TABLE, sizeof(struct distinct_per),
		       DISTINCT_ORDER_RUN);
	ret = field_program(&d->fs, 0, &d->prog);
	if (!ret && d->per)
		ret = field_program(&d->per_fs, PER_BASE, &d->per_prog);
	return ret;
}

static int distinct_connect(struct fn_instance *fi, const struct flow *f)
{
	LIBBPF_OPTS(bpf_map_create_opts, ro, .map_flags = BPF_F_RDONLY);
	struct distinct *d = fi->state;

	(void)f;
	fi->maps = d->per ? 2 : 1;
	d->all_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mapi_distinct", sizeof(uint32_t),
				   sizeof(struct distinct_all), 1, &ro);
	if (d->all_fd < 0)
		return err_kernel(-errno, "creating DISTINCT's registers");
	if (!d->per)
		return 0;
	d->per_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mapi_distinct_per", sizeof(uint32_t),
				   sizeof(struct distinct_slot),
				   keyslot_elements(DISTINCT_TABLE_SLOTS, DISTINCT_ORDER_RUN), &ro);
	if (d->per_fd < 0)
		return err_kernel(-errno, "creating DISTINCT's table");
	return 0;
}

static int distinct_emit(struct codegen *cg, const struct fn_instance *fi)
{
	const struct distinct *d = fi->state;
	struct prog_buf *pb = &cg->pb;
	int skip = pb_new_label(pb), ret;

	if (cg->offload)
		return err_set(-EOPNOTSUPP, MAPI_ERR_MODE, "DISTINCT cannot run on a NIC");
	ret = field_emit(cg, &d->prog, skip);
	if (!ret && d->per)
		ret = field_emit(cg, &d->per_prog, skip);
	if (ret)
		return ret;
	cg_add_to_slot(cg, fi->slot + S_PACKETS, ADD_ONE);
	pb_ld_imm64(pb, R1, BPF_PSEUDO_MAP_FD, (uint32_t)d->all_fd);
	pb_emit(pb, MOV64_REG(R2, RFP));
	pb_emit(pb, ALU64_IMM(BPF_ADD, R2, STK_SCRATCH));
	if (d->per) {
		pb_ld_imm64(pb, R3, BPF_PSEUDO_MAP_FD, (uint32_t)d->per_fd);
		pb_emit(pb, MOV64_REG(R4, RFP));
		pb_emit(pb, ALU64_IMM(BPF_ADD, R4, STK_SCRATCH + 4 * PER_BASE));
	} else {
		pb_emit(pb, MOV64_IMM(R3, 0));
		pb_emit(pb, MOV64_IMM(R4, 0));
	}
	cg_call_routine(cg, &routine_mapi_distinct_add);
	pb_jmp_imm(pb, BPF_JEQ, R0, 0, skip);
	cg_add_to_slot(cg, fi->slot + S_OTHER, ADD_ONE);
	pb_bind(pb, skip);
	return 0;
}

/* What mapi_distinct_add does to a register, in memory (one writer). */
static void raise_memory(uint8_t *reg, uint64_t h, int bits)
{
	uint32_t idx = (uint32_t)(h >> (64 - bits)), rank = distinct_rank(h, bits);

	if (reg[idx] < rank)
		reg[idx] = (uint8_t)rank;
}

static int distinct_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	struct distinct *d = fi->state;
	uint32_t mem[CBPF_MEMWORDS], per_mem[CBPF_MEMWORDS];
	struct distinct_per *e = NULL;
	uint64_t h;

	if (!cbpf_exec(&d->prog, p->data, p->caplen, p->wlen, mem))
		return 1;
	if (d->per && !cbpf_exec(&d->per_prog, p->data, p->caplen, p->wlen, per_mem))
		return 1;
	store_add(&f->host, (uint32_t)fi->slot + S_PACKETS, 1);
	h = field_key_hash((const struct field_key *)mem);
	pthread_mutex_lock(&d->lock);
	raise_memory(d->memory_all.reg, h, DISTINCT_ALL_BITS);
	if (d->per) {
		e = slottable_get(&d->table, (const struct field_key *)&per_mem[PER_BASE]);
		if (e) {
			e->packets++;
			raise_memory(e->reg, h, DISTINCT_PER_BITS);
		}
	}
	pthread_mutex_unlock(&d->lock);
	if (d->per && !e)
		store_add(&f->host, (uint32_t)fi->slot + S_OTHER, 1);
	return 1;
}

/* --- reading ------------------------------------------------------------- */

static double estimate(const uint8_t *reg, int bits)
{
	int m = 1 << bits, i, zeros = 0;
	double sum = 0, e;

	for (i = 0; i < m; i++) {
		sum += ldexp(1.0, -reg[i]);
		zeros += !reg[i];
	}
	e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
	if (e <= 2.5 * m && zeros)
		e = m * log((double)m / zeros);	/* linear counting */
	return e;
}

struct per_entry {
	struct field_key key;
	uint64_t distinct, packets;
};

/* A slot of the per table, as read. */
struct per_slot {
	struct field_key key;
	struct distinct_per v;
};

static int by_distinct(const void *a, const void *b)
{
	const struct per_entry *x = a, *y = b;

	if (x->distinct != y->distinct)
		return x->distinct < y->distinct ? 1 : -1;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return field_key_cmp(&x->key, &y->key);	/* ties in a fixed order */
}

static int per_by_key(const void *a, const void *b)
{
	return field_key_cmp(&(*(const struct per_slot *const *)a)->key,
			     &(*(const struct per_slot *const *)b)->key);
}

/*
 * The registers over all packets and every per value's estimate, from the
 * kernel's maps or over a trace from memory.  A per value that two CPUs
 * put in at once has two slots (keyslot.bpf.h): its packets add up, its
 * registers are the larger of each pair, as if one had raised them all.
 */
static int state(struct distinct *d, int trace, struct distinct_all *all, struct per_entry **out,
		 size_t *n)
{
	struct per_slot *slots = NULL, **order = NULL;
	struct per_entry *es = NULL;
	size_t have = 0, i, k = 0;
	uint32_t zero = 0, j;
	int ret = 0, r;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&d->lock);
	if (trace)
		*all = d->memory_all;
	else if (bpf_map_lookup_elem(d->all_fd, &zero, all))
		ret = err_kernel(-errno, "reading DISTINCT's registers");
	if (!ret && d->per && !trace && (ret = slottable_load(&d->table, d->per_fd)))
		ret = err_kernel(ret, "reading DISTINCT's table");
	if (!ret && d->per && d->table.n) {
		slots = malloc(d->table.n * sizeof(*slots));
		order = malloc(d->table.n * sizeof(*order));
		if (!slots || !order)
			ret = -ENOMEM;
	}
	for (j = 0; !ret && d->per && j < d->table.n; j++) {
		const struct field_key *key;
		const struct distinct_per *v = slottable_nth(&d->table, j, &key);

		if (!v)
			continue;
		slots[have].key = *key;
		slots[have].v = *v;
		order[have] = &slots[have];
		have++;
	}
	pthread_mutex_unlock(&d->lock);
	if (!ret && have)
		es = malloc(have * sizeof(*es));
	if (!ret && have && !es)
		ret = -ENOMEM;
	if (!ret && have) {
		qsort(order, have, sizeof(*order), per_by_key);
		for (i = 0; i < have; i++) {
			struct distinct_per *v = &order[i]->v;

			if (k && !field_key_cmp(&order[k - 1]->key, &order[i]->key)) {
				struct distinct_per *into = &order[k - 1]->v;

				into->packets += v->packets;
				for (r = 0; r < DISTINCT_PER_REGS; r++)
					if (into->reg[r] < v->reg[r])
						into->reg[r] = v->reg[r];
				continue;
			}
			order[k++] = order[i];
		}
		for (i = 0; i < k; i++) {
			es[i].key = order[i]->key;
			es[i].packets = order[i]->v.packets;
			es[i].distinct = (uint64_t)llround(estimate(order[i]->v.reg,
								    DISTINCT_PER_BITS));
		}
	}
	free(slots);
	free(order);
	if (ret) {
		free(es);
		return ret;
	}
	*out = es;
	*n = k;
	return 0;
}

static int distinct_read(struct fn_instance *fi, struct flow *f, const void **out, size_t *size)
{
	struct distinct *d = fi->state;
	struct mapi_distinct_result *r;
	struct distinct_all all;
	struct per_entry *es = NULL;
	uint64_t slot[DISTINCT_SLOTS];
	size_t n = 0, i, listed;
	int ret = 0, s;

	for (s = 0; s < DISTINCT_SLOTS && !ret; s++)
		ret = flow_read_slot(f, (uint32_t)(fi->slot + s), &slot[s]);
	if (!ret)
		ret = state(d, f->trace != NULL, &all, &es, &n);
	if (ret)
		return ret;
	if (n)
		qsort(es, n, sizeof(*es), by_distinct);
	listed = n < d->x ? n : d->x;
	r = calloc(1, sizeof(*r) + listed * sizeof(r->values[0]));
	if (!r) {
		free(es);
		return -ENOMEM;
	}
	r->distinct = (unsigned long long)llround(estimate(all.reg, DISTINCT_ALL_BITS));
	r->error = 1.04 / sqrt(DISTINCT_ALL_REGS);
	r->per_error = 1.04 / sqrt(DISTINCT_PER_REGS);
	r->packets = slot[S_PACKETS];
	r->other_packets = slot[S_OTHER];
	r->count = (unsigned int)listed;
	r->per_values = (unsigned int)n;
	for (i = 0; i < listed; i++) {
		field_value_of(&es[i].key, &d->per_fs, &r->values[i].value);
		r->values[i].distinct = es[i].distinct;
		r->values[i].packets = es[i].packets;
	}
	free(es);
	free(d->snapshot);
	d->snapshot = r;
	*out = r;
	*size = sizeof(*r) + listed * sizeof(r->values[0]);
	return 0;
}

/* --- mapid, and the end -------------------------------------------------- */

/* Its maps, by address (fn_maps_*): the per table too when per. */
#define DISTINCT_MAPS(d) { &(d)->all_fd, &(d)->per_fd }
#define DISTINCT_NMAPS(d) ((d)->per ? 2 : 1)

static int distinct_share(const struct fn_instance *fi, int *fds, int max)
{
	struct distinct *d = fi->state;
	int *const maps[] = DISTINCT_MAPS(d);

	return fn_maps_share(fi, maps, DISTINCT_NMAPS(d), fds, max);
}

static int distinct_adopt(struct fn_instance *fi, const struct flow *f, const int *fds, int n)
{
	struct distinct *d = fi->state;
	int *const maps[] = DISTINCT_MAPS(d);

	(void)f;
	return fn_maps_adopt(fi, maps, DISTINCT_NMAPS(d), fds, n);
}

static void distinct_disconnect(struct fn_instance *fi)
{
	struct distinct *d = fi->state;
	int *const maps[] = DISTINCT_MAPS(d);

	fn_maps_close(fi, maps, 2);
}

static void distinct_release(struct fn_instance *fi)
{
	struct distinct *d = fi->state;

	if (!d)
		return;
	distinct_disconnect(fi);
	cbpf_prog_free(&d->prog);
	cbpf_prog_free(&d->per_prog);
	slottable_free(&d->table);
	free(d->snapshot);
	pthread_mutex_destroy(&d->lock);
	free(d);
	fi->state = NULL;
}

const struct fn_desc fn_distinct = {
	.name = "DISTINCT",
	.forms = { { "ii", "PROTOCOL FIELD" },
		   { "iiiiI", "PROTOCOL FIELD PER_PROTOCOL PER_FIELD [X]" } },
	.help = "how many distinct values a header field takes (TOP's TOPX_ names), over all "
		"packets and under each value of a per field, the X with most listed, e.g. "
		"DISTINCT TOPX_IP TOPX_IP_DSTIP TOPX_IP TOPX_IP_SRCIP: destinations per source "
		"(HyperLogLog; struct mapi_distinct_result)",
	.result = FN_RESULT_DISTINCT,
	.slots = DISTINCT_SLOTS,
	.prepare = distinct_prepare,
	.connect = distinct_connect,
	.emit = distinct_emit,
	.run = distinct_run,
	.read = distinct_read,
	.share = distinct_share,
	.adopt = distinct_adopt,
	.disconnect = distinct_disconnect,
	.release = distinct_release,
};
