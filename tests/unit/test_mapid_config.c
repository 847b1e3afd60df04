/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mapid's configuration (user/mapid/config.c): what --check-config passes
 * for the metrics address, held against what the endpoint (http.c) then
 * does with it: an address the check refuses, http_start refuses as
 * malformed; one it passes, http_start takes, or refuses only for where
 * it is (taken, not on this machine), never for its form.  Then the
 * file's lines: label values and interface names that are not UTF-8, or
 * hold control characters, are refused with their line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include <cmocka.h>

#include "http.h"
#include "mapid.h"

static int render(void *ctx, int om, char **body, size_t *len)
{
	(void)ctx;
	(void)om;
	*body = strdup("");
	*len = 0;
	return *body ? 0 : -ENOMEM;
}

/* The verdicts of both on one address; port 0 where a port is given, so
 * that binding it takes a free one. */
static void same_verdict(const char *addr)
{
	struct mapid_config cfg;
	struct http_config hc = { 0 };
	struct http_server *h = NULL;
	char why[256] = "", hwhy[256] = "";
	int checked, started;

	config_defaults(&cfg);
	checked = config_set(&cfg, "metrics", addr, why, sizeof(why));
	snprintf(hc.listen, sizeof(hc.listen), "%s", checked ? addr : cfg.metrics);
	started = http_start(&hc, render, NULL, &h, hwhy, sizeof(hwhy));
	http_stop(h);
	if (checked && started != -EINVAL && started != -ENAMETOOLONG)
		fail_msg("\"%s\": refused by the check (%s), but http_start says %d (%s)", addr,
			 why, started, hwhy);
	if (!checked && (started == -EINVAL || started == -ENAMETOOLONG))
		fail_msg("\"%s\": passed the check as \"%s\", but http_start finds it malformed: "
			 "%s", addr, cfg.metrics, hwhy);
	if (checked && !*why)
		fail_msg("\"%s\": refused without a reason", addr);
	config_free(&cfg);
}

static void metrics_check_is_the_endpoints(void **state)
{
	static const char *const addrs[] = {
		"127.0.0.1:0", "0.0.0.0:0", "[::1]:0", "[::]:0", "localhost:0",
		"unix:/tmp/mapi-test-config-metrics.sock",
		"::1", "::1:0", "127.0.0.1:", ":0", "[::1", "[::1]x", "[::1]:", "[zz]:0",
		"127.1:0", "1.2.3.4.5:0", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:0x10",
		"unix:", "unix:relative", "[]:0", "host name:0",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		same_verdict(addrs[i]);
	unlink("/tmp/mapi-test-config-metrics.sock");
}

static void metrics_default_port(void **state)
{
	static const char *const in[] = { "127.0.0.1", "[::1]", "localhost", "unix:/run/m.sock",
					  "off", "" };
	char want[6][64];
	struct mapid_config cfg;
	char why[256];
	size_t i;

	(void)state;
	snprintf(want[0], sizeof(want[0]), "127.0.0.1:%d", METRICS_PORT_DEFAULT);
	snprintf(want[1], sizeof(want[1]), "[::1]:%d", METRICS_PORT_DEFAULT);
	snprintf(want[2], sizeof(want[2]), "localhost:%d", METRICS_PORT_DEFAULT);
	snprintf(want[3], sizeof(want[3]), "unix:/run/m.sock");
	want[4][0] = want[5][0] = 0;
	for (i = 0; i < 6; i++) {
		config_defaults(&cfg);
		assert_int_equal(config_set(&cfg, "metrics", in[i], why, sizeof(why)), 0);
		assert_string_equal(cfg.metrics, want[i]);
		config_free(&cfg);
	}
}

/* config_read of a file holding text: its verdict and message. */
static int read_file(const char *text, char *why, size_t len)
{
	char path[] = "/tmp/mapi-test-config-XXXXXX";
	struct mapid_source src = { .path = path };
	struct mapid_config cfg;
	int fd = mkstemp(path), ret;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ret = config_read(&cfg, &src, why, len);
	if (!ret)
		config_free(&cfg);
	unlink(path);
	return ret;
}

static void refused_at(const char *text, int line, const char *says)
{
	char why[512] = "", at[32];

	if (!read_file(text, why, sizeof(why)))
		fail_msg("passed: %s", text);
	snprintf(at, sizeof(at), ":%d: ", line);
	if (!strstr(why, at) || !strstr(why, says))
		fail_msg("want line %d and \"%s\", got: %s", line, says, why);
}

static void text_must_be_utf8(void **state)
{
	char why[512];

	(void)state;
	assert_int_equal(read_file("[flow a]\ninterface = lo\nlabel place = caf\xc3\xa9 \"x\" \\\n"
				   "function = PKT_COUNTER\n", why, sizeof(why)), 0);
	refused_at("[flow a]\ninterface = lo\nlabel place = caf\xe9\nfunction = PKT_COUNTER\n",
		   3, "must be UTF-8");
	/* a surrogate, encoded: not UTF-8 though it looks the part */
	refused_at("[flow a]\ninterface = lo\nlabel place = \xed\xa0\x80\n", 3, "must be UTF-8");
	refused_at("[flow a]\ninterface = lo\nlabel place = a\tb\n", 3, "control characters");
	refused_at("\n[flow a]\ninterface = m\xff\n", 3, "bad interface name");
	refused_at("\n\nmetrics = ::1\n", 3, "in brackets");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(metrics_check_is_the_endpoints),
		cmocka_unit_test(metrics_default_port),
		cmocka_unit_test(text_must_be_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
