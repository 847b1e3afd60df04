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
	int epoll_fd;		/* the ring and a wake-up eventfd */
	int wake_fd;		/* written to interrupt ring_wait() */
	uint64_t mask;		/* data size - 1 */
	void *consumer;		/* page: unsigned long consumer_pos */
	void *producer;		/* page: producer_pos, then the data twice */
	size_t producer_len;
};

/* Maps the ring buffer map map_fd of `size` bytes; 0 or negative errno. */
int ring_open(struct ring_reader *r, int map_fd, uint32_t size);
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

#endif
