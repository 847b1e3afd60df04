/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HASHSAMP(RANGE, KEEP), MAPI 2.0's: a filter that keeps whole TCP and UDP
 * conversations, those whose hash of the 5-tuple (the same both ways) is
 * below RANGE of 1024: a sample of conversations, not of packets.
 *
 * The hash is a classic program (fields.h, conv_sample_program), so the
 * kernel runs its translation and a trace runs it in cbpf_exec: the same
 * conversations both ways.  KEEP 1, MAPI 2.0's records of the sampled
 * packets' headers, is what a TO_BUFFER after it gives (with a snap length
 * of the headers): refused with a message saying so.
 */
#include <errno.h>
#include <stdlib.h>

#include "codegen.h"
#include "error.h"
#include "fields.h"
#include "functions.h"

static int hashsamp_prepare(struct fn_instance *fi, const struct flow *f)
{
	long long range = fi->args[0].v.i, keep = fi->args[1].v.i;
	struct cbpf_prog *prog;
	int ret;

	(void)f;
	if (range < 0 || range > 1 << CONV_HASH_BITS)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 1,
			       "HASHSAMP RANGE %lld: 0 to %d (of %d hash values)", range,
			       1 << CONV_HASH_BITS, 1 << CONV_HASH_BITS);
	if (keep == 1)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2,
			       "HASHSAMP KEEP 1: its headers come from a TO_BUFFER after it "
			       "(TO_BUFFER(MAPI_WAIT, 96, 0) keeps the first 96 bytes)");
	if (keep)
		return err_set(-EINVAL, MAPI_INVALID_ARGUMENT + 2, "HASHSAMP KEEP %lld: 0", keep);
	prog = calloc(1, sizeof(*prog));
	if (!prog)
		return -ENOMEM;
	fi->state = prog;
	ret = conv_sample_program((uint32_t)range, prog);
	return ret;
}

static int hashsamp_emit(struct codegen *cg, const struct fn_instance *fi)
{
	struct xlate_env env;

	cg_xlate_env(cg, &env);	/* rejects to the flow's end: a filter */
	return cbpf_translate(&cg->pb, fi->state, &env);
}

static int hashsamp_run(struct fn_instance *fi, struct flow *f, const struct trace_pkt *p)
{
	uint32_t mem[CBPF_MEMWORDS];

	(void)f;
	return cbpf_exec(fi->state, p->data, p->caplen, p->wlen, mem) != 0;
}

static void hashsamp_release(struct fn_instance *fi)
{
	if (fi->state) {
		cbpf_prog_free(fi->state);
		free(fi->state);
		fi->state = NULL;
	}
}

const struct fn_desc fn_hashsamp = {
	.name = "HASHSAMP",
	.forms = { { "iI", "RANGE [KEEP]" } },
	.help = "keep whole TCP and UDP conversations: those whose 5-tuple hash, the same both "
		"ways, is below RANGE of 1024 (KEEP 0; MAPI 2.0's KEEP 1 records are a TO_BUFFER "
		"after it)",
	.result = FN_RESULT_NONE,
	.offloadable = 1,
	.prepare = hashsamp_prepare,
	.emit = hashsamp_emit,
	.run = hashsamp_run,
	.release = hashsamp_release,
};
