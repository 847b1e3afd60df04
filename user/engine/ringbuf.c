/* SPDX-License-Identifier: BSD-2-Clause */
#include "ringbuf.h"

#include <errno.h>
#include <linux/bpf.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

int ring_open(struct ring_reader *r, int map_fd, uint32_t size, uint64_t *asleep)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	memset(r, 0, sizeof(*r));
	r->map_fd = map_fd;
	r->asleep = asleep;
	r->epoll_fd = r->wake_fd = -1;
	r->mask = size - 1;
	r->consumer = mmap(NULL, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (r->consumer == MAP_FAILED) {
		r->consumer = NULL;
		return -errno;
	}
	/* the producer page, then the data area twice (the kernel maps it so) */
	r->producer_len = page_size() + 2 * (size_t)size;
	r->producer = mmap(NULL, r->producer_len, PROT_READ, MAP_SHARED, map_fd,
			   (off_t)page_size());
	if (r->producer == MAP_FAILED) {
		r->producer = NULL;
		ret = -errno;
		goto fail;
	}
	r->cons = r->published = __atomic_load_n((unsigned long *)r->consumer, __ATOMIC_ACQUIRE);
	r->prod = r->cons;
	r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->epoll_fd < 0 || r->wake_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ev.data.fd = map_fd;
	if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, map_fd, &ev)) {
		ret = -errno;
		goto fail;
	}
	ev.data.fd = r->wake_fd;
	if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, r->wake_fd, &ev)) {
		ret = -errno;
		goto fail;
	}
	return 0;
fail:
	ring_close(r);
	return ret;
}

void ring_close(struct ring_reader *r)
{
	if (r->consumer)
		munmap(r->consumer, page_size());
	if (r->producer)
		munmap(r->producer, r->producer_len);
	if (r->epoll_fd >= 0)
		close(r->epoll_fd);
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	r->consumer = r->producer = NULL;
	r->epoll_fd = r->wake_fd = -1;
}

static unsigned long *consumer_pos(struct ring_reader *r)
{
	return r->consumer;
}

static unsigned long producer_pos(const struct ring_reader *r)
{
	return __atomic_load_n((unsigned long *)r->producer, __ATOMIC_ACQUIRE);
}

static const uint8_t *data_at(const struct ring_reader *r, unsigned long pos)
{
	return (const uint8_t *)r->producer + page_size() + (pos & r->mask);
}

/* The space a record of len bytes takes: header included, 8-aligned. */
static unsigned long record_span(uint32_t len)
{
	return ((unsigned long)len + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
}

/*
 * The consumer position is the reader's (r->cons) and is published to the
 * kernel in steps of RELEASE_FRACTION of the ring, or when the ring runs
 * dry: the page holding it is read by the producer for every record, and a
 * write a record would move that cache line between CPUs a packet.  The
 * producer position is read again only when the records known are used up.
 */
#define RELEASE_FRACTION 8

static void publish(struct ring_reader *r)
{
	unsigned long cons = __atomic_load_n(&r->cons, __ATOMIC_RELAXED);

	if (cons != r->published) {
		__atomic_store_n(consumer_pos(r), cons, __ATOMIC_RELEASE);
		r->published = cons;
	}
}

int ring_peek(struct ring_reader *r, const void **data, uint32_t *len)
{
	unsigned long cons = r->cons;

	for (;;) {
		const uint8_t *hdr;
		uint32_t word, n;

		if (cons >= r->prod) {
			r->prod = producer_pos(r);
			if (cons >= r->prod)
				break;
		}
		hdr = data_at(r, cons);
		word = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);
		n = word & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		if (word & BPF_RINGBUF_BUSY_BIT)
			break;	/* reserved, not yet committed: records stay in order */
		if (word & BPF_RINGBUF_DISCARD_BIT) {
			cons += record_span(n);
			__atomic_store_n(&r->cons, cons, __ATOMIC_RELAXED);
			continue;
		}
		*data = hdr + BPF_RINGBUF_HDR_SZ;
		*len = n;
		return 0;
	}
	publish(r);	/* dry: give the kernel all the room */
	return -EAGAIN;
}

void ring_consume(struct ring_reader *r)
{
	uint32_t word = __atomic_load_n((const uint32_t *)data_at(r, r->cons), __ATOMIC_ACQUIRE);
	unsigned long cons = r->cons;

	cons += record_span(word & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT));
	__atomic_store_n(&r->cons, cons, __ATOMIC_RELAXED);
	if (cons - r->published >= (r->mask + 1) / RELEASE_FRACTION)
		publish(r);
}

uint64_t ring_queued(struct ring_reader *r)
{
	unsigned long pos = __atomic_load_n(&r->cons, __ATOMIC_RELAXED);
	unsigned long prod = producer_pos(r);
	uint64_t n = 0;

	while (pos < prod) {
		uint32_t word = __atomic_load_n((const uint32_t *)data_at(r, pos),
						__ATOMIC_ACQUIRE);

		if (word & BPF_RINGBUF_BUSY_BIT)
			break;
		n += !(word & BPF_RINGBUF_DISCARD_BIT);
		pos += record_span(word & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT));
	}
	return n;
}

/* Whether the ring holds a record; a full barrier first, against a
 * producer that commits a record and then reads the reader's state. */
static int ring_ready(struct ring_reader *r)
{
	const void *data;
	uint32_t len;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !ring_peek(r, &data, &len);
}

int ring_wait(struct ring_reader *r, int timeout_ms)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : monotonic_ns() + (uint64_t)timeout_ms * 1000000u;
	struct epoll_event ev[2];
	int n, i, ret = 0;

	for (;;) {
		long left = -1;
		int nap = -1;

		if (ring_ready(r))
			break;
		if (deadline) {
			uint64_t now = monotonic_ns();

			if (now >= deadline) {
				ret = -ETIMEDOUT;
				break;
			}
			left = (long)((deadline - now + 999999) / 1000000);
		}
		/* Going to sleep (or woken by a producer, which then cleared the
		 * flag, yet finding nothing): say since when, then look again,
		 * since a record committed before the producer could see it is
		 * found here.  For RING_QUIET_NS the producer does not wake us:
		 * look by ourselves after RING_NAP_MS.  Asleep longer, we are
		 * woken at the next record. */
		if (r->asleep && !__atomic_load_n(r->asleep, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(r->asleep, monotonic_ns(), __ATOMIC_SEQ_CST);
			if (ring_ready(r))
				break;
			nap = RING_NAP_MS;
		}
		if (left >= 0 && (nap < 0 || left < nap))
			nap = (int)left;
		n = epoll_wait(r->epoll_fd, ev, 2, nap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.fd == r->wake_fd)
				ret = -EINTR;
			else if (ev[i].data.fd != r->map_fd)
				ret = -ECONNRESET;	/* a watched descriptor says stop */
		}
		if (ret)
			break;
	}
	if (r->asleep)
		__atomic_store_n(r->asleep, 0, __ATOMIC_RELEASE);
	return ret;
}

int ring_watch(struct ring_reader *r, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

void ring_interrupt(struct ring_reader *r)
{
	uint64_t one = 1;

	if (r->wake_fd >= 0 && write(r->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is already set: the waiters are woken anyway */
	}
}
