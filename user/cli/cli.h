/* SPDX-License-Identifier: BSD-2-Clause */
/* What the mapi tool's subcommands share. */
#ifndef MAPI_CLI_H
#define MAPI_CLI_H

#include <signal.h>
#include <stdint.h>

/* Prints "mapi: MESSAGE" and exits with status 1. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Dies naming the option getopt refused (it prints nothing: opterr is 0). */
void die_bad_option(const char *cmd, char **argv) __attribute__((noreturn));
/* Dies with the library's last error, naming the call that failed. */
void die_mapi(const char *what) __attribute__((noreturn));

/* Whether descriptor fd (0 to 2) was closed when the tool started (it is
 * /dev/null now). */
int cli_std_closed(int fd);

/* The trailing arguments as one filter expression, as tcpdump takes it. */
char *join_args(int argc, char **argv);
/* The interface tcpdump would pick when none is given. */
const char *default_device(void);
/* A positive number of seconds (fractions allowed) for option opt. */
double parse_seconds(const char *s, const char *opt);
/* A positive integer for option opt; and one of at most max. */
unsigned long long parse_count(const char *s, const char *opt);
unsigned long long parse_count_max(const char *s, const char *opt, unsigned long long max);
/* MAPI_DIR_* of "in", "out" or "inout" (tcpdump's -Q). */
int parse_direction(const char *s);
/* MAPI_MODE_* of "auto", "native", "generic", "offload". */
int parse_mode(const char *s);

/*
 * A flow on dev for direction dir (MAPI_DIR_*) in attach mode `mode`, with
 * BPF_FILTER filter unless it is empty; dies on an error.
 */
int cli_flow(const char *dev, int dir, int mode, const char *filter);

/* A flow over the trace file path ("-": standard input), with BPF_FILTER
 * filter unless it is empty; dies on an error. */
int cli_trace_flow(const char *path, const char *filter);

/* One line for a packet, as tcpdump -nn would say it, shorter: the time,
 * In or Out (live), addresses and ports for IP, the type otherwise. */
struct mapipkt;
void cli_print_packet(const struct mapipkt *pkt);

/* Dies (exit 1) if anything written to standard output was lost, as to a
 * full disk: output is never dropped silently.  With flush, flushes first
 * (at the end; a write that fails later sets the stream's error). */
void cli_check_stdout(int flush);

/*
 * 1 if live flow fd has stopped because its interface went away (its
 * counts are final); dies on another error.  As tcpdump, the tool then
 * ends with status 1: cli_interface_gone() says why.
 */
int cli_flow_stopped(int fd);
int cli_interface_gone(const char *dev);

/* Wall clock, seconds since the epoch. */
double now_seconds(void);

/*
 * The stop signals (SIGINT, SIGTERM) in *stop.  Until the caller blocks
 * them (its flow runs: they are then taken between readings) they end the
 * program, while a filter compiles or a trace's header is awaited.
 */
void cli_stop_signals(sigset_t *stop);

/* Sleeps until `until` (wall clock; a day at most) or a signal of stop
 * (blocked); 1 if a signal came. */
int cli_wait_until(double until, const sigset_t *stop);

/* Installs the library's log callback; verbose also shows info messages. */
void cli_logging(int verbose);

int cmd_count(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_flows(int argc, char **argv);
int cmd_functions(int argc, char **argv);
int cmd_compile(int argc, char **argv);

#endif
