/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind migrate: the NVIDIA Container Toolkit's settings and Docker GPU command lines, in
 * nvbind's terms (migrate.h). */
#include <inttypes.h>
#include <jansson.h>
#include <strings.h>

#include "cdi/cdi.h"
#include "config/config.h"
#include "migrate/migrate.h"
#include "format/toml.h"

/* ------------------------------------------------------------------------------------------ */
/* string lists */

int nvb_strv_add(struct nvb_strv *l, const char *s)
{
	char *copy = strdup(s ? s : "");
	if (!copy)
		return -1;
	char **slot = nvb_array_push(&l->v, &l->n, sizeof(char *));
	if (!slot) {
		free(copy);
		return -1;
	}
	*slot = copy;
	return 0;
}

int nvb_strv_addf(struct nvb_strv *l, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	char **slot = nvb_array_push(&l->v, &l->n, sizeof(char *));
	if (!slot) {
		free(s);
		return -1;
	}
	*slot = s;
	return 0;
}

void nvb_strv_free(struct nvb_strv *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int strv_add_all(struct nvb_strv *dst, const struct nvb_strv *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (nvb_strv_add(dst, src->v[i]) < 0)
			return -1;
	return 0;
}

/* A growing text buffer. */
struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void buf_add(struct buf *b, const char *fmt, ...) NVB_PRINTF(2, 3);
static void buf_add(struct buf *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 256) + (size_t)n;
		char *p = realloc(b->s, cap);
		if (!p) {
			free(s);
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, (size_t)n + 1);
	b->len += (size_t)n;
	free(s);
}

static char *buf_take(struct buf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	if (!b->s)
		return strdup("");
	return b->s;
}

/* ------------------------------------------------------------------------------------------ */
/* shell words */

char *nvb_shell_quote(const char *word)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789-_./=:,+@%";
	if (*word && strspn(word, plain) == strlen(word))
		return strdup(word);
	struct buf b = {0};
	buf_add(&b, "'");
	for (const char *p = word; *p; p++) {
		if (*p == '\'')
			buf_add(&b, "'\\''");
		else
			buf_add(&b, "%c", *p);
	}
	buf_add(&b, "'");
	return buf_take(&b);
}

char *nvb_shell_join(char *const *words, size_t n)
{
	struct buf b = {0};
	for (size_t i = 0; i < n; i++) {
		char *q = nvb_shell_quote(words[i]);
		if (!q) {
			b.oom = true;
			break;
		}
		buf_add(&b, "%s%s", i ? " " : "", q);
		free(q);
	}
	return buf_take(&b);
}

int nvb_shell_split(const char *line, struct nvb_strv *out, struct nvb_error *err)
{
	struct buf w = {0};
	bool in_word = false;
	const char *p = line;
	while (*p) {
		char c = *p;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (in_word) {
				char *s = buf_take(&w);
				int r = s ? nvb_strv_add(out, s) : -1;
				free(s);
				if (r < 0)
					return nvb_error_nomem(err);
				memset(&w, 0, sizeof(w));
				in_word = false;
			}
			p++;
			continue;
		}
		if (c == '\\' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'))) {
			p += p[1] == '\n' ? 2 : 3; /* continuation */
			continue;
		}
		in_word = true;
		if (c == '\\') {
			if (p[1])
				buf_add(&w, "%c", p[1]);
			p += p[1] ? 2 : 1;
			continue;
		}
		if (c == '\'') {
			const char *end = strchr(p + 1, '\'');
			if (!end) {
				free(w.s);
				return nvb_error_set(err, NVB_ERR_USAGE, 0, "close the quote",
						     "unterminated ' in the command line");
			}
			buf_add(&w, "%.*s", (int)(end - p - 1), p + 1);
			if (end == p + 1 && !w.s) /* '' is an empty word */
				buf_add(&w, "%s", "");
			p = end + 1;
			continue;
		}
		if (c == '"') {
			p++;
			if (!w.s)
				buf_add(&w, "%s", "");
			while (*p && *p != '"') {
				if (*p == '\\' && p[1] && strchr("\"\\$`\n", p[1])) {
					if (p[1] != '\n')
						buf_add(&w, "%c", p[1]);
					p += 2;
					continue;
				}
				buf_add(&w, "%c", *p++);
			}
			if (*p != '"') {
				free(w.s);
				return nvb_error_set(err, NVB_ERR_USAGE, 0, "close the quote",
						     "unterminated \" in the command line");
			}
			p++;
			continue;
		}
		buf_add(&w, "%c", c);
		p++;
	}
	if (in_word) {
		char *s = buf_take(&w);
		int r = s ? nvb_strv_add(out, s) : -1;
		free(s);
		if (r < 0)
			return nvb_error_nomem(err);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* docker's options */

struct dopt {
	const char *name; /* long name */
	char shorthand;
	bool value;       /* takes a value */
};

/* docker run (docker/cli cli/command/container/opts.go and run.go), Docker 20.10 to 28. */
static const struct dopt run_opts[] = {
	{"add-host", 0, true},
	{"annotation", 0, true},
	{"attach", 'a', true},
	{"blkio-weight", 0, true},
	{"blkio-weight-device", 0, true},
	{"cap-add", 0, true},
	{"cap-drop", 0, true},
	{"cgroup-parent", 0, true},
	{"cgroupns", 0, true},
	{"cidfile", 0, true},
	{"cpu-count", 0, true},
	{"cpu-percent", 0, true},
	{"cpu-period", 0, true},
	{"cpu-quota", 0, true},
	{"cpu-rt-period", 0, true},
	{"cpu-rt-runtime", 0, true},
	{"cpu-shares", 'c', true},
	{"cpus", 0, true},
	{"cpuset-cpus", 0, true},
	{"cpuset-mems", 0, true},
	{"detach", 'd', false},
	{"detach-keys", 0, true},
	{"device", 0, true},
	{"device-cgroup-rule", 0, true},
	{"device-read-bps", 0, true},
	{"device-read-iops", 0, true},
	{"device-write-bps", 0, true},
	{"device-write-iops", 0, true},
	{"disable-content-trust", 0, false},
	{"dns", 0, true},
	{"dns-opt", 0, true},
	{"dns-option", 0, true},
	{"dns-search", 0, true},
	{"domainname", 0, true},
	{"entrypoint", 0, true},
	{"env", 'e', true},
	{"env-file", 0, true},
	{"expose", 0, true},
	{"gpus", 0, true},
	{"group-add", 0, true},
	{"health-cmd", 0, true},
	{"health-interval", 0, true},
	{"health-retries", 0, true},
	{"health-start-interval", 0, true},
	{"health-start-period", 0, true},
	{"health-timeout", 0, true},
	{"help", 0, false},
	{"hostname", 'h', true},
	{"init", 0, false},
	{"interactive", 'i', false},
	{"io-maxbandwidth", 0, true},
	{"io-maxiops", 0, true},
	{"ip", 0, true},
	{"ip6", 0, true},
	{"ipc", 0, true},
	{"isolation", 0, true},
	{"kernel-memory", 0, true},
	{"label", 'l', true},
	{"label-file", 0, true},
	{"link", 0, true},
	{"link-local-ip", 0, true},
	{"log-driver", 0, true},
	{"log-opt", 0, true},
	{"mac-address", 0, true},
	{"memory", 'm', true},
	{"memory-reservation", 0, true},
	{"memory-swap", 0, true},
	{"memory-swappiness", 0, true},
	{"mount", 0, true},
	{"name", 0, true},
	{"net", 0, true},
	{"net-alias", 0, true},
	{"network", 0, true},
	{"network-alias", 0, true},
	{"no-healthcheck", 0, false},
	{"oom-kill-disable", 0, false},
	{"oom-score-adj", 0, true},
	{"pid", 0, true},
	{"pids-limit", 0, true},
	{"platform", 0, true},
	{"privileged", 0, false},
	{"publish", 'p', true},
	{"publish-all", 'P', false},
	{"pull", 0, true},
	{"quiet", 'q', false},
	{"read-only", 0, false},
	{"restart", 0, true},
	{"rm", 0, false},
	{"runtime", 0, true},
	{"security-opt", 0, true},
	{"shm-size", 0, true},
	{"sig-proxy", 0, false},
	{"stop-signal", 0, true},
	{"stop-timeout", 0, true},
	{"storage-opt", 0, true},
	{"sysctl", 0, true},
	{"tmpfs", 0, true},
	{"tty", 't', false},
	{"ulimit", 0, true},
	{"use-api-socket", 0, false},
	{"user", 'u', true},
	{"userns", 0, true},
	{"uts", 0, true},
	{"volume", 'v', true},
	{"volume-driver", 0, true},
	{"volumes-from", 0, true},
	{"workdir", 'w', true},
};

/* docker's global options (before the subcommand) */
static const struct dopt global_opts[] = {
	{"config", 0, true},  {"context", 'c', true}, {"debug", 'D', false},
	{"host", 'H', true},  {"log-level", 'l', true}, {"tls", 0, false},
	{"tlscacert", 0, true}, {"tlscert", 0, true}, {"tlskey", 0, true},
	{"tlsverify", 0, false},
};

static const struct dopt *find_long(const struct dopt *t, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(t[i].name) == len && !strncmp(t[i].name, name, len))
			return &t[i];
	return NULL;
}

static const struct dopt *find_short(const struct dopt *t, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].shorthand == c)
			return &t[i];
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* --gpus */

/* One record of Go's encoding/csv (comma ',', no lazy quotes). quoted[i] tells whether the
 * field was in double quotes. */
static int csv_fields(const char *s, struct nvb_strv *fields, bool **quoted, struct nvb_error *err)
{
	const char *p = s;
	size_t nq = 0;
	for (;;) {
		struct buf f = {0};
		bool q = false;
		buf_add(&f, "%s", "");
		if (*p == '"') {
			q = true;
			p++;
			for (;;) {
				if (!*p) {
					free(f.s);
					return nvb_error_set(err, NVB_ERR_USAGE, 0,
							     "close the quote in the --gpus value",
							     "--gpus '%s': extraneous or missing \" in quoted field", s);
				}
				if (*p == '"' && p[1] == '"') {
					buf_add(&f, "\"");
					p += 2;
					continue;
				}
				if (*p == '"') {
					p++;
					break;
				}
				buf_add(&f, "%c", *p++);
			}
			if (*p && *p != ',' && *p != '\n') {
				free(f.s);
				return nvb_error_set(err, NVB_ERR_USAGE, 0,
						     "quote the whole field: '\"device=0,1\"'",
						     "--gpus '%s': extraneous or missing \" in quoted field", s);
			}
		} else {
			while (*p && *p != ',' && *p != '\n') {
				if (*p == '"') {
					free(f.s);
					return nvb_error_set(err, NVB_ERR_USAGE, 0,
							     "quote the whole field: '\"device=0,1\"'",
							     "--gpus '%s': bare \" in non-quoted field", s);
				}
				buf_add(&f, "%c", *p++);
			}
			if (f.len && f.s[f.len - 1] == '\r')
				f.s[--f.len] = '\0';
		}
		char *text = buf_take(&f);
		bool *nq_arr = text ? realloc(*quoted, (nq + 1) * sizeof(bool)) : NULL;
		if (!text || !nq_arr || nvb_strv_add(fields, text) < 0) {
			free(text);
			if (nq_arr)
				*quoted = nq_arr;
			return nvb_error_nomem(err);
		}
		free(text);
		*quoted = nq_arr;
		(*quoted)[nq++] = q;
		if (*p != ',')
			break;
		p++;
	}
	return 0;
}

static bool parse_count(const char *s, long *out)
{
	if (!strcmp(s, "all")) {
		*out = -1;
		return true;
	}
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < -1 || v > 1024)
		return false;
	*out = v;
	return true;
}

static const char *const nvidia_caps[] = {"compute", "compat32", "graphics", "utility", "video",
					  "display"};

int nvb_docker_gpus_parse(const char *value, char **devices, char **caps, struct nvb_strv *warnings,
			  struct nvb_error *err)
{
	*devices = NULL;
	*caps = NULL;
	if (!*value)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "use --gpus all, --gpus 2 or --gpus '\"device=0,1\"'",
				     "--gpus: empty value");
	struct nvb_strv fields = {0};
	_cleanup_free_ bool *quoted = NULL;
	if (csv_fields(value, &fields, &quoted, err) < 0) {
		nvb_strv_free(&fields);
		return -1;
	}
	struct nvb_strv dev = {0}, capw = {0};
	long count = 0;
	bool seen_count = false, seen_device = false, seen_caps = false, seen_driver = false,
	     seen_options = false, continued = false;
	const char *last_key = NULL; /* device / capabilities: where a bare field may belong */
	int rc = -1;
	for (size_t i = 0; i < fields.n; i++) {
		const char *field = fields.v[i];
		const char *eq = strchr(field, '=');
		if (!eq) {
			long c;
			if (last_key && !quoted[i]) {
				/* `--gpus device=0,2` / `--gpus capabilities=compute,utility`: docker reads
				 * the field after the comma as a count and fails; the meaning is plain */
				if (nvb_strv_add(!strcmp(last_key, "device") ? &dev : &capw, field) < 0)
					goto oom;
				continued = true;
				continue;
			}
			if (seen_count) {
				nvb_error_set(err, NVB_ERR_USAGE, 0, NULL,
					      "--gpus '%s': gpu request key 'count' can be specified only once", value);
				goto out;
			}
			seen_count = true;
			if (!parse_count(field, &c)) {
				nvb_error_set(err, NVB_ERR_USAGE, 0,
					      "use all, a number, or key=value fields: count, device, capabilities, driver, options",
					      "--gpus '%s': '%s': count must be an integer", value, field);
				goto out;
			}
			count = c;
			continue;
		}
		size_t klen = (size_t)(eq - field);
		const char *val = eq + 1;
		bool *seen = NULL;
		const char *key = NULL;
		if (klen == 5 && !strncmp(field, "count", 5)) {
			seen = &seen_count, key = "count";
		} else if (klen == 6 && !strncmp(field, "device", 6)) {
			seen = &seen_device, key = "device";
		} else if (klen == 12 && !strncmp(field, "capabilities", 12)) {
			seen = &seen_caps, key = "capabilities";
		} else if (klen == 6 && !strncmp(field, "driver", 6)) {
			seen = &seen_driver, key = "driver";
		} else if (klen == 7 && !strncmp(field, "options", 7)) {
			seen = &seen_options, key = "options";
		} else {
			nvb_error_set(err, NVB_ERR_USAGE, 0,
				      "the keys are count, device, capabilities, driver and options",
				      "--gpus '%s': unexpected key '%.*s' in '%s'", value, (int)klen, field, field);
			goto out;
		}
		if (*seen) {
			nvb_error_set(err, NVB_ERR_USAGE, 0, NULL,
				      "--gpus '%s': gpu request key '%s' can be specified only once", value, key);
			goto out;
		}
		*seen = true;
		last_key = NULL;
		if (!strcmp(key, "count")) {
			long c;
			if (!parse_count(val, &c)) {
				nvb_error_set(err, NVB_ERR_USAGE, 0, "use count=all or count=N",
					      "--gpus '%s': count must be an integer", value);
				goto out;
			}
			count = c;
		} else if (!strcmp(key, "device") || !strcmp(key, "capabilities")) {
			_cleanup_free_ char *copy = strdup(val);
			if (!copy)
				goto oom;
			char *save = NULL;
			for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
				if (nvb_strv_add(key[0] == 'd' ? &dev : &capw, w) < 0)
					goto oom;
			last_key = key;
		} else if (!strcmp(key, "driver")) {
			if (*val && strcmp(val, "nvidia") &&
			    nvb_strv_addf(warnings, "--gpus driver=%s: not the NVIDIA driver; translated as an NVIDIA GPU request", val) < 0)
				goto oom;
		} else if (nvb_strv_addf(warnings, "--gpus options=%s: driver options are ignored", val) < 0) {
			goto oom;
		}
	}
	if (continued && nvb_strv_addf(warnings,
				       "--gpus %s: docker reads the part after the first comma as a "
				       "count and refuses it; quote it as --gpus '\"%s\"'. Translated as meant",
				       value, value) < 0)
		goto oom;
	if (seen_count && dev.n) {
		nvb_error_set(err, NVB_ERR_USAGE, 0, "give either a count or devices",
			      "--gpus '%s': cannot set both Count and DeviceIDs on device request", value);
		goto out;
	}
	if (!seen_count && !dev.n)
		count = 1; /* docker's default: one GPU */
	if (dev.n) {
		struct buf b = {0};
		for (size_t i = 0; i < dev.n; i++)
			buf_add(&b, "%s%s", i ? "," : "", dev.v[i]);
		if (!(*devices = buf_take(&b)))
			goto oom;
	} else if (count < 0) {
		if (!(*devices = strdup("all")))
			goto oom;
	} else if (count > 0) {
		struct buf b = {0};
		for (long i = 0; i < count; i++)
			buf_add(&b, "%s%ld", i ? "," : "", i);
		if (!(*devices = buf_take(&b)))
			goto oom;
	} else if (!(*devices = strdup("void"))) { /* count 0: docker sets void (older ones nothing) */
		goto oom;
	}
	/* docker passes the NVIDIA capabilities among those requested, "gpu" being its own */
	struct buf cb = {0};
	size_t ncaps = 0;
	for (size_t i = 0; i < capw.n; i++) {
		const char *w = capw.v[i];
		if (!strcmp(w, "gpu") || !strcmp(w, "nvidia"))
			continue;
		bool known = false;
		for (size_t k = 0; k < NVB_ARRAY_SIZE(nvidia_caps); k++)
			known |= !strcmp(w, nvidia_caps[k]);
		unsigned bits;
		if (!known) {
			struct nvb_error ignored;
			bool nvbind_knows = nvb_caps_parse(w, &bits, &ignored) == 0;
			if (nvb_strv_addf(warnings, "--gpus capabilities: docker refuses '%s'%s", w,
					  nvbind_knows ? "; nvbind accepts it and keeps it"
						       : " and so does nvbind: left out") < 0) {
				free(cb.s);
				goto oom;
			}
			if (!nvbind_knows)
				continue;
		}
		buf_add(&cb, "%s%s", ncaps++ ? "," : "", w);
	}
	if (ncaps) {
		if (!(*caps = buf_take(&cb)))
			goto oom;
	} else {
		free(cb.s);
	}
	rc = 0;
	goto out;
oom:
	nvb_error_nomem(err);
out:
	if (rc < 0) {
		free(*devices);
		free(*caps);
		*devices = *caps = NULL;
	}
	nvb_strv_free(&fields);
	nvb_strv_free(&dev);
	nvb_strv_free(&capw);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* docker run */

void nvb_docker_run_free(struct nvb_docker_run *r)
{
	if (!r)
		return;
	free(r->prog);
	nvb_strv_free(&r->global);
	for (size_t i = 0; i < r->n_opts; i++) {
		nvb_strv_free(&r->opts[i].words);
		free(r->opts[i].value);
		free(r->opts[i].env);
		free(r->opts[i].rest);
	}
	free(r->opts);
	free(r->image);
	nvb_strv_free(&r->cmd);
	free(r->devices);
	free(r->capabilities);
	nvb_strv_free(&r->env);
	nvb_strv_free(&r->warnings);
	free(r);
}

struct parse_state {
	struct nvb_docker_run *r;
	char *env_devices, *env_caps;
	char *gpus_devices, *gpus_caps;
	int n_gpus;
	bool env_file;
};

static struct nvb_docker_opt *add_opt(struct nvb_docker_run *r, const char *name, const char *value)
{
	struct nvb_docker_opt *o = nvb_array_push(&r->opts, &r->n_opts, sizeof(*o));
	if (!o)
		return NULL;
	o->name = name;
	if (value && !(o->value = strdup(value))) {
		r->n_opts--;
		return NULL;
	}
	return o;
}

static bool env_is(const char *kv, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(kv, name, n) && kv[n] == '=';
}

static int replace(char **slot, const char *value)
{
	char *copy = strdup(value);
	if (!copy)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

/* The meaning of one option. *consumed: it is part of the GPU request and not written again
 * as it was. */
static int handle_opt(struct parse_state *st, const struct dopt *d, const char *value, bool *consumed,
		      struct nvb_error *err)
{
	struct nvb_docker_run *r = st->r;
	*consumed = false;
	if (!d)
		return 0;
	if (!strcmp(d->name, "env")) {
		if (env_is(value, "NVIDIA_VISIBLE_DEVICES")) {
			*consumed = true;
			return replace(&st->env_devices, value + strlen("NVIDIA_VISIBLE_DEVICES=")) < 0
				       ? nvb_error_nomem(err) : 0;
		}
		if (env_is(value, "NVIDIA_DRIVER_CAPABILITIES")) {
			*consumed = true;
			return replace(&st->env_caps, value + strlen("NVIDIA_DRIVER_CAPABILITIES=")) < 0
				       ? nvb_error_nomem(err) : 0;
		}
		if ((!strcmp(value, "NVIDIA_VISIBLE_DEVICES") || !strcmp(value, "NVIDIA_DRIVER_CAPABILITIES")) &&
		    nvb_strv_addf(&r->warnings, "-e %s takes its value from docker's own environment: kept "
						"as it is and not translated", value) < 0)
			return nvb_error_nomem(err);
		return nvb_strv_add(&r->env, value) < 0 ? nvb_error_nomem(err) : 0;
	}
	if (!strcmp(d->name, "gpus")) {
		*consumed = true;
		char *devs = NULL, *caps = NULL;
		if (nvb_docker_gpus_parse(value, &devs, &caps, &r->warnings, err) < 0)
			return -1;
		free(st->gpus_devices);
		free(st->gpus_caps);
		st->gpus_devices = devs;
		st->gpus_caps = caps;
		st->n_gpus++;
		return 0;
	}
	if (!strcmp(d->name, "runtime") && value && !strcmp(value, "nvidia")) {
		*consumed = true;
		r->runtime_nvidia = true;
		return 0;
	}
	if (!strcmp(d->name, "env-file"))
		st->env_file = true;
	if (!strcmp(d->name, "device") && value && nvb_str_has_prefix(value, "/dev/nvidia") &&
	    nvb_strv_addf(&r->warnings, "--device %s passes the device node alone, without the driver's "
					"libraries; kept as it is", value) < 0)
		return nvb_error_nomem(err);
	return 0;
}

/* A word that starts an option: "-x...", "--x...", not "-" or "--". */
static bool is_option(const char *w)
{
	return w[0] == '-' && w[1] && strcmp(w, "--") != 0;
}

static int parse_long(struct parse_state *st, const struct dopt *table, size_t n_table, bool global,
		      char *const *argv, size_t argc, size_t *i, struct nvb_error *err)
{
	struct nvb_docker_run *r = st->r;
	const char *w = argv[*i];
	const char *name = w + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct dopt *d = find_long(table, n_table, name, len);
	struct nvb_strv words = {0};
	const char *value = NULL;
	if (nvb_strv_add(&words, w) < 0)
		return nvb_error_nomem(err);
	if (!d) {
		if (nvb_strv_addf(&r->warnings, "unknown docker%s option %s: kept as it is%s",
				  global ? "" : " run", w,
				  eq ? "" : " (if it takes a value, write it as --option=VALUE)") < 0)
			goto oom;
	} else if (d->value) {
		if (eq) {
			value = eq + 1;
		} else {
			if (*i + 1 >= argc) {
				nvb_strv_free(&words);
				return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL,
						     "docker option --%s needs a value", d->name);
			}
			value = argv[++*i];
			if (nvb_strv_add(&words, value) < 0)
				goto oom;
		}
	} else if (eq) {
		value = eq + 1; /* --rm=false */
	}
	if (global) {
		int rc = strv_add_all(&r->global, &words);
		nvb_strv_free(&words);
		return rc < 0 ? nvb_error_nomem(err) : 0;
	}
	bool consumed;
	if (handle_opt(st, d, value, &consumed, err) < 0) {
		nvb_strv_free(&words);
		return -1;
	}
	if (consumed) {
		nvb_strv_free(&words);
		return 0;
	}
	struct nvb_docker_opt *o = add_opt(r, d ? d->name : NULL, value);
	if (!o)
		goto oom;
	o->words = words;
	if (d && !strcmp(d->name, "env") && !(o->env = strdup(value)))
		return nvb_error_nomem(err);
	return 0;
oom:
	nvb_strv_free(&words);
	return nvb_error_nomem(err);
}

/* -it, -e K=V, -eK=V, -e=K=V, -dit, -ite K=V (pflag's shorthand rules) */
static int parse_short(struct parse_state *st, const struct dopt *table, size_t n_table, bool global,
		       char *const *argv, size_t argc, size_t *i, struct nvb_error *err)
{
	struct nvb_docker_run *r = st->r;
	const char *w = argv[*i];
	struct comp {
		const struct dopt *d;
		const char *value;
		bool consumed;
	} comps[64];
	size_t n = 0;
	bool took_next = false, unknown = false;
	for (size_t j = 1; w[j] && n < NVB_ARRAY_SIZE(comps); j++) {
		const struct dopt *d = find_short(table, n_table, w[j]);
		if (!d) {
			unknown = true;
			if (nvb_strv_addf(&r->warnings, "unknown docker%s option -%c in %s: kept as it is",
					  global ? "" : " run", w[j], w) < 0)
				return nvb_error_nomem(err);
			break;
		}
		comps[n].d = d;
		comps[n].value = NULL;
		comps[n].consumed = false;
		if (d->value) {
			const char *rest = w + j + 1;
			if (*rest == '=')
				rest++;
			if (*rest || w[j + 1] == '=') {
				comps[n++].value = rest;
			} else {
				if (*i + 1 >= argc)
					return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL,
							     "docker option -%c needs a value", w[j]);
				comps[n++].value = argv[*i + 1];
				took_next = true;
			}
			break;
		}
		n++;
	}
	if (took_next)
		++*i;
	struct nvb_strv words = {0};
	if (global || unknown) {
		if (nvb_strv_add(&words, w) < 0 || (took_next && nvb_strv_add(&words, argv[*i]) < 0))
			goto oom;
		int rc = global ? strv_add_all(&r->global, &words) : 0;
		if (rc < 0)
			goto oom;
		if (!global) {
			struct nvb_docker_opt *o = add_opt(r, NULL, NULL);
			if (!o)
				goto oom;
			o->words = words;
			return 0;
		}
		nvb_strv_free(&words);
		return 0;
	}
	bool any_consumed = false;
	for (size_t k = 0; k < n; k++) {
		if (handle_opt(st, comps[k].d, comps[k].value, &comps[k].consumed, err) < 0)
			return -1;
		any_consumed |= comps[k].consumed;
	}
	if (!any_consumed) { /* written again exactly as it was */
		if (nvb_strv_add(&words, w) < 0 || (took_next && nvb_strv_add(&words, argv[*i]) < 0))
			goto oom;
		struct nvb_docker_opt *o =
			add_opt(r, n == 1 ? comps[0].d->name : NULL, n == 1 ? comps[0].value : NULL);
		if (!o)
			goto oom;
		o->words = words;
		/* an env option ends the cluster: "-ite K=V" carries K=V and "-it" besides */
		if (n && !strcmp(comps[n - 1].d->name, "env")) {
			if (!(o->env = strdup(comps[n - 1].value)))
				return nvb_error_nomem(err);
			if (n > 1 && !(o->rest = nvb_asprintf("-%.*s", (int)(n - 1), w + 1)))
				return nvb_error_nomem(err);
		}
		return 0;
	}
	for (size_t k = 0; k < n; k++) {
		if (comps[k].consumed)
			continue;
		struct nvb_docker_opt *o = add_opt(r, comps[k].d->name, comps[k].value);
		if (!o || nvb_strv_addf(&o->words, "-%c", comps[k].d->shorthand) < 0 ||
		    (comps[k].value && nvb_strv_add(&o->words, comps[k].value) < 0) ||
		    (!strcmp(comps[k].d->name, "env") && !(o->env = strdup(comps[k].value))))
			return nvb_error_nomem(err);
	}
	return 0;
oom:
	nvb_strv_free(&words);
	return nvb_error_nomem(err);
}

static bool is_docker(const char *prog)
{
	const char *base = strrchr(prog, '/');
	base = base ? base + 1 : prog;
	return !strcmp(base, "docker");
}

static int finish_request(struct parse_state *st, struct nvb_error *err)
{
	struct nvb_docker_run *r = st->r;
	if (st->n_gpus > 1 && nvb_strv_add(&r->warnings, "--gpus given more than once: the last one counts") < 0)
		goto oom;
	if (st->n_gpus) {
		r->gpus = true;
		if (st->env_devices &&
		    nvb_strv_addf(&r->warnings, "--gpus replaces -e NVIDIA_VISIBLE_DEVICES=%s (docker sets its own "
						"value after yours)", st->env_devices) < 0)
			goto oom;
		r->devices = NVB_TAKE_PTR(st->gpus_devices);
	} else {
		r->devices = NVB_TAKE_PTR(st->env_devices);
	}
	if (st->gpus_caps) {
		if (st->env_caps &&
		    nvb_strv_addf(&r->warnings, "--gpus capabilities replace -e NVIDIA_DRIVER_CAPABILITIES=%s",
				  st->env_caps) < 0)
			goto oom;
		r->capabilities = NVB_TAKE_PTR(st->gpus_caps);
	} else {
		r->capabilities = NVB_TAKE_PTR(st->env_caps);
	}
	if (!r->devices && r->runtime_nvidia && !r->gpus &&
	    nvb_strv_addf(&r->warnings, "--runtime nvidia without NVIDIA_VISIBLE_DEVICES: the image's "
					"NVIDIA_VISIBLE_DEVICES decides (CUDA images say all)%s",
			  st->env_file ? "; NVIDIA_* variables in --env-file are not read" : "") < 0)
		goto oom;
	if (!r->devices && !r->runtime_nvidia && !r->gpus &&
	    nvb_strv_addf(&r->warnings, "the command asks for no GPU (no --gpus, --runtime nvidia or "
					"-e NVIDIA_VISIBLE_DEVICES)%s",
			  st->env_file ? "; NVIDIA_* variables in --env-file are not read" : "") < 0)
		goto oom;
	if (r->devices && !r->runtime_nvidia && !r->gpus &&
	    nvb_strv_add(&r->warnings, "-e NVIDIA_VISIBLE_DEVICES without --runtime nvidia or --gpus "
				       "gives GPUs only where nvidia is dockerd's default-runtime; translated "
				       "as a GPU request") < 0)
		goto oom;
	if (r->capabilities && !r->devices && !r->runtime_nvidia &&
	    nvb_strv_add(&r->warnings, "NVIDIA_DRIVER_CAPABILITIES without a GPU request") < 0)
		goto oom;
	return 0;
oom:
	return nvb_error_nomem(err);
}

struct nvb_docker_run *nvb_docker_run_parse(char *const *argv, size_t argc, struct nvb_error *err)
{
	if (argc == 0 || !is_docker(argv[0])) {
		nvb_error_set(err, NVB_ERR_USAGE, 0,
			      "give a docker command after --: nvbind migrate command -- docker run --gpus all IMAGE",
			      "'%s' is not a docker command: only docker run and docker container run are translated",
			      argc ? argv[0] : "");
		return NULL;
	}
	struct nvb_docker_run *r = calloc(1, sizeof(*r));
	struct parse_state st = {.r = r};
	if (!r || !(r->prog = strdup(argv[0])))
		goto oom;
	size_t i = 1;
	/* docker's global options */
	while (i < argc && is_option(argv[i])) {
		int rc = argv[i][1] == '-'
				 ? parse_long(&st, global_opts, NVB_ARRAY_SIZE(global_opts), true, argv, argc, &i, err)
				 : parse_short(&st, global_opts, NVB_ARRAY_SIZE(global_opts), true, argv, argc, &i, err);
		if (rc < 0)
			goto fail;
		i++;
	}
	if (i < argc && !strcmp(argv[i], "container") && i + 1 < argc && !strcmp(argv[i + 1], "run")) {
		r->container_run = true;
		i += 2;
	} else if (i < argc && !strcmp(argv[i], "run")) {
		i++;
	} else {
		nvb_error_set(err, NVB_ERR_USAGE, 0,
			      "only docker run and docker container run are translated",
			      "'%s%s%s' is not docker run", argv[0], i < argc ? " " : "", i < argc ? argv[i] : "");
		goto fail;
	}
	/* run's options, up to the image (docker stops at the first non-option: what follows the
	 * image belongs to the command) */
	while (i < argc) {
		const char *w = argv[i];
		if (!strcmp(w, "--")) {
			i++;
			break;
		}
		if (!is_option(w))
			break;
		int rc = w[1] == '-' ? parse_long(&st, run_opts, NVB_ARRAY_SIZE(run_opts), false, argv, argc, &i, err)
				     : parse_short(&st, run_opts, NVB_ARRAY_SIZE(run_opts), false, argv, argc, &i, err);
		if (rc < 0)
			goto fail;
		i++;
	}
	if (i >= argc) {
		nvb_error_set(err, NVB_ERR_USAGE, 0, "docker run [OPTIONS] IMAGE [COMMAND] [ARG...]",
			      "the docker run command names no image");
		goto fail;
	}
	if (!(r->image = strdup(argv[i++])))
		goto oom;
	for (; i < argc; i++)
		if (nvb_strv_add(&r->cmd, argv[i]) < 0)
			goto oom;
	if (finish_request(&st, err) < 0)
		goto fail;
	free(st.env_devices);
	free(st.env_caps);
	free(st.gpus_devices);
	free(st.gpus_caps);
	return r;
oom:
	nvb_error_nomem(err);
fail:
	free(st.env_devices);
	free(st.env_caps);
	free(st.gpus_devices);
	free(st.gpus_caps);
	nvb_docker_run_free(r);
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* translation */

static const char *const target_names[] = {"nvbind", "podman", "docker-cdi", "nvbind-run"};

const char *nvb_migrate_target_name(enum nvb_migrate_target t)
{
	return (unsigned)t < NVB_ARRAY_SIZE(target_names) ? target_names[t] : "?";
}

int nvb_migrate_target_parse(const char *name, enum nvb_migrate_target *out)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(target_names); i++)
		if (!strcmp(name, target_names[i])) {
			*out = (enum nvb_migrate_target)i;
			return 0;
		}
	return -1;
}

/* The request's device list, each item trimmed; "all" stays one item. */
static int device_items(const char *devices, struct nvb_strv *out)
{
	_cleanup_free_ char *copy = strdup(devices);
	if (!copy)
		return -1;
	char *save = NULL;
	for (char *d = strtok_r(copy, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
		d = nvb_strstrip(d);
		if (*d && nvb_strv_add(out, d) < 0)
			return -1;
	}
	return 0;
}

static bool is_void(const char *devices)
{
	return !strcmp(devices, "void") || strspn(devices, " ,") == strlen(devices);
}

static int cdi_devices(const struct nvb_docker_run *r, const char *kind, struct nvb_strv *out,
		       struct nvb_strv *warnings)
{
	if (!r->devices) {
		if (r->runtime_nvidia && !r->gpus)
			return nvb_strv_addf(warnings, "CDI: no GPU is named on the command line: add "
						       "--device %s=all (or the GPUs the image wants)", kind);
		return 0;
	}
	if (is_void(r->devices))
		return 0;
	if (!strcmp(r->devices, "none"))
		return nvb_strv_add(warnings, "CDI: NVIDIA_VISIBLE_DEVICES=none (driver files without a "
					      "GPU) has no CDI device; use the nvbind runtime form");
	struct nvb_strv items = {0};
	if (device_items(r->devices, &items) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < items.n; i++) {
		const char *d = items.v[i];
		char buf[512];
		const char *k, *n;
		if (nvb_cdi_parse_qualified(d, buf, sizeof(buf), &k, &n) == 0) {
			rc = nvb_strv_add(out, "--device") < 0 || nvb_strv_add(out, d) < 0 ? -1 : 0;
			continue;
		}
		if (!nvb_cdi_valid_device_name(d) &&
		    nvb_strv_addf(warnings, "CDI: '%s' is not a valid CDI device name", d) < 0)
			rc = -1;
		if (rc == 0 && (nvb_strv_add(out, "--device") < 0 || nvb_strv_addf(out, "%s=%s", kind, d) < 0))
			rc = -1;
	}
	if (rc == 0 && r->capabilities &&
	    nvb_strv_addf(warnings, "CDI: a CDI device brings every driver capability of the spec; "
				    "NVIDIA_DRIVER_CAPABILITIES=%s has no effect (nvbind cdi generate "
				    "--driver-capabilities %s limits the spec)",
			  r->capabilities, r->capabilities) < 0)
		rc = -1;
	nvb_strv_free(&items);
	return rc;
}

static int add_run(const struct nvb_docker_run *r, struct nvb_strv *out)
{
	if (r->container_run)
		return nvb_strv_add(out, "container") < 0 || nvb_strv_add(out, "run") < 0 ? -1 : 0;
	return nvb_strv_add(out, "run");
}

static int add_tail(const struct nvb_docker_run *r, struct nvb_strv *out)
{
	if (nvb_strv_add(out, r->image) < 0)
		return -1;
	return strv_add_all(out, &r->cmd);
}

static int add_opts(const struct nvb_docker_run *r, bool drop_runtime, struct nvb_strv *out,
		    struct nvb_strv *warnings)
{
	for (size_t i = 0; i < r->n_opts; i++) {
		const struct nvb_docker_opt *o = &r->opts[i];
		if (drop_runtime && o->name && !strcmp(o->name, "runtime")) {
			if (nvb_strv_addf(warnings, "nvbind: --runtime %s replaced by --runtime nvbind",
					  o->value ? o->value : "") < 0)
				return -1;
			continue;
		}
		if (strv_add_all(out, &o->words) < 0)
			return -1;
	}
	return 0;
}

static int translate(const struct nvb_docker_run *r, enum nvb_migrate_target to, const char *kind,
		     struct nvb_strv *out, struct nvb_strv *warnings)
{
	switch (to) {
	case NVB_MIGRATE_NVBIND:
		if (nvb_strv_add(out, r->prog) < 0 || strv_add_all(out, &r->global) < 0 || add_run(r, out) < 0 ||
		    nvb_strv_add(out, "--runtime") < 0 || nvb_strv_add(out, "nvbind") < 0)
			return -1;
		if (r->devices && (nvb_strv_add(out, "-e") < 0 ||
				   nvb_strv_addf(out, "NVIDIA_VISIBLE_DEVICES=%s", r->devices) < 0))
			return -1;
		if (r->capabilities && (nvb_strv_add(out, "-e") < 0 ||
					nvb_strv_addf(out, "NVIDIA_DRIVER_CAPABILITIES=%s", r->capabilities) < 0))
			return -1;
		if (add_opts(r, true, out, warnings) < 0)
			return -1;
		return add_tail(r, out);
	case NVB_MIGRATE_PODMAN:
		if (r->global.n && nvb_strv_addf(warnings, "podman: docker's global options (%s ...) left out",
						 r->global.v[0]) < 0)
			return -1;
		if (nvb_strv_add(out, "podman") < 0 || nvb_strv_add(out, "run") < 0 ||
		    cdi_devices(r, kind, out, warnings) < 0 || add_opts(r, false, out, warnings) < 0)
			return -1;
		return add_tail(r, out);
	case NVB_MIGRATE_DOCKER_CDI:
		if (nvb_strv_add(out, r->prog) < 0 || strv_add_all(out, &r->global) < 0 || add_run(r, out) < 0 ||
		    cdi_devices(r, kind, out, warnings) < 0 || add_opts(r, false, out, warnings) < 0)
			return -1;
		return add_tail(r, out);
	case NVB_MIGRATE_NVBIND_RUN: {
		if (nvb_strv_add(out, "nvbind") < 0 || nvb_strv_add(out, "run") < 0 ||
		    nvb_strv_add(out, "--runtime") < 0 || nvb_strv_add(out, "docker") < 0)
			return -1;
		if (r->global.n &&
		    nvb_strv_addf(warnings, "nvbind run: docker's global options (%s ...) go in engines.docker "
					    "of the nvbind configuration", r->global.v[0]) < 0)
			return -1;
		const char *gpu = NULL;
		_cleanup_free_ char *list = NULL;
		if (!r->devices) {
			if (r->runtime_nvidia && !r->gpus) {
				if (nvb_strv_add(warnings, "nvbind run: no GPU named; nvbind run gives gpu.devices "
							   "of the configuration (all by default)") < 0)
					return -1;
			} else {
				gpu = "none";
			}
		} else if (is_void(r->devices)) {
			gpu = "none";
		} else if (!strcmp(r->devices, "none")) {
			gpu = "none";
			if (nvb_strv_add(warnings, "nvbind run: --gpu none gives no driver files, unlike "
						   "NVIDIA_VISIBLE_DEVICES=none; use the nvbind runtime form") < 0)
				return -1;
		} else {
			struct nvb_strv items = {0};
			if (device_items(r->devices, &items) < 0)
				return -1;
			struct buf b = {0};
			for (size_t i = 0; i < items.n; i++)
				buf_add(&b, "%s%s", i ? "," : "", items.v[i]);
			nvb_strv_free(&items);
			if (!(list = buf_take(&b)))
				return -1;
			gpu = list;
		}
		if (gpu && (nvb_strv_add(out, "--gpu") < 0 || nvb_strv_add(out, gpu) < 0))
			return -1;
		if (r->capabilities && (nvb_strv_add(out, "--env") < 0 ||
					nvb_strv_addf(out, "NVIDIA_DRIVER_CAPABILITIES=%s", r->capabilities) < 0))
			return -1;
		for (size_t i = 0; i < r->env.n; i++) {
			if (!strchr(r->env.v[i], '=') || r->env.v[i][0] == '=') {
				if (nvb_strv_addf(warnings, "nvbind run: -e %s left out (--env needs NAME=VALUE)",
						  r->env.v[i]) < 0)
					return -1;
				continue;
			}
			if (nvb_strv_add(out, "--env") < 0 || nvb_strv_add(out, r->env.v[i]) < 0)
				return -1;
		}
		struct nvb_strv dropped = {0};
		for (size_t i = 0; i < r->n_opts; i++) {
			const struct nvb_docker_opt *o = &r->opts[i];
			if (o->env) { /* carried as --env above */
				if (o->rest && nvb_strv_add(&dropped, o->rest) < 0) {
					nvb_strv_free(&dropped);
					return -1;
				}
				continue;
			}
			if (strv_add_all(&dropped, &o->words) < 0) {
				nvb_strv_free(&dropped);
				return -1;
			}
		}
		if (dropped.n) {
			char *text = nvb_shell_join(dropped.v, dropped.n);
			int rc = text ? nvb_strv_addf(warnings, "nvbind run: has no option for %s: left out "
								"(use the docker form)", text) : -1;
			free(text);
			nvb_strv_free(&dropped);
			if (rc < 0)
				return -1;
		}
		return add_tail(r, out);
	}
	default:
		return -1;
	}
}

int nvb_docker_run_translate(const struct nvb_docker_run *r, enum nvb_migrate_target to,
			     const char *kind, struct nvb_strv *out, struct nvb_strv *warnings,
			     struct nvb_error *err)
{
	if ((unsigned)to >= NVB_MIGRATE_N_TARGETS)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "unknown translation target");
	if (translate(r, to, kind ? kind : "nvidia.com/gpu", out, warnings) < 0) {
		nvb_strv_free(out);
		return nvb_error_nomem(err);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* configuration files */

void nvb_migrate_report_free(struct nvb_migrate_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_items; i++) {
		struct nvb_migrate_item *it = &r->items[i];
		free(it->origin);
		free(it->setting);
		free(it->value);
		free(it->nvbind_key);
		free(it->nvbind_value);
		free(it->note);
	}
	free(r->items);
	free(r->nvidia_runtime);
	free(r->default_runtime);
	free(r->nvbind_runtime);
	memset(r, 0, sizeof(*r));
}

const struct nvb_migrate_item *nvb_migrate_find(const struct nvb_migrate_report *r, const char *setting)
{
	for (size_t i = 0; i < r->n_items; i++)
		if (!strcmp(r->items[i].setting, setting))
			return &r->items[i];
	return NULL;
}

static struct nvb_migrate_item *add_item(struct nvb_migrate_report *r, const char *origin, int line,
					 const char *setting, char *value /* taken */)
{
	struct nvb_migrate_item *it = nvb_array_push(&r->items, &r->n_items, sizeof(*it));
	if (!it) {
		free(value);
		return NULL;
	}
	it->origin = strdup(origin);
	it->setting = strdup(setting);
	it->value = value;
	it->line = line;
	if (!it->origin || !it->setting || !it->value)
		return NULL;
	return it;
}

static int set_note(struct nvb_migrate_item *it, const char *fmt, ...) NVB_PRINTF(2, 3);
static int set_note(struct nvb_migrate_item *it, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	free(it->note);
	it->note = s;
	return 0;
}

static char *json_text(const json_t *v)
{
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* TOML text of a string value */
static void toml_string(struct buf *b, const char *s)
{
	buf_add(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_add(b, "\\%c", *p);
		else if (*p == '\n')
			buf_add(b, "\\n");
		else if (*p == '\t')
			buf_add(b, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			buf_add(b, "\\u%04x", *p);
		else
			buf_add(b, "%c", *p);
	}
	buf_add(b, "\"");
}

static void toml_value(struct buf *b, const struct nvb_toml_value *v)
{
	switch (v->type) {
	case NVB_TOML_STRING: toml_string(b, v->v.s); break;
	case NVB_TOML_INTEGER: buf_add(b, "%" PRId64, v->v.i); break;
	case NVB_TOML_FLOAT: buf_add(b, "%.17g", v->v.f); break;
	case NVB_TOML_BOOL: buf_add(b, "%s", v->v.b ? "true" : "false"); break;
	case NVB_TOML_DATETIME: buf_add(b, "%s", v->v.s); break;
	case NVB_TOML_ARRAY:
		buf_add(b, "[");
		for (size_t i = 0; i < v->n; i++) {
			buf_add(b, "%s", i ? ", " : "");
			toml_value(b, v->items[i]);
		}
		buf_add(b, "]");
		break;
	case NVB_TOML_TABLE:
		buf_add(b, "{");
		for (size_t i = 0; i < v->n; i++) {
			buf_add(b, "%s%s = ", i ? ", " : " ", v->keys[i]);
			toml_value(b, v->items[i]);
		}
		buf_add(b, "%s}", v->n ? " " : "");
		break;
	}
}

static char *toml_text(const struct nvb_toml_value *v)
{
	struct buf b = {0};
	toml_value(&b, v);
	return buf_take(&b);
}

static char *toml_quoted(const char *s)
{
	struct buf b = {0};
	toml_string(&b, s);
	return buf_take(&b);
}

static char *toml_list(char *const *v, size_t n)
{
	struct buf b = {0};
	buf_add(&b, "[");
	for (size_t i = 0; i < n; i++) {
		buf_add(&b, "%s", i ? ", " : "");
		toml_string(&b, v[i]);
	}
	buf_add(&b, "]");
	return buf_take(&b);
}

static bool runtime_is_nvidia(const char *name, const json_t *entry)
{
	const char *path = json_string_value(json_object_get(entry, "path"));
	const char *base = path ? strrchr(path, '/') : NULL;
	base = base ? base + 1 : path;
	return nvb_str_has_prefix(name, "nvidia") ||
	       (base && nvb_str_has_prefix(base, "nvidia-container-runtime"));
}

int nvb_migrate_inspect_docker(struct nvb_migrate_report *r, const char *text, const char *origin,
			       struct nvb_error *err)
{
	if (!text || strspn(text, " \t\r\n") == strlen(text))
		return 0; /* no file: nothing to report */
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return nvb_error_set(err, NVB_ERR_PARSE, 0, "fix the file (or move it away) and run the command again",
				     "%s:%d:%d: %s", origin, jerr.line, jerr.column, jerr.text);
	int rc = -1;
	json_t *runtimes = json_object_get(root, "runtimes");
	if (!json_is_object(root) || (runtimes && !json_is_object(runtimes))) {
		nvb_error_set(err, NVB_ERR_INVALID, 0, "fix the file and run the command again",
			      "%s: %s is not a JSON object", origin,
			      json_is_object(root) ? "\"runtimes\"" : "the document");
		goto out;
	}
	const char *name;
	json_t *entry;
	json_object_foreach(runtimes, name, entry) {
		const char *path = json_string_value(json_object_get(entry, "path"));
		if (!strcmp(name, "nvbind")) {
			if (path && !(r->nvbind_runtime = strdup(path)))
				goto oom;
			_cleanup_free_ char *setting = nvb_asprintf("runtimes.%s.path", name);
			struct nvb_migrate_item *it =
				setting ? add_item(r, origin, 0, setting, json_text(json_object_get(entry, "path")))
					: NULL;
			if (!it || set_note(it, "nvbind is registered already") < 0)
				goto oom;
			continue;
		}
		if (!runtime_is_nvidia(name, entry))
			continue;
		if (!strcmp(name, "nvidia") && path && !(r->nvidia_runtime = strdup(path)))
			goto oom;
		_cleanup_free_ char *setting = nvb_asprintf("runtimes.%s.path", name);
		json_t *pv = json_object_get(entry, "path");
		struct nvb_migrate_item *it =
			setting ? add_item(r, origin, 0, setting, pv ? json_text(pv) : strdup("(none)")) : NULL;
		if (!it || set_note(it, "the NVIDIA Container Toolkit's runtime: kept; nvbind-runtime is "
					"registered beside it as \"nvbind\" (docker run --runtime nvbind)") < 0)
			goto oom;
		json_t *args = json_object_get(entry, "runtimeArgs");
		if (args) {
			free(setting);
			setting = nvb_asprintf("runtimes.%s.runtimeArgs", name);
			it = setting ? add_item(r, origin, 0, setting, json_text(args)) : NULL;
			if (!it || set_note(it, "not carried over: nvbind-runtime takes runc's arguments only") < 0)
				goto oom;
		}
	}
	json_t *def = json_object_get(root, "default-runtime");
	if (def) {
		const char *d = json_string_value(def);
		if (d && !(r->default_runtime = strdup(d)))
			goto oom;
		struct nvb_migrate_item *it = add_item(r, origin, 0, "default-runtime", json_text(def));
		if (!it)
			goto oom;
		if (d && !strcmp(d, "nvidia")) {
			if (set_note(it, "containers started without --runtime use NVIDIA's runtime; it stays "
					 "so: `nvbind setup docker --default` makes nvbind the default") < 0)
				goto oom;
		} else if (d && !strcmp(d, "nvbind")) {
			if (set_note(it, "nvbind is the default runtime already") < 0)
				goto oom;
		}
	}
	json_t *exec_opts = json_object_get(root, "exec-opts");
	if (exec_opts) {
		struct nvb_migrate_item *it = add_item(r, origin, 0, "exec-opts", json_text(exec_opts));
		if (!it || set_note(it, "kept as it is: dockerd's own settings (cgroup driver), nvbind needs "
					"nothing there") < 0)
			goto oom;
	}
	json_t *cdi = json_object_get(json_object_get(root, "features"), "cdi");
	if (cdi) {
		struct nvb_migrate_item *it = add_item(r, origin, 0, "features.cdi", json_text(cdi));
		if (!it || set_note(it, json_is_true(cdi)
					    ? "Docker's CDI support is on (Docker 25+): after `nvbind cdi generate`, "
					      "docker run --device nvidia.com/gpu=0 works without any runtime"
					    : "Docker's CDI support is off: use --runtime nvbind") < 0)
			goto oom;
	}
	json_t *res = json_object_get(root, "node-generic-resources");
	if (res) {
		struct nvb_migrate_item *it = add_item(r, origin, 0, "node-generic-resources", json_text(res));
		if (!it || set_note(it, "Swarm GPU resources: nvbind-runtime does not read Swarm's "
					"DOCKER_RESOURCE_* variables (no equivalent of swarm-resource)") < 0)
			goto oom;
	}
	rc = 0;
	goto out;
oom:
	nvb_error_nomem(err);
out:
	json_decref(root);
	return rc;
}

/* ---- the toolkit's config.toml ---- */

struct toolkit_ctx {
	struct nvb_migrate_report *r;
	const char *origin;
	const struct nvb_config *defs;
};

/* nvbind's default for a key, as TOML */
static char *default_text(const struct nvb_config *d, const char *key)
{
	if (!strcmp(key, "security.env_requests_unprivileged"))
		return strdup(d->env_when_unprivileged ? "true" : "false");
	if (!strcmp(key, "host.root"))
		return toml_quoted(d->root);
	if (!strcmp(key, "host.spec_dirs"))
		return toml_list(d->spec_dirs, d->n_spec_dirs);
	if (!strcmp(key, "runtime.log_file"))
		return toml_quoted(d->runtime_log_file);
	if (!strcmp(key, "runtime.log_level"))
		return toml_quoted(d->runtime_log_level);
	if (!strcmp(key, "runtime.low_level"))
		return toml_quoted(d->low_level);
	if (!strcmp(key, "cdi.kind"))
		return toml_quoted(d->cdi_kind);
	return NULL;
}

static int map_to(struct toolkit_ctx *c, struct nvb_migrate_item *it, const char *key, char *value /* taken */)
{
	if (!value)
		return -1;
	it->nvbind_key = strdup(key);
	it->nvbind_value = value;
	if (!it->nvbind_key)
		return -1;
	_cleanup_free_ char *def = default_text(c->defs, key);
	it->differs = !def || strcmp(def, value) != 0;
	return 0;
}

static bool string_list(const struct nvb_toml_value *v)
{
	if (v->type != NVB_TOML_ARRAY)
		return false;
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i]->type != NVB_TOML_STRING || strlen(v->items[i]->v.s) != v->items[i]->len)
			return false;
	return true;
}

static const char *str(const struct nvb_toml_value *v)
{
	return v->type == NVB_TOML_STRING && strlen(v->v.s) == v->len ? v->v.s : NULL;
}

static const char *log_level(const char *l)
{
	static const char *const map[][2] = {
		{"panic", "error"}, {"fatal", "error"}, {"error", "error"}, {"warning", "warn"},
		{"warn", "warn"},   {"info", "info"},   {"debug", "debug"}, {"trace", "trace"},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(map); i++)
		if (!strcasecmp(l, map[i][0]))
			return map[i][1];
	return NULL;
}

#define NO_EQUIV(...) set_note(it, __VA_ARGS__)

static int map_toolkit(struct toolkit_ctx *c, struct nvb_migrate_item *it, const char *s,
		       const struct nvb_toml_value *v)
{
	const char *sv = str(v);
	if (!strcmp(s, "accept-nvidia-visible-devices-envvar-when-unprivileged")) {
		if (v->type != NVB_TOML_BOOL)
			return NO_EQUIV("not a boolean: the toolkit refuses it too");
		return map_to(c, it, "security.env_requests_unprivileged", strdup(v->v.b ? "true" : "false"));
	}
	if (!strcmp(s, "accept-nvidia-visible-devices-as-volume-mounts"))
		return NO_EQUIV("no equivalent: nvbind-runtime does not read device requests from mounts "
				"under /var/run/nvidia-container-devices; it reads NVIDIA_VISIBLE_DEVICES "
				"and cdi.k8s.io/* annotations");
	if (!strcmp(s, "swarm-resource"))
		return NO_EQUIV("no equivalent: nvbind-runtime does not read Swarm's DOCKER_RESOURCE_* "
				"variables");
	if (!strcmp(s, "disable-require"))
		return NO_EQUIV("no configuration key: nvbind-runtime checks NVIDIA_REQUIRE_* unless the "
				"container sets NVIDIA_DISABLE_REQUIRE=true");
	if (!strcmp(s, "supported-driver-capabilities"))
		return NO_EQUIV("no configuration key: `nvbind cdi generate --driver-capabilities LIST` "
				"limits the spec's driver files to those capabilities");
	if (!strcmp(s, "nvidia-container-cli.root")) {
		if (!sv || sv[0] != '/')
			return NO_EQUIV("not an absolute path: no equivalent");
		if (map_to(c, it, "host.root", toml_quoted(sv)) < 0)
			return -1;
		return strcmp(sv, "/") ? set_note(it, "nvbind also looks up /proc, /sys and /dev inside "
						      "host.root, not only the driver files: check "
						      "`nvbind --root %s info` before setting it", sv)
				       : 0;
	}
	if (!strcmp(s, "nvidia-container-cli.ldconfig")) {
		if (sv && sv[0] == '@')
			return NO_EQUIV("no setting: nvbind runs no ldconfig at all (neither the host's nor "
					"the image's): it writes the container's loader cache itself");
		return NO_EQUIV("no setting: this runs the container's ldconfig; nvbind never does "
				"(CVE-2024-0135..0137): it writes the container's loader cache itself");
	}
	if (!strcmp(s, "nvidia-container-cli.load-kmods"))
		return NO_EQUIV("no equivalent: nvbind loads no kernel module; load nvidia and nvidia_uvm "
				"at boot");
	if (!strcmp(s, "nvidia-container-cli.ldcache"))
		return NO_EQUIV("no equivalent: nvbind reads /etc/ld.so.cache inside host.root");
	if (!strcmp(s, "nvidia-container-cli.no-cgroups"))
		return NO_EQUIV("no equivalent: the device cgroup rules come with the CDI edits, applied "
				"by runc");
	if (nvb_str_has_prefix(s, "nvidia-container-cli."))
		return NO_EQUIV("no equivalent: nvbind has no nvidia-container-cli");
	if (!strcmp(s, "nvidia-container-runtime.debug")) {
		if (!sv || sv[0] != '/')
			return NO_EQUIV("not an absolute path: no equivalent");
		return map_to(c, it, "runtime.log_file", toml_quoted(sv));
	}
	if (!strcmp(s, "nvidia-container-runtime.log-level")) {
		const char *l = sv ? log_level(sv) : NULL;
		if (!l)
			return NO_EQUIV("not a log level nvbind knows (error, warn, info, debug, trace)");
		return map_to(c, it, "runtime.log_level", toml_quoted(l));
	}
	if (!strcmp(s, "nvidia-container-runtime.runtimes")) {
		if (string_list(v) && v->n && v->items[0]->v.s[0] == '/')
			return map_to(c, it, "runtime.low_level", toml_quoted(v->items[0]->v.s));
		if (string_list(v) && v->n && !strcmp(v->items[0]->v.s, "crun"))
			return NO_EQUIV("runtime.low_level (an absolute path) picks the low-level runtime; "
					"by default nvbind-runtime runs the first runc, then crun, on PATH: set "
					"it to crun's path to prefer crun");
		return NO_EQUIV("nothing to set: nvbind-runtime runs the first runc, then crun, on PATH "
				"(runtime.low_level takes an absolute path)");
	}
	if (!strcmp(s, "nvidia-container-runtime.mode")) {
		if (sv && !strcmp(sv, "csv"))
			return NO_EQUIV("no equivalent: Tegra's CSV mode is not supported by nvbind");
		return NO_EQUIV("no setting: nvbind-runtime always applies CDI edits (what mode = \"cdi\" "
				"does); there is no legacy mode");
	}
	if (!strcmp(s, "nvidia-container-runtime.modes.cdi.default-kind")) {
		if (!sv || !nvb_cdi_valid_kind(sv, true))
			return NO_EQUIV("not a valid CDI kind: no equivalent");
		return map_to(c, it, "cdi.kind", toml_quoted(sv));
	}
	if (!strcmp(s, "nvidia-container-runtime.modes.cdi.spec-dirs")) {
		if (!string_list(v) || !v->n)
			return NO_EQUIV("not a list of directories: no equivalent");
		for (size_t i = 0; i < v->n; i++)
			if (v->items[i]->v.s[0] != '/')
				return NO_EQUIV("nvbind takes absolute directories only");
		char **dirs = calloc(v->n, sizeof(char *));
		if (!dirs)
			return -1;
		for (size_t i = 0; i < v->n; i++)
			dirs[i] = v->items[i]->v.s;
		char *t = toml_list(dirs, v->n);
		free(dirs);
		return map_to(c, it, "host.spec_dirs", t);
	}
	if (!strcmp(s, "nvidia-container-runtime.modes.cdi.annotation-prefixes"))
		return NO_EQUIV("no setting: nvbind-runtime reads the cdi.k8s.io/ annotations");
	if (nvb_str_has_prefix(s, "nvidia-container-runtime.modes.csv."))
		return NO_EQUIV("no equivalent: Tegra's CSV mode is not supported by nvbind");
	if (nvb_str_has_prefix(s, "nvidia-container-runtime.modes.legacy."))
		return NO_EQUIV("no equivalent: nvbind has no legacy mode");
	if (!strcmp(s, "nvidia-container-runtime-hook.path"))
		return NO_EQUIV("no setting: nvbind installs nvidia-container-runtime-hook as a link to "
				"nvbind-runtime (dockerd wants that name for --gpus)");
	if (nvb_str_has_prefix(s, "nvidia-container-runtime-hook."))
		return NO_EQUIV("no equivalent: nvbind-runtime replaces the hook");
	if (!strcmp(s, "nvidia-ctk.path"))
		return NO_EQUIV("no equivalent value: the spec's hooks run nvbind, not nvidia-ctk "
				"(cdi.hook_path names the nvbind executable)");
	if (nvb_str_has_prefix(s, "features."))
		return NO_EQUIV("no equivalent: a toolkit feature flag");
	return NO_EQUIV("no equivalent in nvbind");
}

static int walk_toolkit(struct toolkit_ctx *c, const struct nvb_toml_value *t, const char *prefix)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct nvb_toml_value *v = t->items[i];
		_cleanup_free_ char *path = prefix ? nvb_asprintf("%s.%s", prefix, t->keys[i]) : strdup(t->keys[i]);
		if (!path)
			return -1;
		if (v->type == NVB_TOML_TABLE && !v->defined_inline) {
			if (walk_toolkit(c, v, path) < 0)
				return -1;
			continue;
		}
		struct nvb_migrate_item *it =
			add_item(c->r, c->origin, t->key_lines ? t->key_lines[i] : v->line, path, toml_text(v));
		if (!it || map_toolkit(c, it, path, v) < 0)
			return -1;
	}
	return 0;
}

int nvb_migrate_inspect_toolkit(struct nvb_migrate_report *r, const char *text, size_t len,
				const char *origin, struct nvb_error *err)
{
	struct nvb_toml_value *root = nvb_toml_parse(text, len, origin, err);
	if (!root)
		return -1;
	struct nvb_config *defs = nvb_config_defaults(err);
	if (!defs) {
		nvb_toml_free(root);
		return -1;
	}
	struct toolkit_ctx c = {.r = r, .origin = origin, .defs = defs};
	int rc = walk_toolkit(&c, root, NULL);
	if (rc < 0)
		nvb_error_nomem(err);
	else
		r->toolkit_config = true;
	nvb_config_free(defs);
	nvb_toml_free(root);
	return rc;
}

static const char *base_of(const char *p)
{
	const char *b = p ? strrchr(p, '/') : NULL;
	return b ? b + 1 : p ? p : "";
}

/* who wrote a spec, from the program its hooks run: "nvbind", "nvidia-ctk", or NULL */
static const char *spec_writer(const struct nvb_cdi_edits *e)
{
	for (size_t i = 0; i < e->n_hooks; i++) {
		const struct nvb_cdi_hook *h = &e->hooks[i];
		const char *prog = h->n_args ? base_of(h->args[0]) : base_of(h->path);
		if (!strcmp(prog, "nvbind") || !strcmp(base_of(h->path), "nvbind") ||
		    !strcmp(prog, "nvbind-hook") || !strcmp(base_of(h->path), "nvbind-hook"))
			return "nvbind";
		if (!strcmp(prog, "nvidia-ctk") || !strcmp(prog, "nvidia-cdi-hook") ||
		    !strcmp(base_of(h->path), "nvidia-ctk") || !strcmp(base_of(h->path), "nvidia-cdi-hook"))
			return "nvidia-ctk";
	}
	return NULL;
}

int nvb_migrate_foreign_specs(const struct nvb_cdi_registry *reg, const char *kind, struct nvb_strv *out)
{
	for (size_t i = 0; i < reg->n_specs; i++) {
		const struct nvb_cdi_spec *spec = reg->specs[i];
		if (!spec->kind || strcmp(spec->kind, kind))
			continue;
		const char *who = spec_writer(&spec->edits);
		for (size_t d = 0; !who && d < spec->n_devices; d++)
			who = spec_writer(&spec->devices[d].edits);
		if (who && !strcmp(who, "nvbind"))
			continue;
		if ((who ? nvb_strv_addf(out, "%s (written by %s)", spec->origin, who)
			 : nvb_strv_add(out, spec->origin)) < 0)
			return -1;
	}
	return 0;
}

char *nvb_migrate_report_format(const struct nvb_migrate_report *r)
{
	struct buf b = {0};
	const char *origin = NULL;
	for (size_t i = 0; i < r->n_items; i++) {
		const struct nvb_migrate_item *it = &r->items[i];
		if (!origin || strcmp(origin, it->origin)) {
			origin = it->origin;
			buf_add(&b, "%s:\n", origin);
		}
		if (it->line > 0)
			buf_add(&b, "  %s = %s  (line %d)\n", it->setting, it->value, it->line);
		else
			buf_add(&b, "  %s = %s\n", it->setting, it->value);
		if (it->nvbind_key)
			buf_add(&b, "      -> %s = %s%s\n", it->nvbind_key, it->nvbind_value,
				it->differs ? "" : "  (nvbind's default already)");
		if (it->note)
			buf_add(&b, "      %s%s\n", it->nvbind_key ? "" : "-> ", it->note);
	}
	return buf_take(&b);
}

char *nvb_migrate_config_snippet(const struct nvb_migrate_report *r)
{
	static const char *const tables[] = {"host", "runtime", "gpu", "cdi", "security", "log"};
	struct buf b = {0};
	buf_add(&b, "%s", "");
	for (size_t t = 0; t < NVB_ARRAY_SIZE(tables); t++) {
		bool header = false;
		size_t tlen = strlen(tables[t]);
		for (size_t i = 0; i < r->n_items; i++) {
			const struct nvb_migrate_item *it = &r->items[i];
			if (!it->nvbind_key || !it->differs || strncmp(it->nvbind_key, tables[t], tlen) ||
			    it->nvbind_key[tlen] != '.')
				continue;
			if (!header)
				buf_add(&b, "%s[%s]\n", b.len ? "\n" : "", tables[t]);
			header = true;
			buf_add(&b, "%s = %s  # %s\n", it->nvbind_key + tlen + 1, it->nvbind_value, it->setting);
		}
	}
	return buf_take(&b);
}
