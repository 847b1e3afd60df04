/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The consumer side of a BPF ring buffer map, read one record at a time.
 *
 * libbpf's ring_buffer__consume() hands every waiting record to a
 * callback; MAPI hands packets over one call at a time
 * (mapi_get_next_pkt), so the library reads the ring itself: the kernel's
 * layout is a page with the consumer position (ours to write), a page
 * with the producer position, and the data area mapped twice in a row, so
 * that a record that wraps around reads as one piece.
 */
#ifndef MAPI_RINGBUF_H
#define MAPI_RINGBUF_H

#include <stddef.h>
#include <stdint.h>

struct ring_reader {
	int map_fd;
	uint64_t *asleep;	/* since when ring_wait() sleeps (0: awake), or NULL */
	int epoll_fd;		/* the ring and a wake-up eventfd */
	int wake_fd;		/* written to interrupt ring_wait() */
	uint64_t mask;		/* data size - 1 */
	void *consumer;		/* page: unsigned long consumer_pos */
	void *producer;		/* page: producer_pos, then the data twice */
	size_t producer_len;
	unsigned long cons;	/* next record to read (atomic: ring_queued) */
	unsigned long published;	/* consumer position the kernel has */
	unsigned long prod;	/* producer position last read */
};

/*
 * Waking a reader costs the producer an interrupt and the reader a context
 * switch: once a packet, that would halve what a ring carries.  So the
 * producer wakes the reader only when it sleeps, and then either at once if
 * it has slept RING_QUIET_NS (traffic is sparse: no wait) or when
 * RING_WAKE_BYTES wait (traffic is dense: a batch).  A reader that has
 * just gone to sleep therefore looks at the ring by itself after
 * RING_NAP_MS, longer than RING_QUIET_NS; from then on the producer wakes
 * it at the next record, so a packet never waits more than RING_NAP_MS.
 *
 * asleep (or NULL) is a u64 shared with the producer: the CLOCK_MONOTONIC
 * time when the reader went to sleep, or 0 while it reads.
 */
#define RING_QUIET_NS 1000000ull
#define RING_WAKE_BYTES(ring_size) ((ring_size) / 16)
#define RING_NAP_MS 2

/* Maps the ring buffer map map_fd of `size` bytes; 0 or negative errno. */
int ring_open(struct ring_reader *r, int map_fd, uint32_t size, uint64_t *asleep);
void ring_close(struct ring_reader *r);

/*
 * The oldest record not yet consumed: 0 with *data and *len set (valid
 * until ring_consume()), or -EAGAIN when the ring is empty.  Discarded
 * records are skipped.
 */
int ring_peek(struct ring_reader *r, const void **data, uint32_t *len);
/* Frees the record ring_peek() returned, for the kernel to reuse. */
void ring_consume(struct ring_reader *r);

/* Records waiting (walks the ring; for statistics). */
uint64_t ring_queued(struct ring_reader *r);

/*
 * Waits until the ring has a record (0), ring_interrupt() is called
 * (-EINTR), or timeout_ms passes (-ETIMEDOUT; < 0 waits forever).
 */
int ring_wait(struct ring_reader *r, int timeout_ms);
/* Wakes every ring_wait() of r, now and until ring_close(). */
void ring_interrupt(struct ring_reader *r);

/* ring_wait() also ends, with -ECONNRESET, on the epoll events of fd:
 * EPOLLRDHUP of mapid's socket (the daemon that runs the ring's flow went
 * away), EPOLLIN of a link watch (the ring's interface went away). */
int ring_watch(struct ring_reader *r, int fd, uint32_t events);

#endif
