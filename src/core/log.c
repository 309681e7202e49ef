/* SPDX-License-Identifier: Apache-2.0 */
#include "core/core.h"

#include <fcntl.h>
#include <sys/stat.h>
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

/* ---- structured fields (docs/logging.md) ---- */

static char log_program[64];
static char ctx_container[256], ctx_request[1024], ctx_gpus[1024];

void nvb_log_set_program(const char *name)
{
	snprintf(log_program, sizeof(log_program), "%s", name ? name : "");
}

static void ctx_set(char *dst, size_t cap, const char *v)
{
	snprintf(dst, cap, "%s", v ? v : "");
}

void nvb_log_set_context(const struct nvb_log_fields *ctx)
{
	ctx_set(ctx_container, sizeof(ctx_container), ctx ? ctx->container : NULL);
	ctx_set(ctx_request, sizeof(ctx_request), ctx ? ctx->request : NULL);
	ctx_set(ctx_gpus, sizeof(ctx_gpus), ctx ? ctx->gpus : NULL);
}

static const char *program_name(void)
{
	extern char *program_invocation_short_name;
	return log_program[0] ? log_program : program_invocation_short_name;
}

/* the line's own value, else the context's; NULL when neither says */
static const char *field(const char *own, const char *ctx)
{
	return own && *own ? own : *ctx ? ctx : NULL;
}

struct line_buf {
	char *s;
	size_t cap, len;
};

static void put(struct line_buf *b, const char *fmt, ...) NVB_PRINTF(2, 3);
static void put(struct line_buf *b, const char *fmt, ...)
{
	if (b->len >= b->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len = b->len + (size_t)n < b->cap ? b->len + (size_t)n : b->cap - 1;
}

static void put_json_str(struct line_buf *b, const char *key, const char *v)
{
	char esc[2048];
	json_escape(esc, sizeof(esc), v);
	put(b, ",\"%s\":\"%s\"", key, esc);
}

/* a space-separated list as a JSON array of strings */
static void put_json_list(struct line_buf *b, const char *key, const char *list)
{
	put(b, ",\"%s\":[", key);
	bool first = true;
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, " ");
		if (n) {
			char word[512], esc[1024];
			snprintf(word, sizeof(word), "%.*s", (int)n, p);
			json_escape(esc, sizeof(esc), word);
			put(b, "%s\"%s\"", first ? "" : ",", esc);
			first = false;
		}
		p += n;
		p += *p == ' ';
	}
	put(b, "]");
}

static void format_json(struct line_buf *b, const char *ts, const char *lvl, const char *module,
			const struct nvb_log_fields *f, const char *msg)
{
	char esc[4096];
	json_escape(esc, sizeof(esc), msg);
	put(b, "{\"time\":\"%s\",\"level\":\"%s\"", ts, lvl);
	put_json_str(b, "program", program_name());
	put(b, ",\"module\":\"%s\",\"pid\":%ld", module, (long)getpid());
	const char *v;
	if ((v = field(f ? f->container : NULL, ctx_container)))
		put_json_str(b, "container", v);
	if ((v = field(f ? f->request : NULL, ctx_request)))
		put_json_list(b, "request", v);
	if ((v = field(f ? f->gpus : NULL, ctx_gpus)))
		put_json_list(b, "gpus", v);
	if (f && f->duration_us >= 0)
		put(b, ",\"duration_us\":%lld", f->duration_us);
	if (f && f->error && *f->error)
		put_json_str(b, "error", f->error);
	put(b, ",\"msg\":\"%s\"}\n", esc);
}

/* journald's priority of a level (sd-daemon.h's SD_ERR ... SD_DEBUG) */
static int journal_priority(enum nvb_log_level level)
{
	static const int prio[] = {3, 4, 6, 7, 7};
	return prio[level < NVB_ARRAY_SIZE(prio) ? level : 0];
}

/* JOURNAL_STREAM names the device and inode of the stream systemd connected: only a log
 * going there takes the <N> prefixes (a --log-file under systemd does not). */
static bool to_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(log_fd, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static void format_text(struct line_buf *b, const char *ts, enum nvb_log_level level,
			const char *module, const struct nvb_log_fields *f, const char *msg)
{
	char esc[4096];
	text_escape(esc, sizeof(esc), msg);
	const char *lvl = level_names[level < NVB_ARRAY_SIZE(level_names) ? level : 0];
	if (to_journal()) /* journald adds the time and the pid itself */
		put(b, "<%d>%s: %s", journal_priority(level), module, esc);
	else
		put(b, "%s[%ld] %s %-5s %s: %s", program_name(), (long)getpid(), ts, lvl, module, esc);
	const char *v;
	if ((v = field(f ? f->container : NULL, ctx_container))) {
		text_escape(esc, sizeof(esc), v);
		put(b, " container=%s", esc);
	}
	if (f && f->duration_us >= 0)
		put(b, " duration_us=%lld", f->duration_us);
	if (f && f->error && *f->error)
		put(b, " error=%s", f->error);
	put(b, "\n");
}

static void log_vwrite(enum nvb_log_level level, const char *module,
		       const struct nvb_log_fields *f, const char *fmt, va_list ap)
{
	char msg[2048], line[8192];
	int saved = errno;
	vsnprintf(msg, sizeof(msg), fmt, ap);
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
	nvb_utc_tm(tv.tv_sec, &tm);
	char ts[40];
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
	struct line_buf b = {line, sizeof(line), 0};
	line[0] = '\0';
	if (log_format == NVB_LOG_JSON)
		format_json(&b, ts, level_names[level < NVB_ARRAY_SIZE(level_names) ? level : 0],
			    module, f, msg);
	else
		format_text(&b, ts, level, module, f, msg);
	if (b.len > 0 && line[b.len - 1] != '\n')
		line[b.len - 1] = '\n'; /* cut short: still one whole line */
	/* one write() per line keeps lines whole when several processes share the file */
	ssize_t w = write(log_fd, line, b.len);
	(void)w;
	errno = saved;
}

void nvb_log_write(enum nvb_log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(level, module, NULL, fmt, ap);
	va_end(ap);
}

void nvb_log_write_fields(enum nvb_log_level level, const char *module,
			  const struct nvb_log_fields *line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(level, module, line, fmt, ap);
	va_end(ap);
}

/* Read NVBIND_LOG_LEVEL and NVBIND_LOG_FORMAT once, when the library is loaded: the only
 * settings of nvbind-hook's log, which runc starts with the container's hook environment. */
__attribute__((constructor)) static void log_init_from_env(void)
{
	const char *lvl = getenv("NVBIND_LOG_LEVEL");
	enum nvb_log_level l;
	if (lvl && nvb_log_level_parse(lvl, &l) == 0)
		nvb_log_current = l;
	const char *fmt = getenv("NVBIND_LOG_FORMAT");
	enum nvb_log_format f;
	if (fmt && nvb_log_format_parse(fmt, &f) == 0)
		log_format = f;
}
