/* SPDX-License-Identifier: Apache-2.0 */
#include "core/core.h"

#include <fcntl.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

enum nvb_log_level nvb_log_current = NVB_LOG_WARN;
static enum nvb_log_format log_format = NVB_LOG_TEXT;
static int log_fd = STDERR_FILENO;
/* A library caller's callback (nvb_log_set_callback) takes the place of log_fd. */
static nvb_log_fn log_callback;
static void *log_callback_data;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

int nvb_log_level_parse(const char *name, enum nvb_log_level *out)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(level_names); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum nvb_log_level)i;
			return 0;
		}
	}
	if (strcasecmp(name, "warning") == 0) {
		*out = NVB_LOG_WARN;
		return 0;
	}
	return -1;
}

int nvb_log_format_parse(const char *name, enum nvb_log_format *out)
{
	if (strcmp(name, "text") == 0)
		*out = NVB_LOG_TEXT;
	else if (strcmp(name, "json") == 0)
		*out = NVB_LOG_JSON;
	else
		return -1;
	return 0;
}

int nvb_log_setup(enum nvb_log_level level, enum nvb_log_format format, const char *file,
		  struct nvb_error *err)
{
	if (file && strcmp(file, "-") != 0) {
		int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd < 0)
			return nvb_error_errno(err, errno, "choose a writable log file with --log-file",
					       "cannot open log file %s", file);
		if (log_fd != STDERR_FILENO)
			close(log_fd);
		log_fd = fd;
	}
	nvb_log_current = level;
	log_format = format;
	return 0;
}

void nvb_log_set_callback(nvb_log_fn fn, void *user_data)
{
	log_callback_data = user_data;
	log_callback = fn;
}

void nvb_log_set_level(enum nvb_log_level level)
{
	nvb_log_current = level;
}

/* JSON string escaping for the few characters that can appear in log messages. */
static size_t json_escape(char *out, size_t cap, const char *in)
{
	size_t o = 0;
	for (; *in && o + 7 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o;
}

/* Control characters of a text-format message as escapes (\n, \r, \t, \xNN): a value taken
 * from a container (an environment variable, a path) must not start a forged log line. */
static void text_escape(char *out, size_t cap, const char *in)
{
	size_t o = 0;
	for (; *in && o + 5 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '\n' || c == '\r' || c == '\t') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

void nvb_log_write(enum nvb_log_level level, const char *module, const char *fmt, ...)
{
	char msg[2048], line[4608];
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nvb_log_fn callback = log_callback;
	if (callback) {
		char esc[4096];
		text_escape(esc, sizeof(esc), msg);
		callback(level, module, esc, log_callback_data);
		errno = saved;
		return;
	}

	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char ts[40];
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
	const char *lvl = level_names[level < NVB_ARRAY_SIZE(level_names) ? level : 0];
	int n;
	if (log_format == NVB_LOG_JSON) {
		char esc[4096];
		json_escape(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line),
			     "{\"time\":\"%s\",\"level\":\"%s\",\"module\":\"%s\",\"pid\":%ld,\"msg\":\"%s\"}\n",
			     ts, lvl, module, (long)getpid(), esc);
	} else {
		char esc[4096];
		text_escape(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line), "nvbind[%ld] %s %-5s %s: %s\n", (long)getpid(), ts,
			     lvl, module, esc);
	}
	if (n > 0) {
		size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
		/* one write() per line keeps lines whole when several processes share the file */
		ssize_t w = write(log_fd, line, len);
		(void)w;
	}
	errno = saved;
}

/* Read NVBIND_LOG_LEVEL once, when the library is loaded. */
__attribute__((constructor)) static void log_init_from_env(void)
{
	const char *lvl = getenv("NVBIND_LOG_LEVEL");
	enum nvb_log_level l;
	if (lvl && nvb_log_level_parse(lvl, &l) == 0)
		nvb_log_current = l;
}
